"""The PostgreSQL backend of the event log, for a log shared by several machines.

The same rows as SQLite (text columns, the same JSON text), so a row hashes the same
in both and a migrated log verifies identically. What PostgreSQL adds, and why:
- Append-only twice over: triggers raise on UPDATE, DELETE and TRUNCATE of both
  tables (they stop even the owner), and the role the application connects as is
  granted SELECT and INSERT only (`grant_appender`), so it cannot even drop them.
- Appends from several machines are serialised by a transaction-scoped advisory
  lock, taken before the head is read; the primary key on `seq` would refuse a
  fork even from a writer that skipped the lock. (LOCK TABLE would need UPDATE
  rights, which the appending role must not have.)
- The append transaction NOTIFYs `observatory_events` with the new head, so a
  serving node follows appends made elsewhere without polling hard.

psycopg is imported here only, so `import observatory.eventlog` stays light.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql as pgsql

from .location import LogUnavailable, redact
from .tables import EVENTS_INDEX, META_TABLE, events_table

CHANNEL = "observatory_events"
APPEND_LOCK = 0x6F62736C6F67  # "obslog": one advisory lock for every appender of this database

EVENTS_TABLE = events_table("BIGINT")
GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION observatory_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$
"""
# name -> (operation, table, level)
TRIGGERS = {
    f"{table}_no_{op.lower()}": (op, table, "STATEMENT" if op == "TRUNCATE" else "ROW")
    for table in ("events", "log_meta") for op in ("UPDATE", "DELETE", "TRUNCATE")
}


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect(url: str, *, readonly: bool = False) -> psycopg.Connection[Any]:
    """An autocommit connection, or LogUnavailable naming the server (never the password) and why."""
    options = "-c default_transaction_read_only=on" if readonly else None
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10, **({"options": options} if options else {}))
    except (psycopg.Error, ValueError) as exc:
        raise LogUnavailable(f"cannot open the event log at {redact(url)}: {_one_line(exc)}") from None


class PostgresTx:
    __slots__ = ("cur",)

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self.cur = cur

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.cur.execute(_pg(sql), params or None).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.cur.execute(_pg(sql), params or None).fetchone()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cur.execute(_pg(sql) if params else sql, params or None)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cur.executemany(_pg(sql), rows)


class PostgresBackend:
    kind = "postgresql"

    def __init__(self, url: str, *, readonly: bool) -> None:
        self.url = url
        self.where = redact(url)
        self.path = None
        self.readonly = readonly
        self.conn = connect(url, readonly=readonly)
        self._lock = threading.RLock()  # one session: a reader must never run inside another thread's append
        self._listener: psycopg.Connection[Any] | None = None

    def _live(self) -> psycopg.Connection[Any]:
        """The session, opened again after the server dropped it (a restart): the failed call raised, the next one works."""
        if self.conn.broken:
            self.conn = connect(self.url, readonly=self.readonly)
        return self.conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._live().execute(_pg(sql), params or None).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            return self._live().execute(_pg(sql), params or None).fetchone()

    @contextmanager
    def write(self) -> Iterator[PostgresTx]:
        """One transaction holding the append lock: every appender of this database waits its turn."""
        with self._lock, self._live().transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            yield PostgresTx(cur)

    def has_table(self, name: str) -> bool:
        row = self.one("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(row and row[0])

    def create_schema(self, tx: PostgresTx) -> None:
        """A new log gets its tables and every guard; an existing one is left as it is (its owner created it)."""
        row = tx.one("SELECT to_regclass('events') IS NOT NULL, to_regclass('log_meta') IS NOT NULL")
        has_events, has_meta = row if row else (False, False)
        if has_events and has_meta:
            return
        if not has_events or not has_meta:
            tx.run(GUARD_FUNCTION)
        if not has_events:
            tx.run(EVENTS_TABLE)
            tx.run(EVENTS_INDEX)
        if not has_meta:
            tx.run(META_TABLE)
        for name, (_, table, _) in TRIGGERS.items():
            if (table == "events" and not has_events) or (table == "log_meta" and not has_meta):
                self.create_trigger(tx, name)

    def wanted_triggers(self) -> list[str]:
        tables = {"events"} | ({"log_meta"} if self.has_table("log_meta") else set())
        return [n for n, (_, table, _) in TRIGGERS.items() if table in tables]

    def trigger_names(self) -> set[str]:
        rows = self.rows("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
                         "(SELECT oid FROM pg_class WHERE oid IN (to_regclass('events'), to_regclass('log_meta')))")
        return {n for (n,) in rows}

    def create_trigger(self, tx: PostgresTx, name: str) -> None:
        op, table, level = TRIGGERS[name]
        tx.run(GUARD_FUNCTION)
        tx.run(f"CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH {level} EXECUTE FUNCTION observatory_append_only()")

    def json_text(self, column: str, *path: str) -> str:
        return f"({column}::jsonb #>> '{{{','.join(path)}}}')"

    def appended(self, tx: PostgresTx, last_seq: int) -> None:
        """Tell listeners (delivered at commit, never for a rolled-back append)."""
        tx.run("SELECT pg_notify(?, ?)", (CHANNEL, str(last_seq)))

    # -- following ---------------------------------------------------------------
    def listen(self) -> None:
        if self._listener is not None and self._listener.broken:
            self._listener = None
        if self._listener is None:
            self._listener = connect(self.url)
            self._listener.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> None:
        """Block until an append is announced or `timeout` passes (call `listen` first)."""
        self.listen()
        assert self._listener is not None
        for _ in self._listener.notifies(timeout=timeout, stop_after=1):
            break

    # -- administration ------------------------------------------------------------
    def grant_appender(self, role: str) -> None:
        """Let `role` read and append, and nothing else: no UPDATE, DELETE, TRUNCATE, no DDL."""
        with self.write() as tx:
            for table in ("events", "log_meta"):
                for stmt in ("GRANT SELECT, INSERT ON {t} TO {r}",
                             "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {t} FROM {r}"):
                    tx.cur.execute(pgsql.SQL(stmt).format(t=pgsql.Identifier(table), r=pgsql.Identifier(role)))

    def close(self) -> None:
        self.conn.close()
        if self._listener is not None:
            self._listener.close()
