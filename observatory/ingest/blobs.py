"""The content-addressed blob store: events/blobs/<first 2 hex>/<sha256>.<ext>.

A blob is written durably (temp name in the same folder, fsync, rename, fsync of the
folder) before the event that names it is appended, so an event never points at a
missing file. A crash in between leaves at most a blob without an event, which
`orphans()` finds on the next start.

This is the default backend: a folder, which may be a mount every OCR worker shares.
`s3blobs.py` keeps the same keys in S3-compatible object storage; `open_blobs` picks
one from OBSERVATORY_BLOB_URL. Events name a blob by the same relative path
(`blobs/<2 hex>/<sha256>.<ext>`) whichever backend holds it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TMP_PREFIX = ".tmp-"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStoreUnavailable(Exception):
    """The configured blob store cannot be used; `str()` is the one line shown to the user."""


class BlobStore:
    remote = False  # a reader gets the file itself, not a downloaded copy

    def __init__(self, blobs_dir: Path, events_dir: Path) -> None:
        self.root = blobs_dir
        self.events_dir = events_dir

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.{ext}"

    def relative(self, path: Path) -> str:
        """A blob's path relative to the events dir, as events record it."""
        return path.relative_to(self.events_dir).as_posix()

    def put(self, sha256: str, ext: str, data: bytes) -> str:
        """Store `data` durably under its hash; returns the path relative to the events dir."""
        final = self.path_for(sha256, ext)
        if final.exists() and final.stat().st_size == len(data):
            return self.relative(final)  # same content-address, same size: written before (or re-adopted)
        new_dir = not final.parent.exists()
        final.parent.mkdir(parents=True, exist_ok=True)
        if new_dir:
            _fsync_dir(self.root)
        tmp = final.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        return self.relative(final)

    def check(self) -> None:
        """A folder is made on first use: nothing to check up front."""

    def exists(self, blob_path: str) -> bool:
        """Whether the blob an event names (`blobs/ab/<sha256>.<ext>`) is stored."""
        return (self.events_dir / blob_path).is_file()

    def get(self, blob_path: str) -> bytes:
        """The bytes of the blob an event names; FileNotFoundError when it is not stored."""
        return (self.events_dir / blob_path).read_bytes()

    def local_copy(self, blob_path: str) -> Path:
        """A file an OCR worker can read: here, the blob itself (it may not exist: the reader reports that)."""
        return self.events_dir / blob_path

    def drop_local_copy(self, path: Path) -> None:
        """Done reading `local_copy`'s file: nothing to do for the folder itself."""

    def iter_blobs(self) -> Iterator[tuple[str, Path]]:
        """(sha256, path) of every finished blob."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if not sub.is_dir():
                continue
            for f in sorted(sub.iterdir()):
                if not f.name.startswith(TMP_PREFIX) and f.is_file():
                    yield f.name.split(".", 1)[0], f

    def remove_temp_files(self) -> int:
        """Delete half-written temp files left by a crash (they never had an event)."""
        n = 0
        if self.root.is_dir():
            for f in self.root.glob(f"*/{TMP_PREFIX}*"):
                f.unlink(missing_ok=True)
                n += 1
        return n

    @staticmethod
    def content_ok(sha256: str, path: Path) -> bool:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest() == sha256


def open_blobs(settings: Any) -> Any:
    """The blob store the settings name: the folder EVENTS_DIR/blobs, or S3 for OBSERVATORY_BLOB_URL=s3://…"""
    if getattr(settings, "blob_url", None):
        from .s3blobs import S3BlobStore

        return S3BlobStore(settings.blob_url, settings.events_dir)
    return BlobStore(settings.blobs_dir, settings.events_dir)


def checked_blobs(settings: Any) -> Any:
    """`open_blobs`, having checked it can be used: commands call this first, so a bad store is one line, not a traceback."""
    from ..settings import SettingsError

    try:
        blobs = open_blobs(settings)
    except SettingsError as exc:
        raise BlobStoreUnavailable(str(exc)) from None
    blobs.check()
    return blobs
