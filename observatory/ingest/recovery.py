"""Start-up checks of the blob store against the log.

A crash between writing a blob and appending its event leaves a blob no event
names (so does restoring an older backup). If its source file is still in the inbox
the first scan re-adopts it (same content → same blob, then the event). Whatever is
still unclaimed after that scan is reported, never deleted: it is the only copy we
may have. `observatory status` lists them every time, not only the daemon's log once.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..eventlog import EventStore
from .blobs import BlobStore

log = logging.getLogger(__name__)


# A blob younger than this may be an ingest in progress (written, its event about to be appended).
IN_FLIGHT_SECONDS = 60.0


def ingested_shas(store: EventStore) -> set[str]:
    """Every sha256 with a ScreenshotIngested event, straight from SQL: status runs this on big logs."""
    return store.stored_field("ScreenshotIngested", "sha256")


def orphan_blobs(store: EventStore, blobs: BlobStore, *, settled_for: float = 0.0) -> dict[str, Path]:
    """Blobs (sha256 → path) without a ScreenshotIngested event, ignoring those written in the last `settled_for` s."""
    return unclaimed(blobs, ingested_shas(store), settled_for=settled_for)


def unclaimed(blobs: BlobStore, have: set[str], *, settled_for: float = 0.0) -> dict[str, Path]:
    """Blobs whose sha256 is not in `have`, ignoring those written in the last `settled_for` seconds."""
    cutoff = time.time() - settled_for
    out = {}
    for sha, path in blobs.iter_blobs():
        if sha in have:
            continue
        try:
            if settled_for and path.stat().st_mtime > cutoff:
                continue
        except OSError:
            continue  # gone meanwhile
        out[sha] = path
    return out


def clean_temp_files(blobs: BlobStore) -> None:
    n = blobs.remove_temp_files()
    if n:
        log.info("removed %d half-written blob temp file(s) left by an interrupted run", n)

