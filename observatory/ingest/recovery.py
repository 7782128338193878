"""Start-up checks of the blob store against the log.

A crash between writing a blob and appending its event leaves a blob no event
names. If its source file is still in the inbox the first scan re-adopts it (same
content → same blob, then the event). Whatever is still unclaimed after that scan
is reported, never deleted: it is the only copy we may have.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..eventlog import EventStore
from .blobs import BlobStore

log = logging.getLogger(__name__)


def ingested_shas(store: EventStore) -> set[str]:
    return {e.payload["sha256"] for e in store.read(types=["ScreenshotIngested"])}


def orphan_blobs(store: EventStore, blobs: BlobStore) -> dict[str, Path]:
    """Blobs (sha256 → path) without a ScreenshotIngested event."""
    have = ingested_shas(store)
    return {sha: path for sha, path in blobs.iter_blobs() if sha not in have}


def clean_temp_files(blobs: BlobStore) -> None:
    n = blobs.remove_temp_files()
    if n:
        log.info("removed %d half-written blob temp file(s) left by an interrupted run", n)

