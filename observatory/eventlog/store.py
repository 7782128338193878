"""The append-only event log: one API over two backends (SQLite, the default; PostgreSQL).

Design choices, and why (the backends, `sqlite_backend.py` and `postgres_backend.py`,
say how each database enforces them):
- The database refuses UPDATE/DELETE of a row, and this class has no method that
  changes one. Guards are created with a new log only: a log whose guards were dropped
  keeps missing them until an admin repairs them on purpose (`repair_triggers`, which
  records that it did), so their absence is a finding for `verify` and `status`.
- (stream_id, stream_version) is unique, so two writers racing on one stream conflict
  instead of interleaving; `expected_version` turns that into optimistic concurrency.
- An idempotency key makes re-appending the same fact a no-op (the same screenshot
  ingested twice is one event).
- Each row's hash covers its own content and the previous row's hash, so
  `verify()` finds the first row that was tampered with. From `keyed_from` on (a row
  of `log_meta`, written once when a keyed store first opens the log) the hash is an
  HMAC with a key kept outside the database (`keys.py`); older rows keep the unkeyed
  sha256 they were written with (`chain.py`). Rows are the same text in both
  backends, so a log copied between them (`migrate.py`) keeps every hash.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from json.scanner import c_make_scanner as _c_make_scanner  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from .. import __version__
from .chain import GENESIS_HASH, key_id, link, row_hash
from .keys import KeySource, LogKeyError, beside
from .location import is_postgres
from .sqlite_backend import TRIGGERS, SQLiteBackend
from .models import EVENT_TYPES, Event, LogRepaired, event_adapter
from .upcasting import upcast

__all__ = ["GENESIS_HASH", "TRIGGERS", "row_hash"]  # re-exported: older callers import them from here

# Heads recorded inside a backup copy (backup/online.py): the copy must still reach them.
BACKUP_HEADS = "backup_heads"

COLUMNS = (
    "seq, event_id, type, schema_version, stream_id, stream_version, "
    "occurred_at, recorded_at, payload, metadata, idempotency_key, hash"
)
INSERT = f"INSERT INTO events ({COLUMNS}) VALUES ({','.join('?' * 12)})"


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
    """One connection to the log: `events.db` (a path) or a PostgreSQL database (a postgresql:// URL).

    Appends are serialised by the backend (a lock in this process, and the database's
    own write lock across processes and machines), so one store may be shared by threads.
    `keying=False` opens without keying a fresh log: only for `migrate.py`, which copies
    the source's keying record instead.
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False, key: KeySource | None = None,
                 keying: bool = True) -> None:
        self.readonly = readonly
        if is_postgres(path):
            from .postgres_backend import PostgresBackend  # psycopg only when a PostgreSQL log is asked for

            self.backend: Any = PostgresBackend(str(path), readonly=readonly)
            self.path: Path | None = None
            default_key = KeySource()
        else:
            self.backend = SQLiteBackend(path, readonly=readonly)
            self.path = self.backend.path
            default_key = beside(self.backend.path)
        self.conn = self.backend.conn
        self.where = self.backend.where
        self.key_source = key if key is not None else default_key
        self._key: bytes | None = None
        if not readonly:
            try:
                with self.backend.write() as tx:
                    self.backend.create_schema(tx)
                if keying:
                    self._ensure_keyed()
            except BaseException:
                self.backend.close()
                raise

    @property
    def kind(self) -> str:
        """`sqlite` or `postgresql`."""
        return str(self.backend.kind)

    def _ensure_keyed(self) -> None:
        """Key the chain from the next sequence on, once; afterwards check that our key is the log's key."""
        keyed_from = self.keyed_from()
        if keyed_from is None:
            key = self.key_source.load_or_create()
            with self.backend.write() as tx:
                (last,) = tx.one("SELECT COALESCE(MAX(seq), 0) FROM events") or (0,)
                tx.run("INSERT INTO log_meta VALUES ('keyed_from', ?) ON CONFLICT DO NOTHING", (str(last + 1),))
                tx.run("INSERT INTO log_meta VALUES ('key_id', ?) ON CONFLICT DO NOTHING", (key_id(key),))
        self._key = self.require_key()

    def _has_table(self, name: str) -> bool:
        return bool(self.backend.has_table(name))

    # -- keying ----------------------------------------------------------------
    def meta(self, name: str) -> str | None:
        if not self._has_table("log_meta"):
            return None
        row = self.backend.one("SELECT value FROM log_meta WHERE name = ?", (name,))
        return row[0] if row else None

    def all_meta(self) -> dict[str, str]:
        """Every row of `log_meta` (the keying record), for copying a log whole."""
        if not self._has_table("log_meta"):
            return {}
        return dict(self.backend.rows("SELECT name, value FROM log_meta ORDER BY name"))

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
            raise LogKeyError(f"the event log {self.where} is keyed (key id {expected}) but {self.key_source.describe()} "
                              "does not exist: restore it, or set OBSERVATORY_LOG_KEY")
        if expected is not None and key_id(key) != expected:
            raise LogKeyError(f"{self.key_source.describe()} (key id {key_id(key)}) is not the key of the event log "
                              f"{self.where} (key id {expected})")
        self._key = key
        return key

    # -- guards ----------------------------------------------------------------
    def missing_triggers(self) -> list[str]:
        """The append-only guards this log should have but does not."""
        present = self.backend.trigger_names()
        return [name for name in self.backend.wanted_triggers() if name not in present]

    def repair_triggers(self, *, actor: str | None = None, reason: str = "") -> list[str]:
        """Re-create missing guards and, in the same transaction, append a LogRepaired event naming them."""
        if self.readonly:
            raise PermissionError("this event store was opened read-only")
        with self.backend.write() as tx:
            missing = self.missing_triggers()
            if missing:
                for name in missing:
                    self.backend.create_trigger(tx, name)
                event = LogRepaired(repaired="triggers", names=missing, reason=reason)
                rows = self._prepare(tx, [Pending(event, "log", actor=actor)])
                tx.many(INSERT, rows)
                self.backend.appended(tx, rows[-1][0])
        return missing

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        self.backend.close()

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
        with self.backend.write() as tx:
            rows = self._prepare(tx, batch)
            if rows:
                tx.many(INSERT, rows)
                self.backend.appended(tx, rows[-1][0])
        return [_stored(r) for r in rows]

    def append_one(self, event: Event, stream_id: str, **envelope: Any) -> StoredEvent | None:
        """Append one event; None when its idempotency key was already used."""
        done = self.append([Pending(event, stream_id, **envelope)])
        return done[0] if done else None

    def _prepare(self, tx: Any, batch: list[Pending]) -> list[tuple[Any, ...]]:
        last = tx.one("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        seq, prev_hash = last if last else (0, GENESIS_HASH)
        keyed_from = self.keyed_from()
        key = self.require_key() if keyed_from is not None else None

        keys = [p.idempotency_key for p in batch if p.idempotency_key]
        seen: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT idempotency_key FROM events WHERE idempotency_key IN ({','.join('?' * len(chunk))})"
            seen.update(k for (k,) in tx.all(q, chunk))

        versions: dict[str, int] = {}
        recorded = utc_now()
        rows: list[tuple[Any, ...]] = []
        for p in batch:
            if p.idempotency_key:
                if p.idempotency_key in seen:
                    continue
                seen.add(p.idempotency_key)
            if p.stream_id not in versions:
                (current,) = tx.one(
                    "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?", (p.stream_id,)
                ) or (0,)
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

    def copy_in(self, rows: Sequence[Sequence[Any]], meta: dict[str, str] | None = None) -> int:
        """Add stored rows of another log verbatim (their sequences and hashes), after this log's head.

        For `migrate.py`. The keying record in `meta` is written first where this log has
        none and must match where it has one; every row must chain from the one before
        (checked with the key), or nothing of the batch is written. Returns rows written.
        """
        if self.readonly:
            raise PermissionError("this event store was opened read-only")
        with self.backend.write() as tx:
            for name, value in (meta or {}).items():
                found = tx.one("SELECT value FROM log_meta WHERE name = ?", (name,))
                if found is None:
                    tx.run("INSERT INTO log_meta VALUES (?, ?)", (name, value))
                elif found[0] != value:
                    raise ValueError(f"{self.where} has log_meta {name}={found[0]}, the copied log {value}")
            if not rows:
                return 0
            last = tx.one("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            seq, prev_hash = last if last else (0, GENESIS_HASH)
            keyed_from = self.keyed_from() if meta is None else (int(meta["keyed_from"]) if "keyed_from" in meta
                                                                 else self.keyed_from())
            key = self.require_key() if keyed_from is not None and rows[-1][0] >= keyed_from else None
            for row in rows:
                if row[0] != seq + 1:
                    raise ValueError(f"row {row[0]} does not follow the head {seq} of {self.where}")
                if link(prev_hash, tuple(row[:-1]), seq=row[0], keyed_from=keyed_from, key=key) != row[-1]:
                    raise ValueError(f"row {row[0]} does not chain from row {seq}: the copied log is broken there")
                seq, prev_hash = row[0], row[-1]
            tx.many(INSERT, [tuple(r) for r in rows])
            self.backend.appended(tx, seq)
        return len(rows)

    # -- reading ---------------------------------------------------------------
    def last_seq(self) -> int:
        (n,) = self.backend.one("SELECT COALESCE(MAX(seq), 0) FROM events")
        return int(n)

    def count(self) -> int:
        (n,) = self.backend.one("SELECT COUNT(*) FROM events")
        return int(n)

    def wait_for_append(self, after: int, timeout: float) -> bool:
        """True as soon as the log holds a row past `after`, False after `timeout` seconds without one.

        PostgreSQL wakes on the append's NOTIFY (appends from any machine); SQLite polls.
        """
        deadline = time.monotonic() + timeout
        listen = getattr(self.backend, "listen", None)
        if listen is not None:
            listen()  # before looking, so an append between the look and the wait still wakes us
        while True:
            if self.last_seq() > after:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if listen is not None:
                self.backend.wait(min(left, 5.0))
            else:
                time.sleep(min(left, 0.2))

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
        yield from self._pages(after, types, until, page, decode=True)

    def raw_pages(
        self,
        after: int = 0,
        *,
        types: Iterable[str] | None = None,
        until: int | None = None,
        page: int = 2000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Pages of rows as stored (the columns of COLUMNS, payload not upcast): for verifying and copying."""
        yield from self._pages(after, types, until, page, decode=False)

    def _pages(self, after: int, types: Iterable[str] | None, until: int | None, page: int, *,
               decode: bool) -> Iterator[list[Any]]:
        """Keyset paging after `after`; each page decoded into StoredEvents, or the rows as stored."""
        sql, type_list = self._page_query(types, until, page)
        if sql is None:
            return
        cursor = after
        while True:
            rows = self.backend.rows(sql, [cursor, *type_list])
            if not rows:
                return
            cursor, full = rows[-1][0], len(rows) >= page
            batch = [_stored(r) for r in rows] if decode else rows
            del rows  # don't hold the raw page while the caller works on the decoded one
            yield batch
            del batch
            if not full:
                return

    @staticmethod
    def _page_query(types: Iterable[str] | None, until: int | None, page: int) -> tuple[str | None, list[str]]:
        type_list = sorted(set(types)) if types is not None else None
        where = "seq > ?"
        if until is not None:
            where += f" AND seq <= {int(until)}"
        if type_list is not None:
            if not type_list:
                return None, []
            where += f" AND type IN ({','.join('?' * len(type_list))})"
        return f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY seq LIMIT {int(page)}", type_list or []

    def stream(self, stream_id: str) -> list[StoredEvent]:
        return self._select("stream_id = ?", (stream_id,), "ORDER BY stream_version")

    def find_key(self, idempotency_key: str) -> StoredEvent | None:
        found = self._select("idempotency_key = ?", (idempotency_key,), "")
        return found[0] if found else None

    def event_id_at(self, seq: int) -> str | None:
        """The event id of row `seq` (the first row's names the log, e.g. for the projections)."""
        row = self.backend.one("SELECT event_id FROM events WHERE seq = ?", (seq,))
        return row[0] if row else None

    def stored_field(self, event_type: str, *path: str) -> set[Any]:
        """One payload field of every `event_type` event, as stored (not upcast): only for fields every version has."""
        sql = f"SELECT {self.backend.json_text('payload', *path)} FROM events WHERE type = ?"
        return {v for (v,) in self.backend.rows(sql, (event_type,))}

    # -- queries ---------------------------------------------------------------
    # The stages ask these instead of writing SQL over payloads: SQL sees a payload as it
    # was stored, and only `_stored` lifts it to the current version. The queries filter
    # on the envelope; where a payload field narrows the scan, rows stored at an older
    # version are always read and checked again after upcasting.

    def _select(self, where: str, params: Sequence[Any] = (), tail: str = "ORDER BY seq") -> list[StoredEvent]:
        return [_stored(r) for r in self.backend.rows(f"SELECT {COLUMNS} FROM events WHERE {where} {tail}", params)]

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
            f"{where} AND (schema_version < ? OR {self.backend.json_text('payload', 'correction', 'kind')} "
            f"IN ({','.join('?' * len(kind_set))}))", [*params, current, *kind_set])
        return [e for e in found if e.payload["correction"]["kind"] in kind_set]

    def ingests_by_community(self, *, until: int) -> dict[str, array]:
        """The seqs of the ScreenshotIngested events up to `until`, by the community they name, in log order.

        One pass over the ingests for a whole replay (1.5 s at a million events); 8 bytes an ingest.
        """
        current = EVENT_TYPES["ScreenshotIngested"].schema_version
        found: dict[str, array] = {}
        for seq, community in self.backend.rows(
                f"SELECT seq, {self.backend.json_text('payload', 'community')} FROM events "
                "WHERE type = 'ScreenshotIngested' AND seq <= ? AND schema_version >= ? ORDER BY seq", [until, current]):
            found.setdefault(community, array("q")).append(seq)
        old = self._select("type = 'ScreenshotIngested' AND seq <= ? AND schema_version < ?", [until, current])
        for e in old:
            found.setdefault(e.payload["community"], array("q")).append(e.seq)
        if old:
            found = {c: array("q", sorted(seqs)) for c, seqs in found.items()}
        return found

    def streams_payloads(self, ingests: Sequence[int], types: Iterable[str], *, until: int,
                         chunk: int = 500) -> Iterator[list[tuple[int, str, dict[str, Any]]]]:
        """(seq, type, payload upcast) of the events of `types` with seq <= `until` in the streams of the events
        `ingests` (seqs), a chunk of them at a time: stream after stream, each stream in log order.

        A replay folds one community's screenshots straight from the log this way: through the
        primary key and the (stream_id, stream_version) index (`|| ''` and `+ 0` keep SQLite off
        the type and seq ones), never a scan of the whole log, and no sort of payloads. Only the
        payload is decoded (half the cost of whole events). A stream with two ingests in
        different chunks comes twice, whole and in order each time.
        """
        type_list = sorted(set(types))
        marks = ",".join("?" * len(type_list))
        for i in range(0, len(ingests), chunk):
            part = list(ingests[i:i + chunk])
            rows = self.backend.rows(
                f"SELECT seq, type, schema_version, payload FROM events WHERE stream_id IN "
                f"(SELECT stream_id FROM events WHERE seq IN ({','.join('?' * len(part))})) "
                f"AND type || '' IN ({marks}) AND seq + 0 <= ? ORDER BY stream_id, stream_version",
                [*part, *type_list, until])
            yield [(seq, type_, upcast(type_, version, _loads(payload))) for seq, type_, version, payload in rows]
            del rows

    @property
    def location(self) -> str:
        """What opens this log again, in another process: its path, or its PostgreSQL URL."""
        return str(self.path) if self.path is not None else str(self.backend.url)

    # -- integrity -------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        """(sequence, hash) of the newest row, (0, GENESIS_HASH) when empty."""
        row = self.backend.one("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        return (int(row[0]), row[1]) if row else (0, GENESIS_HASH)

    def hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return GENESIS_HASH
        row = self.backend.one("SELECT hash FROM events WHERE seq = ?", (seq,))
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
        for rows in self.raw_pages(prev_seq, page=page):
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
        return [(int(s), h) for s, h in self.backend.rows(f"SELECT seq, hash FROM {BACKUP_HEADS} ORDER BY seq")]
