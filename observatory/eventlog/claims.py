"""Who is reading which screenshot: OCR claims with leases, beside the log in its own database.

Workers on any number of machines share the work through this table: a worker offers
what the log says is unanswered (idempotent), takes a few open requests with a lease
(`take`), renews the lease while it reads, and marks the request done once its result
is appended. A worker that dies simply stops renewing: when its lease expires, the next
`take` hands the request to another worker. Claims are not facts: they live outside the
hash chain, may be lost or rebuilt at any time, and never decide what the log records.
Exactly-once is the result events' idempotency keys (`processor.result_events`): a
worker whose lease expired mid-read and that appends late appends nothing.

A request is keyed `<request>:<sha256>`, the suffix of its result's idempotency keys, so
a reprocess or a reclassification is a new claim while the first reading stays done.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

CLAIMS_TABLE = """
CREATE TABLE IF NOT EXISTS ocr_claims (
    id          INTEGER PRIMARY KEY,
    request_key TEXT    NOT NULL UNIQUE,
    sha256      TEXT    NOT NULL,
    blob_path   TEXT    NOT NULL,
    kind        TEXT,
    request     TEXT    NOT NULL,
    worker      TEXT,
    expires_at  REAL    NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0
)
"""
CLAIMS_INDEX = "CREATE INDEX IF NOT EXISTS ocr_claims_open ON ocr_claims (done, id)"


def request_key(request: str, sha256: str) -> str:
    return f"{request}:{sha256}"


def worker_id() -> str:
    """This worker's name in the claims table: host, pid and a random tail (pids repeat across machines)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class Claim:
    """A request for a result: which screenshot, which blob, which forced kind, which request id."""

    sha256: str
    blob_path: str
    kind: str | None = None
    request: str = "initial"
    attempts: int = 0  # how many workers took it so far (this one included)

    @property
    def key(self) -> str:
        return request_key(self.request, self.sha256)


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """One row as it stands, for `observatory status`-like views and tests."""

    key: str
    worker: str | None
    expires_at: float
    attempts: int
    done: bool


