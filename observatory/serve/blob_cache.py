"""The image of a screenshot as a local file, for the pages that show it, wherever the blob store is.

Thumbnails, crops and the full image are made from a file. With the folder backend that
is the blob itself; with S3 (OBSERVATORY_BLOB_URL) the blob is downloaded once into a
private cache folder and kept: a blob is content-addressed, so a cached copy is never stale.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..ingest.blobs import open_blobs
from .thumbnails import SHA256, blob_file

_stores: dict[str, Any] = {}
_lock = threading.Lock()


def cache_dir() -> Path:
    path = Path(tempfile.gettempdir()) / f"observatory-blob-cache-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def local_blob(events_dir: Path, blob_path: str, settings: Any) -> Path | None:
    """A readable file holding the blob an event names; None when it is not stored (or the path is not a blob's).

    `events_dir`: the served folder (the plugin's configuration); `settings` say whether blobs are in S3.
    """
    if not settings.blob_url:
        path = blob_file(Path(events_dir), blob_path)
        return path if path is not None and path.is_file() else None
    name = blob_path.rsplit("/", 1)[-1]
    if not SHA256.match(name.split(".", 1)[0]) or blob_path != f"blobs/{name[:2]}/{name}":
        return None
    cached = cache_dir() / name
    if cached.is_file():
        return cached
    with _lock:
        store = _stores.get(settings.blob_url) or _stores.setdefault(settings.blob_url, open_blobs(settings))
    return cached if store.download(blob_path, cached) else None
