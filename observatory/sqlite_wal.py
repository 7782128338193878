"""Switching a SQLite file to WAL mode, safely when several processes open it at once.

Changing the journal mode needs an exclusive lock, and SQLite answers "database is
locked" at once instead of calling the busy handler. On a fresh home `observatory run`
opens the log and the projections from several threads and a Datasette child at the
same moment, so the switch is retried until the timeout a normal write would wait.

It also keeps the WAL of a database under constant reading bounded (see `bound_wal`).
"""

from __future__ import annotations

import os
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


# Keeping the WAL small beside readers that never stop.
#
# A writer can restart the WAL from its beginning only when no reader still uses a frame of
# it. Datasette under load always has a query in flight, so with only passive checkpoints the
# WAL grows by each publish (a whole database of frames) and each catch-up, without end: 1 GB
# beside a 270 MB database under 20 readers. Three things bound it:
# - `wal_autocheckpoint`: every commit past ~4 MB of WAL copies what it can into the database;
# - `journal_size_limit`: whenever the WAL does restart, the file is cut back to this size;
# - a TRUNCATE checkpoint after a publish or a catch-up: it waits (a bounded while) for the
#   readers of old snapshots to finish; new readers meanwhile read the database file, not the
#   WAL, so the wait ends as soon as the queries in flight do, and the WAL is cut to 0 bytes.
AUTOCHECKPOINT_PAGES = 1000
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
TRUNCATE_WAIT_SECONDS = 5.0


def bound_wal(conn: sqlite3.Connection) -> None:
    """Settings of a connection that writes a WAL database readers use all the time."""
    conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")


def truncate_wal(conn: sqlite3.Connection, wait: float = TRUNCATE_WAIT_SECONDS) -> bool:
    """Copy the whole WAL into the database and cut it to 0 bytes, waiting at most `wait` for readers.

    Returns False when readers (or a writer) held on longer; nothing is lost then, the WAL is
    only cut at a later call or restart. Must not be called inside a transaction.
    """
    (previous,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError as exc:  # locked by another checkpointer: a later call does it
        if "locked" not in str(exc):
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout={previous}")
    return busy == 0


def wal_size(db_path: str | os.PathLike[str]) -> int:
    """Bytes in the WAL file beside `db_path` (0 when there is none)."""
    try:
        return os.stat(f"{os.fspath(db_path)}-wal").st_size
    except FileNotFoundError:
        return 0
