"""The stages after ingest, as one call: OCR what is pending, then bring projections up to date.

`project_now` lives in project/refresh.py; it is imported here for the callers of this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..eventlog import EventStore
from ..ingest.blobs import open_blobs
from ..project.refresh import project_now
from ..settings import Settings
from .engines import plan_for
from .processor import Job, Outcome, Processor

__all__ = ["process_and_project", "processor_for", "project_now"]


def processor_for(settings: Settings, store: EventStore) -> Processor:
    """A processor using the engine the settings choose (OBSERVATORY_OCR_ENGINE)."""
    return Processor(store, settings.events_dir, workers=settings.workers, engines=plan_for(settings),
                     blobs=open_blobs(settings))


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
