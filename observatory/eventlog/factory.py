"""Opening the log the settings name: the SQLite file by default, PostgreSQL when OBSERVATORY_DATABASE_URL is set.

Every command and the daemon open the log through here (or `open_log`), so choosing
the backend is one setting, never a code path of its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .keys import KeySource, key_source
from .location import describe, is_postgres
from .store import EventStore


def log_location(settings: Any) -> str | Path:
    """The PostgreSQL URL when one is set, else the SQLite file."""
    return settings.database_url or settings.events_db


def log_exists(settings: Any) -> bool:
    """Is there a log to read? A PostgreSQL log is taken to exist (opening it says otherwise, in one line)."""
    location = log_location(settings)
    return True if is_postgres(location) else Path(location).exists()


def log_name(settings: Any) -> str:
    """The log for messages: the file, or the URL without its password."""
    return describe(log_location(settings))


def open_store(target: Any, *, readonly: bool = False, key: KeySource | None = None, keying: bool = True) -> EventStore:
    """The log of `target`: Settings (their location and key), a postgresql:// URL or a SQLite path.

    A server that cannot be reached is a LogUnavailable; a missing or wrong key a LogKeyError.
    """
    if isinstance(target, (str, os.PathLike)):
        return EventStore(target, readonly=readonly, key=key, keying=keying)
    return EventStore(log_location(target), readonly=readonly, key=key or key_source(target), keying=keying)
