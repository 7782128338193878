"""The stages after ingest, as one call: OCR what is pending, then bring projections up to date."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..eventlog import EventStore
from ..project import all_projectors, catch_up, open_db
from ..settings import Settings
from .processor import Job, Outcome, Processor


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
    jobs: Sequence[Job],
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """OCR `jobs` in a process pool, then bring the projections up to date."""
    outcomes: list[Outcome] = []
    if jobs:
        with Processor(store, settings.events_dir, workers=settings.workers) as proc:
            outcomes = proc.run(jobs, progress=progress)
    project_now(settings, store)
    return outcomes
