"""Bring the projections up to date with the log: catch up, or rebuild when they cannot be caught up.

Every stage that appends events (processing, corrections, ingest) calls this after
appending; it lives here, beside the projections, so those stages reach it from
above (process) or have it handed in by the CLI (correct, ingest).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..eventlog import EventStore
from ..settings import Settings
from . import all_projectors
from .framework import ReplayNeeded, catch_up, open_db
from .rebuild import rebuild

log = logging.getLogger(__name__)


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
