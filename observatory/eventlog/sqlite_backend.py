"""The SQLite backend of the event log: one `events.db` file, the default.

Why these choices:
- WAL + synchronous=FULL: readers (projectors, Datasette) never block the writer and an
  acknowledged append survives power loss.
- Triggers abort UPDATE/DELETE. They are created with a new log only: a log whose
  triggers were dropped keeps missing them until an admin repairs them on purpose
  (`EventStore.repair_triggers`), so their absence is a finding, not something
  opening papers over.
- Appends take the write lock at once (BEGIN IMMEDIATE) and read the head inside it,
  so two writers never chain from the same row.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..sqlite_wal import use_wal
from .tables import EVENTS_INDEX, META_TABLE, events_table

EVENTS_TABLE = events_table("INTEGER")

# The append-only guards, by name: each refuses UPDATE or DELETE on one table.
TRIGGERS = {
    "events_no_update": "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events "
                        "BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END",
    "events_no_delete": "CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events "
                        "BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END",
    "log_meta_no_update": "CREATE TRIGGER IF NOT EXISTS log_meta_no_update BEFORE UPDATE ON log_meta "
                          "BEGIN SELECT RAISE(ABORT, 'log_meta is append-only: UPDATE refused'); END",
    "log_meta_no_delete": "CREATE TRIGGER IF NOT EXISTS log_meta_no_delete BEFORE DELETE ON log_meta "
                          "BEGIN SELECT RAISE(ABORT, 'log_meta is append-only: DELETE refused'); END",
}
EVENTS_TRIGGERS = ("events_no_update", "events_no_delete")
META_TRIGGERS = ("log_meta_no_update", "log_meta_no_delete")


class SQLiteTx:
    """The statements of one write transaction."""

    __slots__ = ("cur",)

    def __init__(self, cur: sqlite3.Cursor) -> None:
        self.cur = cur

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.cur.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.cur.execute(sql, params).fetchone()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cur.execute(sql, params)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cur.executemany(sql, rows)


class SQLiteBackend:
    kind = "sqlite"

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(f"no event log at {self.path}")
            self.conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            use_wal(self.conn)
            self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self._lock = threading.RLock()

    # reads need no lock: sqlite3 serialises the connection, and a read sees only committed rows of other
    # connections (our own writes commit before the lock is released)
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.conn.execute(sql, params).fetchone()

    @contextmanager
    def write(self) -> Iterator[SQLiteTx]:
        """One write transaction, taken at once (BEGIN IMMEDIATE), committed or rolled back whole."""
        with self._lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteTx(cur)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def has_table(self, name: str) -> bool:
        return self.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)) is not None

    def create_schema(self, tx: SQLiteTx) -> None:
        """A new log gets its tables and guards; an existing one only what older versions lacked."""
        new_log = not self.has_table("events")
        new_meta = not self.has_table("log_meta")
        tx.run(EVENTS_TABLE)
        tx.run(EVENTS_INDEX)
        tx.run(META_TABLE)
        for name in (EVENTS_TRIGGERS if new_log else ()) + (META_TRIGGERS if new_meta else ()):
            tx.run(TRIGGERS[name])

    def wanted_triggers(self) -> list[str]:
        return list(EVENTS_TRIGGERS) + (list(META_TRIGGERS) if self.has_table("log_meta") else [])

    def trigger_names(self) -> set[str]:
        return {n for (n,) in self.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'")}

    def create_trigger(self, tx: SQLiteTx, name: str) -> None:
        tx.run(TRIGGERS[name])

    def json_text(self, column: str, *path: str) -> str:
        """SQL for one field of a stored JSON document, as text."""
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def appended(self, tx: SQLiteTx, last_seq: int) -> None:
        """Nothing to announce: other processes on this machine poll `last_seq`."""

    def close(self) -> None:
        self.conn.close()
