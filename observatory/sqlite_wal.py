"""Switching a SQLite file to WAL mode, safely when several processes open it at once.

Changing the journal mode needs an exclusive lock, and SQLite answers "database is
locked" at once instead of calling the busy handler. On a fresh home `observatory run`
opens the log and the projections from several threads and a Datasette child at the
same moment, so the switch is retried until the timeout a normal write would wait.
"""

from __future__ import annotations

import sqlite3
import time

TIMEOUT_SECONDS = 30.0


def use_wal(conn: sqlite3.Connection, timeout: float = TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
