"""The stages after ingest, as one call: OCR what is pending, then bring projections up to date."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from ..eventlog import EventStore
from ..project import ReplayNeeded, all_projectors, catch_up, open_db
from ..project.rebuild import rebuild
from ..settings import Settings
from .engines import plan_for
from .processor import Job, Outcome, Processor

log = logging.getLogger(__name__)


def processor_for(settings: Settings, store: EventStore) -> Processor:
    """A processor using the engine the settings choose (OBSERVATORY_OCR_ENGINE)."""
    return Processor(store, settings.events_dir, workers=settings.workers, engines=plan_for(settings))


def project_now(
    settings: Settings, store: EventStore, progress: Callable[[int], None] | None = None, *, settle: bool = True
) -> int:
    """Apply every event the projections have not seen yet; rebuild them when they cannot be caught up."""
    settings.projections_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(settings.projections_db)
    try:
        return catch_up(store, db, all_projectors(settings), batch_size=settings.projection_batch_size,
                        progress=progress, settle=settle)
    except ReplayNeeded as exc:
        log.warning("%s: rebuilding the projections from the log", exc)
    finally:
        db.conn.close()
    return rebuild(store, settings.projections_db, all_projectors(settings), batch_size=settings.projection_batch_size,
                   progress=progress)


def process_and_project(
    settings: Settings,
    store: EventStore,
    jobs: Sequence[Job],
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """OCR `jobs` in a process pool, then bring the projections up to date."""
    outcomes: list[Outcome] = []
    if jobs:
        with processor_for(settings, store) as proc:
            outcomes = proc.run(jobs, progress=progress)
    project_now(settings, store)
    return outcomes