class _OwnConnection:
    """Claims on a connection of their own: closed with them, and usable in a `with` block."""

    conn: Any

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteClaims(_OwnConnection):
    """The claims table in the SQLite log's file (events.db), on a connection of its own.

    `take` runs in one BEGIN IMMEDIATE transaction, which SQLite serialises across
    processes, so two workers never take the same open request.
    """

    def __init__(self, path: str | os.PathLike[str], *, lease_seconds: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA busy_timeout=30000")
        self._lock = threading.RLock()  # the lease renewer runs on a thread of its own
        with self._tx() as cur:
            cur.execute(CLAIMS_TABLE)
            cur.execute(CLAIMS_INDEX)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def offer(self, claims: Iterable[Claim]) -> int:
        """Make requests claimable; a request offered before (open, taken or done) is left as it is."""
        rows = [(c.key, c.sha256, c.blob_path, c.kind, c.request) for c in claims]
        if not rows:
            return 0
        with self._tx() as cur:
            before = self.conn.total_changes
            cur.executemany("INSERT OR IGNORE INTO ocr_claims (request_key, sha256, blob_path, kind, request) "
                            "VALUES (?, ?, ?, ?, ?)", rows)
            return self.conn.total_changes - before

    def take(self, worker: str, n: int = 1) -> list[Claim]:
        """Up to `n` open requests whose lease is free or expired, oldest first, leased to `worker`."""
        if n <= 0:
            return []
        now = self.clock()
        with self._tx() as cur:
            rows = cur.execute(
                "SELECT id, sha256, blob_path, kind, request, attempts FROM ocr_claims "
                "WHERE done = 0 AND expires_at < ? ORDER BY id LIMIT ?", (now, n)).fetchall()
            cur.executemany("UPDATE ocr_claims SET worker = ?, expires_at = ?, attempts = attempts + 1 WHERE id = ?",
                            [(worker, now + self.lease_seconds, r[0]) for r in rows])
        return [Claim(sha, blob, kind, request, attempts + 1) for _, sha, blob, kind, request, attempts in rows]

    def renew(self, worker: str, keys: Iterable[str]) -> set[str]:
        """Extend `worker`'s leases on `keys`; returns the keys it still holds (an expired one may have passed on)."""
        keys = list(keys)
        if not keys:
            return set()
        until = self.clock() + self.lease_seconds
        held: set[str] = set()
        with self._tx() as cur:
            for key in keys:
                cur.execute("UPDATE ocr_claims SET expires_at = ? WHERE request_key = ? AND worker = ? AND done = 0",
                            (until, key, worker))
                if cur.rowcount:
                    held.add(key)
        return held

    def finish(self, key: str) -> None:
        """The request has its result in the log: nobody takes it again, whoever held it."""
        with self._tx() as cur:
            cur.execute("UPDATE ocr_claims SET done = 1, worker = NULL, expires_at = 0 WHERE request_key = ?", (key,))

    def release(self, worker: str, keys: Iterable[str] | None = None) -> int:
        """Give back `worker`'s open leases (all of them, or `keys`) so another worker takes them at once."""
        with self._tx() as cur:
            if keys is None:
                cur.execute("UPDATE ocr_claims SET worker = NULL, expires_at = 0 WHERE worker = ? AND done = 0",
                            (worker,))
                return cur.rowcount
            n = 0
            for key in keys:
                cur.execute("UPDATE ocr_claims SET worker = NULL, expires_at = 0 "
                            "WHERE request_key = ? AND worker = ? AND done = 0", (key, worker))
                n += cur.rowcount
            return n

    def rows(self) -> list[ClaimRow]:
        with self._lock:
            found = self.conn.execute(
                "SELECT request_key, worker, expires_at, attempts, done FROM ocr_claims ORDER BY id").fetchall()
        return [ClaimRow(k, w, e, a, bool(d)) for k, w, e, a, d in found]


PG_CLAIMS_TABLE = """
CREATE TABLE IF NOT EXISTS ocr_claims (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_key TEXT        NOT NULL UNIQUE,
    sha256      TEXT        NOT NULL,
    blob_path   TEXT        NOT NULL,
    kind        TEXT,
    request     TEXT        NOT NULL,
    worker      TEXT,
    expires_at  TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    attempts    INTEGER     NOT NULL DEFAULT 0,
    done        BOOLEAN     NOT NULL DEFAULT false
)
"""
PG_CLAIMS_INDEX = "CREATE INDEX IF NOT EXISTS ocr_claims_open ON ocr_claims (id) WHERE NOT done"
CLAIMS_DDL_LOCK = 0x6F6273636C6D  # "obsclm": concurrent CREATE TABLE IF NOT EXISTS can still collide


class PostgresClaims(_OwnConnection):
    """The claims table in the PostgreSQL log's database, on a session of its own.

    `take` is `SELECT … FOR UPDATE SKIP LOCKED`: workers on many machines take open rows at
    once, each skipping the rows another is taking instead of waiting for it. Leases are
    measured by the server's clock (`now()`), so the workers' clocks do not matter. The
    application's role needs SELECT, INSERT and UPDATE on this table only (`grant_claims`):
    claims are not facts, the log's own tables stay append-only.
    """

    def __init__(self, url: str, *, lease_seconds: float = 60.0) -> None:
        import psycopg

        self.url = url
        self.lease_seconds = lease_seconds
        self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        self._lock = threading.RLock()
        exists = self.conn.execute("SELECT to_regclass('ocr_claims') IS NOT NULL").fetchone()
        if not (exists and exists[0]):
            try:
                ensure_pg_claims(self.conn)
            except psycopg.errors.InsufficientPrivilege:
                self.conn.close()
                raise PermissionError("the claims table ocr_claims does not exist and this role may not create it: "
                                      "open the log once as its owner (e.g. `observatory migrate-log … --app-role`)") from None

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self._lock, self.conn.transaction():
            cur = self.conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def offer(self, claims: Iterable[Claim]) -> int:
        rows = [(c.key, c.sha256, c.blob_path, c.kind, c.request) for c in claims]
        if not rows:
            return 0
        with self._lock, self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany("INSERT INTO ocr_claims (request_key, sha256, blob_path, kind, request) "
                            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (request_key) DO NOTHING", rows)
            return max(cur.rowcount, 0)

    def take(self, worker: str, n: int = 1) -> list[Claim]:
        if n <= 0:
            return []
        found = self._rows(
            "WITH picked AS (SELECT id FROM ocr_claims WHERE NOT done AND expires_at < now() "
            "                ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
            "UPDATE ocr_claims c SET worker = %s, expires_at = now() + make_interval(secs => %s), "
            "attempts = c.attempts + 1 FROM picked WHERE c.id = picked.id "
            "RETURNING c.id, c.sha256, c.blob_path, c.kind, c.request, c.attempts",
            (n, worker, float(self.lease_seconds)))
        return [Claim(sha, blob, kind, request, attempts) for _, sha, blob, kind, request, attempts in sorted(found)]

    def renew(self, worker: str, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        if not keys:
            return set()
        found = self._rows("UPDATE ocr_claims SET expires_at = now() + make_interval(secs => %s) "
                           "WHERE request_key = ANY(%s) AND worker = %s AND NOT done RETURNING request_key",
                           (float(self.lease_seconds), keys, worker))
        return {k for (k,) in found}

    def finish(self, key: str) -> None:
        self._rows("UPDATE ocr_claims SET done = true, worker = NULL, expires_at = '-infinity' WHERE request_key = %s",
                   (key,))

    def release(self, worker: str, keys: Iterable[str] | None = None) -> int:
        if keys is None:
            found = self._rows("UPDATE ocr_claims SET worker = NULL, expires_at = '-infinity' "
                               "WHERE worker = %s AND NOT done RETURNING id", (worker,))
        else:
            found = self._rows("UPDATE ocr_claims SET worker = NULL, expires_at = '-infinity' "
                               "WHERE request_key = ANY(%s) AND worker = %s AND NOT done RETURNING id",
                               (list(keys), worker))
        return len(found)

    def rows(self) -> list[ClaimRow]:
        found = self._rows("SELECT request_key, worker, extract(epoch FROM expires_at), attempts, done "
                           "FROM ocr_claims ORDER BY id")
        return [ClaimRow(k, w, float(e), a, bool(d)) for k, w, e, a, d in found]


def ensure_pg_claims(conn: Any) -> None:
    """Create the claims table (as the database's owner) when it is missing."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (CLAIMS_DDL_LOCK,))  # workers starting at once: one creates it
        conn.execute(PG_CLAIMS_TABLE)
        conn.execute(PG_CLAIMS_INDEX)


def grant_claims(url: str, role: str) -> None:
    """As the log's owner: create the claims table if missing and let `role` read, add and update claims (no more)."""
    import psycopg
    from psycopg import sql as pgsql

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        ensure_pg_claims(conn)
        conn.execute(pgsql.SQL("GRANT SELECT, INSERT, UPDATE ON ocr_claims TO {}").format(pgsql.Identifier(role)))
        conn.execute(pgsql.SQL("REVOKE DELETE, TRUNCATE ON ocr_claims FROM {}").format(pgsql.Identifier(role)))


def open_claims(store: Any, *, lease_seconds: float = 60.0) -> SqliteClaims | PostgresClaims:
    """The claims table of `store`'s database: a table in events.db, or in the PostgreSQL log's database."""
    if getattr(store, "kind", "sqlite") == "postgresql":
        return PostgresClaims(store.backend.url, lease_seconds=lease_seconds)
    path = getattr(store, "path", None)
    if path is None:
        raise TypeError(f"no claims table for a {type(store).__name__}")
    return SqliteClaims(path, lease_seconds=lease_seconds)


def leases_in_hand(store: Any, now: float | None = None) -> dict[str, int]:
    """What `observatory status` says of the workers: screenshots in hand, by how many workers, leases expired.

    Read through the log's own (possibly read-only) connection; a log without claims has none.
    """
    out = {"in_hand": 0, "workers": 0, "expired": 0}
    if not store._has_table("ocr_claims"):
        return out
    postgres = getattr(store, "kind", "sqlite") == "postgresql"
    expires = "extract(epoch FROM expires_at)" if postgres else "expires_at"
    rows = store.conn.execute(f"SELECT worker, {expires} FROM ocr_claims WHERE worker IS NOT NULL AND NOT done").fetchall()
    now = time.time() if now is None else now
    out["in_hand"] = len(rows)
    out["workers"] = len({w for w, _ in rows})
    out["expired"] = sum(1 for _, e in rows if float(e) < now)
    return out
