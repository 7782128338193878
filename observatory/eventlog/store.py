"""The append-only event log in SQLite.

Design choices, and why:
- WAL + synchronous=FULL: readers (projectors, Datasette) never block the writer and an
  acknowledged append survives power loss.
- Triggers abort UPDATE/DELETE, and this class has no method that changes a row.
- (stream_id, stream_version) is unique, so two writers racing on one stream conflict
  instead of interleaving; `expected_version` turns that into optimistic concurrency.
- An idempotency key makes re-appending the same fact a no-op (the same screenshot
  ingested twice is one event).
- Each row's hash covers its own content and the previous row's hash, so
  `verify()` finds the first row that was tampered with.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from json.scanner import c_make_scanner as _c_make_scanner  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from .. import __version__
from ..sqlite_wal import use_wal
from .models import Event, event_adapter
from .upcasting import upcast

GENESIS_HASH = "0" * 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq             INTEGER PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    stream_id       TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    occurred_at     TEXT    NOT NULL,
    recorded_at     TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    idempotency_key TEXT    UNIQUE,
    hash            TEXT    NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX IF NOT EXISTS events_type ON events (type, seq);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
"""

COLUMNS = (
    "seq, event_id, type, schema_version, stream_id, stream_version, "
    "occurred_at, recorded_at, payload, metadata, idempotency_key, hash"
)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def default_actor() -> str:
    return os.environ.get("OBSERVATORY_ACTOR") or os.environ.get("USER") or "observatory"


