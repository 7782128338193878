"""The append-only event log in SQLite.

Design choices, and why:
- WAL + synchronous=FULL: readers (projectors, Datasette) never block the writer and an
  acknowledged append survives power loss.
- Triggers abort UPDATE/DELETE, and this class has no method that changes a row. They are
  created with a new log only: a log whose triggers were dropped keeps missing them until
  an admin repairs them on purpose (`repair_triggers`, which records that it did), so
  their absence is a finding for `verify` and `status`, not something opening papers over.
- (stream_id, stream_version) is unique, so two writers racing on one stream conflict
  instead of interleaving; `expected_version` turns that into optimistic concurrency.
- An idempotency key makes re-appending the same fact a no-op (the same screenshot
  ingested twice is one event).
- Each row's hash covers its own content and the previous row's hash, so
  `verify()` finds the first row that was tampered with. From `keyed_from` on (a row
  of `log_meta`, written once when a keyed store first opens the log) the hash is an
  HMAC with a key kept outside the database (`keys.py`); older rows keep the unkeyed
  sha256 they were written with (`chain.py`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from json.scanner import c_make_scanner as _c_make_scanner  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from .. import __version__
from ..sqlite_wal import use_wal
from .chain import GENESIS_HASH, key_id, link, row_hash
from .keys import KeySource, LogKeyError, beside
from .models import EVENT_TYPES, Event, LogRepaired, event_adapter
from .upcasting import upcast

__all__ = ["GENESIS_HASH", "row_hash"]  # re-exported: older callers import them from here

EVENTS_TABLE = """
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
"""
EVENTS_INDEX = "CREATE INDEX IF NOT EXISTS events_type ON events (type, seq)"
META_TABLE = "CREATE TABLE IF NOT EXISTS log_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"

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

# Heads recorded inside a backup copy (backup/online.py): the copy must still reach them.
BACKUP_HEADS = "backup_heads"

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
    head_seq: int = 0


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

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False, key: KeySource | None = None) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.key_source = key if key is not None else beside(self.path)
        self._key: bytes | None = None
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
        if not readonly:
            try:
                self._create_schema()
                self._ensure_keyed()
            except BaseException:
                self.conn.close()
                raise

    def _create_schema(self) -> None:
        """A new log gets its tables and guards; an existing one only what older versions lacked.

        Dropped triggers of an existing log are NOT re-created here (see `repair_triggers`).
        """
        with self._immediate() as cur:
            new_log = not self._has_table("events")
            new_meta = not self._has_table("log_meta")
            cur.execute(EVENTS_TABLE)
            cur.execute(EVENTS_INDEX)
            cur.execute(META_TABLE)
            for name in (EVENTS_TRIGGERS if new_log else ()) + (META_TRIGGERS if new_meta else ()):
                cur.execute(TRIGGERS[name])

    def _ensure_keyed(self) -> None:
        """Key the chain from the next sequence on, once; afterwards check that our key is the log's key."""
        keyed_from = self.keyed_from()
        if keyed_from is None:
            key = self.key_source.load_or_create()
            with self._immediate() as cur:
                (last,) = cur.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
                cur.execute("INSERT OR IGNORE INTO log_meta VALUES ('keyed_from', ?)", (str(last + 1),))
                cur.execute("INSERT OR IGNORE INTO log_meta VALUES ('key_id', ?)", (key_id(key),))
        self._key = self.require_key()

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction, taken at once (BEGIN IMMEDIATE), committed or rolled back whole."""
        with self._lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def _has_table(self, name: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return row is not None

    # -- keying ----------------------------------------------------------------
    def meta(self, name: str) -> str | None:
        if not self._has_table("log_meta"):
            return None
        row = self.conn.execute("SELECT value FROM log_meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def keyed_from(self) -> int | None:
        """The first sequence hashed with the key (None: a log never opened by a keyed store)."""
        value = self.meta("keyed_from")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return -1  # garbage where a sequence should be: every row then fails verification

    def key_id(self) -> str | None:
        return self.meta("key_id")

    def require_key(self) -> bytes:
        """The log's key; a missing key or one that is not the log's is a LogKeyError."""
        if self._key is not None:
            return self._key
        key = self.key_source.load()
        expected = self.key_id()
        if key is None:
            raise LogKeyError(f"the event log {self.path} is keyed (key id {expected}) but {self.key_source.describe()} "
                              "does not exist: restore it, or set OBSERVATORY_LOG_KEY")
        if expected is not None and key_id(key) != expected:
            raise LogKeyError(f"{self.key_source.describe()} (key id {key_id(key)}) is not the key of the event log "
                              f"{self.path} (key id {expected})")
        self._key = key
        return key

    # -- guards ----------------------------------------------------------------
    def missing_triggers(self) -> list[str]:
        """The append-only guards this log should have but does not."""
        present = {n for (n,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        wanted = list(EVENTS_TRIGGERS) + (list(META_TRIGGERS) if self._has_table("log_meta") else [])
        return [name for name in wanted if name not in present]

    def repair_triggers(self, *, actor: str | None = None, reason: str = "") -> list[str]:
        """Re-create missing guards and, in the same transaction, append a LogRepaired event naming them."""
        if self.readonly:
            raise PermissionError("this event store was opened read-only")
        with self._immediate() as cur:
            missing = self.missing_triggers()
            if missing:
                for name in missing:
                    cur.execute(TRIGGERS[name])
                event = LogRepaired(repaired="triggers", names=missing, reason=reason)
                rows = self._prepare(cur, [Pending(event, "log", actor=actor)])
                cur.executemany(f"INSERT INTO events ({COLUMNS}) VALUES ({','.join('?' * 12)})", rows)
        return missing

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
        with self._immediate() as cur:
            rows = self._prepare(cur, batch)
            cur.executemany(f"INSERT INTO events ({COLUMNS}) VALUES ({','.join('?' * 12)})", rows)
        return [_stored(r) for r in rows]

    def append_one(self, event: Event, stream_id: str, **envelope: Any) -> StoredEvent | None:
        """Append one event; None when its idempotency key was already used."""
        done = self.append([Pending(event, stream_id, **envelope)])
        return done[0] if done else None

    def _prepare(self, cur: sqlite3.Cursor, batch: list[Pending]) -> list[tuple[Any, ...]]:
        last = cur.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev_hash = last if last else (0, GENESIS_HASH)
        keyed_from = self.keyed_from()
        key = self.require_key() if keyed_from is not None else None

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
            prev_hash = link(prev_hash, row, seq=seq, keyed_from=keyed_from, key=key)
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

    # -- queries ---------------------------------------------------------------
    # The stages ask these instead of writing SQL over payloads: SQL sees a payload as it
    # was stored, and only `_stored` lifts it to the current version. The queries filter
    # on the envelope; where a payload field narrows the scan, rows stored at an older
    # version are always read and checked again after upcasting.

    def _select(self, where: str, params: Sequence[Any] = (), tail: str = "ORDER BY seq") -> list[StoredEvent]:
        return [_stored(r) for r in self.conn.execute(f"SELECT {COLUMNS} FROM events WHERE {where} {tail}", params)]

    def latest(self, types: Iterable[str], *, stream_id: str | None = None) -> StoredEvent | None:
        """The newest event of one of `types` (in `stream_id`, when given)."""
        return self._edge(types, stream_id, "DESC")

    def earliest(self, types: Iterable[str], *, stream_id: str | None = None) -> StoredEvent | None:
        """The oldest event of one of `types` (in `stream_id`, when given)."""
        return self._edge(types, stream_id, "ASC")

    def _edge(self, types: Iterable[str], stream_id: str | None, direction: str) -> StoredEvent | None:
        type_list = sorted(set(types))
        where = f"type IN ({','.join('?' * len(type_list))})"
        params: list[Any] = list(type_list)
        if stream_id is not None:
            where += " AND stream_id = ?"
            params.append(stream_id)
        found = self._select(where, params, f"ORDER BY seq {direction} LIMIT 1")
        return found[0] if found else None

    def unanswered(self, event_type: str, answers: Iterable[str]) -> list[StoredEvent]:
        """Events of `event_type` whose stream holds no event of the `answers` types yet, oldest first.

        E.g. screenshots ingested but not yet extracted: `unanswered("ScreenshotIngested", RESULT_TYPES)`.
        """
        answer_list = sorted(set(answers))
        return self._select(
            f"type = ? AND NOT EXISTS (SELECT 1 FROM events r WHERE r.stream_id = events.stream_id "
            f"AND r.type IN ({','.join('?' * len(answer_list))}))", [event_type, *answer_list])

    def corrections(self, kinds: Iterable[str] | None = None, *, after: int = 0,
                    until: int | None = None) -> list[StoredEvent]:
        """The CorrectionApplied events with `after` < seq <= `until`, in log order; with `kinds`, only those kinds.

        A daemon asks for the reclassifications every few seconds, so the kind narrows the
        scan in SQL; rows stored at an older version are read whole and filtered after upcasting.
        """
        where, params = "type = 'CorrectionApplied' AND seq > ?", [after]
        if until is not None:
            where += " AND seq <= ?"
            params.append(until)
        if kinds is None:
            return self._select(where, params)
        kind_set = sorted(set(kinds))
        current = EVENT_TYPES["CorrectionApplied"].schema_version
        found = self._select(
            f"{where} AND (schema_version < ? OR json_extract(payload, '$.correction.kind') "
            f"IN ({','.join('?' * len(kind_set))}))", [*params, current, *kind_set])
        return [e for e in found if e.payload["correction"]["kind"] in kind_set]

    # -- integrity -------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        """(sequence, hash) of the newest row, (0, GENESIS_HASH) when empty."""
        row = self.conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), row[1]) if row else (0, GENESIS_HASH)

    def hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return GENESIS_HASH
        row = self.conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
        return row[0] if row else None

    def verify(self, page: int = 5000, *, start: tuple[int, str] | None = None) -> VerifyResult:
        """Walk the chain (from `start`, a (seq, hash) already trusted, else from the beginning).

        Reports the first row whose sequence or hash does not hold, a keyed row that
        cannot be checked for want of the right key, and a file that ends before a
        head a backup recorded inside it.
        """
        prev_seq, prev_hash = start or (0, GENESIS_HASH)
        expected_seq, checked = prev_seq + 1, 0
        keyed_from = self.keyed_from()
        key: bytes | None = None
        if keyed_from is not None:
            try:
                key = self.require_key()
            except LogKeyError as exc:
                if self.head()[0] >= max(keyed_from, expected_seq):
                    return VerifyResult(False, 0, max(keyed_from, expected_seq), f"cannot check keyed events: {exc}",
                                        prev_hash, prev_seq)
        cursor = prev_seq
        sql = f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT {int(page)}"
        while True:
            rows = self.conn.execute(sql, (cursor,)).fetchall()
            if not rows:
                break
            for row in rows:
                seq = row[0]
                if seq != expected_seq:
                    return VerifyResult(False, checked, expected_seq, f"sequence gap: expected {expected_seq}, found {seq}",
                                        prev_hash, expected_seq - 1)
                if link(prev_hash, row[:-1], seq=seq, keyed_from=keyed_from, key=key) != row[-1]:
                    keyed = keyed_from is not None and seq >= keyed_from
                    how = "keyed hash (HMAC) mismatch" if keyed else "hash mismatch"
                    return VerifyResult(False, checked, seq, f"{how}: row content or chain altered", prev_hash, seq - 1)
                prev_hash = row[-1]
                expected_seq += 1
                checked += 1
            cursor = rows[-1][0]
        head_seq = expected_seq - 1
        for seq, recorded in self._backup_heads():
            if seq > head_seq:
                return VerifyResult(False, checked, head_seq + 1,
                                    f"the log ends before the head its backup recorded (sequence {seq})", prev_hash, head_seq)
            if self.hash_at(seq) != recorded:
                return VerifyResult(False, checked, seq, f"sequence {seq} no longer has the hash its backup recorded",
                                    prev_hash, head_seq)
        return VerifyResult(True, checked, head_hash=prev_hash, head_seq=head_seq)

    def _backup_heads(self) -> list[tuple[int, str]]:
        if not self._has_table(BACKUP_HEADS):
            return []
        return [(int(s), h) for s, h in self.conn.execute(f"SELECT seq, hash FROM {BACKUP_HEADS} ORDER BY seq")]
