"""The key of the log's keyed hash chain: from OBSERVATORY_LOG_KEY, or a key file made on first start.

The key never enters the database, so whoever can rewrite `events.db` but cannot
read the key cannot recompute a valid chain. The key file is created atomically
(temp file, fsync, hard link: two processes starting at once end with one key) with
mode 0600, and only while the log is not keyed yet: a keyed log whose key is gone
is an error, never a reason to make a new key.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import EventStore

KEY_FILE_NAME = "log.key"


class LogKeyError(Exception):
    """The log's key is missing or wrong; `str()` says which and what to do."""


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where the key comes from: a secret (OBSERVATORY_LOG_KEY) wins over the file."""

    secret: str | None = None
    file: Path | None = None

    def describe(self) -> str:
        if self.secret:
            return "OBSERVATORY_LOG_KEY"
        return f"the key file {self.file}" if self.file else "no key source"

    def load(self) -> bytes | None:
        if self.secret:
            return self.secret.strip().encode("utf-8")
        if self.file is None:
            return None
        try:
            text = self.file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LogKeyError(f"cannot read {self.describe()}: {exc}") from None
        if not text:
            raise LogKeyError(f"{self.describe()} is empty")
        return text.encode("utf-8")

    def load_or_create(self) -> bytes:
        key = self.load()
        if key is not None:
            return key
        if self.file is None:
            raise LogKeyError("no key for the event log: set OBSERVATORY_LOG_KEY or OBSERVATORY_LOG_KEY_FILE")
        create_key_file(self.file)
        key = self.load()
        assert key is not None
        return key


def create_key_file(path: Path) -> None:
    """Write a new random key to `path` (mode 0600) unless another process just did."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")  # unique per thread too
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails when the file exists: the first writer's key wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def beside(db_path: Path) -> KeySource:
    """The default: `log.key` in the log's folder (see the README on why, and how to move it)."""
    return KeySource(file=db_path.parent / KEY_FILE_NAME)


def key_source(settings: Any) -> KeySource:
    """The key as the settings configure it (OBSERVATORY_LOG_KEY, else OBSERVATORY_LOG_KEY_FILE)."""
    secret = settings.log_key.get_secret_value() if settings.log_key is not None else None
    return KeySource(secret=secret, file=settings.log_key_path)


def open_log(settings: Any, *, readonly: bool = False) -> "EventStore":
    """The event log of these settings (SQLite, or PostgreSQL when OBSERVATORY_DATABASE_URL is set), with their key."""
    from .factory import open_store

    return open_store(settings, readonly=readonly)