class ConcurrencyError(Exception):
    """Another writer appended to the stream first (expected_version did not match)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """An event waiting to be appended, with its envelope."""

    event: Event
    stream_id: str
    idempotency_key: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    occurred_at: str | None = None
    expected_version: int | None = None  # the stream's version before this batch touches it
    metadata: dict[str, Any] | None = None  # extra envelope facts (e.g. the model and tokens an engine used)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    event_id: str
    type: str
    schema_version: int  # as stored; `payload` is already upcast to the current version
    stream_id: str
    stream_version: int
    occurred_at: str
    recorded_at: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    idempotency_key: str | None
    hash: str

    @property
    def event(self) -> Event:
        """The typed, current-version model of this event."""
        return event_adapter.validate_python({**self.payload, "type": self.type})

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "type": self.type,
            "schema_version": self.schema_version,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "payload": self.payload,
            "metadata": self.metadata,
            "idempotency_key": self.idempotency_key,
            "hash": self.hash,
        }


@dataclass(slots=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    head_hash: str = GENESIS_HASH


def row_hash(prev_hash: str, row: Sequence[Any]) -> str:
    """sha256 over the previous hash and the row's stored columns (everything but `hash`)."""
    canonical = json.dumps(list(row), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# Replay decodes two JSON documents per event. `json.loads` goes through JSONDecoder.decode
# (two regex whitespace matches and Python-level checks) before the C scanner; stored
# documents are compact, so call the scanner directly and fall back to json.loads for
# anything it does not consume whole (whitespace, invalid text: json.loads then gives
# exactly its usual result or error).
_scan_once = _c_make_scanner(json.JSONDecoder()) if _c_make_scanner is not None else None


def _loads(text: Any) -> Any:
    if _scan_once is not None and text.__class__ is str:
        try:
            obj, end = _scan_once(text, 0)
        except (StopIteration, ValueError):
            return json.loads(text)
        if end == len(text):
            return obj
    return json.loads(text)


def _stored(row: Sequence[Any]) -> StoredEvent:
    seq, event_id, type_, version, stream_id, stream_version, occurred, recorded, payload, metadata, key, hash_ = row
    return StoredEvent(
        seq,
        event_id,
        type_,
        version,
        stream_id,
        stream_version,
        occurred,
        recorded,
        upcast(type_, version, _loads(payload)),
        _loads(metadata),
        key,
        hash_,
    )


class EventStore:
    """One connection to `events.db`. Appends are serialised by a lock, so one store may be shared by threads."""

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
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
        if not readonly:
            self.conn.executescript(SCHEMA)
        self._lock = threading.RLock()

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "EventStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------
    def append(self, pending: Iterable[Pending]) -> list[StoredEvent]:
        """Append a batch atomically. Events whose idempotency key is already in the log are skipped.

        Returns the events actually appended, in order.
        """
        if self.readonly:
            raise PermissionError("this event store was opened read-only")
        batch = list(pending)
        if not batch:
            return []
        with self._lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                rows = self._prepare(cur, batch)
                cur.executemany(f"INSERT INTO events ({COLUMNS}) VALUES ({','.join('?' * 12)})", rows)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return [_stored(r) for r in rows]

    def append_one(self, event: Event, stream_id: str, **envelope: Any) -> StoredEvent | None:
        """Append one event; None when its idempotency key was already used."""
        done = self.append([Pending(event, stream_id, **envelope)])
        return done[0] if done else None

    def _prepare(self, cur: sqlite3.Cursor, batch: list[Pending]) -> list[tuple[Any, ...]]:
        last = cur.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev_hash = last if last else (0, GENESIS_HASH)

        keys = [p.idempotency_key for p in batch if p.idempotency_key]
        seen: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT idempotency_key FROM events WHERE idempotency_key IN ({','.join('?' * len(chunk))})"
            seen.update(k for (k,) in cur.execute(q, chunk))

        versions: dict[str, int] = {}
        recorded = utc_now()
        rows: list[tuple[Any, ...]] = []
        for p in batch:
            if p.idempotency_key:
                if p.idempotency_key in seen:
                    continue
                seen.add(p.idempotency_key)
            if p.stream_id not in versions:
                (current,) = cur.execute(
                    "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?", (p.stream_id,)
                ).fetchone()
                if p.expected_version is not None and p.expected_version != current:
                    raise ConcurrencyError(
                        f"stream {p.stream_id} is at version {current}, expected {p.expected_version}"
                    )
                versions[p.stream_id] = current
            versions[p.stream_id] += 1
            seq += 1
            event = p.event
            metadata = {
                **(p.metadata or {}),
                "actor": p.actor or default_actor(),
                "causation_id": p.causation_id,
                "correlation_id": p.correlation_id,
                "software_version": __version__,
            }
            row = (
                seq,
                str(uuid.uuid4()),
                event.type_name,
                event.schema_version,
                p.stream_id,
                versions[p.stream_id],
                p.occurred_at or recorded,
                recorded,
                _dumps(event.payload()),
                _dumps(metadata),
                p.idempotency_key,
            )
            prev_hash = row_hash(prev_hash, row)
            rows.append((*row, prev_hash))
        return rows

    # -- reading ---------------------------------------------------------------
    def last_seq(self) -> int:
        (n,) = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        return int(n)

    def count(self) -> int:
        (n,) = self.conn.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(n)

    def read(
        self,
        after: int = 0,
        *,
        types: Iterable[str] | None = None,
        until: int | None = None,
        page: int = 2000,
    ) -> Iterator[StoredEvent]:
        """Stream events with seq > after, in order, a page at a time (never the whole log in memory).

        Each page is its own short read so a long replay does not pin the WAL.
        """
        for rows in self.read_pages(after, types=types, until=until, page=page):
            yield from rows

    def read_pages(
        self,
        after: int = 0,
        *,
        types: Iterable[str] | None = None,
        until: int | None = None,
        page: int = 2000,
    ) -> Iterator[list[StoredEvent]]:
        type_list = sorted(set(types)) if types is not None else None
        where = "seq > ?"
        if until is not None:
            where += f" AND seq <= {int(until)}"
        if type_list is not None:
            if not type_list:
                return
            where += f" AND type IN ({','.join('?' * len(type_list))})"
        sql = f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY seq LIMIT {int(page)}"
        cursor = after
        while True:
            params: list[Any] = [cursor, *(type_list or [])]
            rows = self.conn.execute(sql, params).fetchall()
            if not rows:
                return
            cursor, full = rows[-1][0], len(rows) >= page
            events = [_stored(r) for r in rows]
            del rows  # don't hold the raw page while the caller works on the decoded one
            yield events
            del events
            if not full:
                return

    def stream(self, stream_id: str) -> list[StoredEvent]:
        rows = self.conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_version", (stream_id,)
        ).fetchall()
        return [_stored(r) for r in rows]

    def find_key(self, idempotency_key: str) -> StoredEvent | None:
        row = self.conn.execute(f"SELECT {COLUMNS} FROM events WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
        return _stored(row) if row else None

    # -- integrity -------------------------------------------------------------
    def verify(self, page: int = 5000) -> VerifyResult:
        """Walk the whole chain; report the first row whose hash or sequence does not hold."""
        prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
        cursor = 0
        sql = f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT {int(page)}"
        while True:
            rows = self.conn.execute(sql, (cursor,)).fetchall()
            if not rows:
                break
            for row in rows:
                seq = row[0]
                if seq != expected_seq:
                    return VerifyResult(False, checked, expected_seq, f"sequence gap: expected {expected_seq}, found {seq}", prev_hash)
                if row_hash(prev_hash, row[:-1]) != row[-1]:
                    return VerifyResult(False, checked, seq, "hash mismatch: row content or chain altered", prev_hash)
                prev_hash = row[-1]
                expected_seq += 1
                checked += 1
            cursor = rows[-1][0]
        return VerifyResult(True, checked, head_hash=prev_hash)
