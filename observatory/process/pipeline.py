"""The stages after ingest, as one call: OCR what is pending, then bring projections up to date."""

from __future__ import annotations

from collections.abc import Callable

from ..eventlog import EventStore
from ..project import all_projectors, catch_up, open_db
from ..settings import Settings
from .processor import Outcome, Processor, pending_screenshots


def project_now(settings: Settings, store: EventStore, progress: Callable[[int], None] | None = None) -> int:
    """Apply every event the projections have not seen yet."""
    settings.projections_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(settings.projections_db)
    try:
        return catch_up(store, db, all_projectors(), batch_size=settings.projection_batch_size, progress=progress)
    finally:
        db.conn.close()


def process_and_project(
    settings: Settings,
    store: EventStore,
    processor: Processor | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Extract every pending screenshot, then project. Reuses `processor`'s pool when given."""
    own = processor is None
    proc = processor or Processor(store, settings.events_dir, workers=settings.workers)
    try:
        outcomes = proc.process_pending(progress=progress)
    finally:
        if own:
            proc.close()
    project_now(settings, store)
    return outcomes


__all__ = ["pending_screenshots", "process_and_project", "project_now"]
