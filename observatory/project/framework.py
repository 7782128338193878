"""A small projector framework: read tables built from the log, with checkpoints.

A projector declares the event types it handles, creates its tables (sqlite-utils),
and applies a batch of events. The runner writes each projector's checkpoint in the
same transaction as the rows that batch produced, so a crash can neither apply an
event twice nor skip one. Projectors must be deterministic functions of the log:
any batching of the same events must give the same tables.
"""

from __future__ import annotations

import hashlib
import gc
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import sqlite_utils

from ..eventlog import EventStore, StoredEvent
from ..sqlite_wal import AUTOCHECKPOINT_PAGES, bound_wal, truncate_wal, use_wal, wal_size
from .scratch import remove_stale_scratch

log = logging.getLogger(__name__)

CHECKPOINTS = "_checkpoints"
META = "_projection_meta"
# Bump when a projector's tables change shape: projections built by an older version are rebuilt.
SCHEMA_VERSION = "6"


class Projector:
    """Base class: subclasses set `name`, `handles`, `tables` and implement `setup` and `apply`."""

    name: ClassVar[str]
    handles: ClassVar[frozenset[str]]
    tables: ClassVar[tuple[str, ...]] = ()

    def setup(self, db: sqlite_utils.Database) -> None:
        """Create tables and indexes if missing. Must be idempotent."""
        raise NotImplementedError

    def apply(self, db: sqlite_utils.Database, events: Sequence[StoredEvent]) -> None:
        """Apply events (in seq order, only handled types) inside the runner's transaction."""
        raise NotImplementedError

    def schema_signature(self) -> str:
        """What its tables look like, when that can change without a new Observatory (a game pack's tables)."""
        return ""

    def settle(self, db: sqlite_utils.Database, store: EventStore) -> int:
        """Finish work deferred by `apply` (in its own transaction), after a catch-up. Returns units of work done.

        `store` is for facts a projector reads from the log itself, up to its own checkpoint
        (`checkpoint_of`), never past it: replay and catch-up then see the same log.
        """
        return 0

    def replay_job(self, store: EventStore, until: int, *, target: Path, workers: int) -> "ReplayJob | None":
        """For a full replay: a job that builds this projector's tables from the log up to `until` by itself
        (in up to `workers` other processes, while the others catch up), or None to replay through
        `apply` and `settle` like any catch-up. Its tables must come out exactly as a catch-up's."""
        return None


class ReplayJob:
    """A projector's own replay (see `Projector.replay_job`), started while the other projectors catch up."""

    def finish(self, db: sqlite_utils.Database) -> None:
        """Write the projector's tables and marks (its checkpoint excepted) into `db`."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the job holds (processes, files), whether or not it finished."""


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside (reference counting still frees as usual).

    A replay keeps hundreds of thousands of objects alive at a time (a page of decoded events, a
    community's readings and derivation) and frees them whole, without cycles: the collector
    only scanned that growing heap again and again for nothing, 15-25% of the replay's CPU.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def open_db(path: str | Path, *, fast: bool = False) -> sqlite_utils.Database:
    """Open a projections database. `fast` is for private rebuild files no reader sees.

    Opening the live projections first clears what killed rebuilds left beside them.
    """
    if not fast:
        remove_stale_scratch(Path(path))
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    if fast:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        # 64 MiB of page cache, bounded. SQLite's sorter (CREATE INDEX, ORDER BY) may use as much
        # again, so a rebuild's memory stays flat whatever the log size; a larger cache bought
        # little speed (the OS page cache holds the file anyway) and cost ~2x the RSS.
        conn.execute("PRAGMA cache_size=-65536")
    else:
        use_wal(conn)
        bound_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
    return sqlite_utils.Database(conn)


def ensure_schema(db: sqlite_utils.Database, projectors: Sequence[Projector]) -> None:
    """Create or check the projections' tables, as one write transaction.

    `observatory run` starts the pipeline and Datasette together, and both may find no
    projections yet: BEGIN IMMEDIATE makes the second wait for the first, then find it all made.
    """
    if db.conn.in_transaction:
        _ensure_schema(db, projectors)
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        _ensure_schema(db, projectors)
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def _ensure_schema(db: sqlite_utils.Database, projectors: Sequence[Projector]) -> None:
    db.execute(f"CREATE TABLE IF NOT EXISTS [{CHECKPOINTS}] (projector TEXT PRIMARY KEY, seq INTEGER NOT NULL)")
    db.execute(f"CREATE TABLE IF NOT EXISTS [{META}] (key TEXT PRIMARY KEY, value TEXT)")
    row = db.execute(f"SELECT value FROM [{META}] WHERE key = 'schema_version'").fetchone()
    if row is None:
        if db.execute(f"SELECT 1 FROM [{CHECKPOINTS}] WHERE seq > 0 LIMIT 1").fetchone():
            raise SchemaOutdated("projections were built by an older version of Observatory; run `observatory replay`")
        db.execute(f"INSERT INTO [{META}] (key, value) VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    elif row[0] != SCHEMA_VERSION:
        raise SchemaOutdated(f"projections have schema {row[0]}, this version needs {SCHEMA_VERSION}; "
                             "run `observatory replay`")
    for p in projectors:
        _check_signature(db, p)
    for p in projectors:
        p.setup(db)


def _check_signature(db: sqlite_utils.Database, p: Projector) -> None:
    """A projector whose tables a game pack declares: editing the pack's tables needs a rebuild, not an error."""
    signature = p.schema_signature()
    if not signature:
        return
    digest = hashlib.sha1(signature.encode()).hexdigest()[:12]
    key = f"schema_signature:{p.name}"
    row = db.execute(f"SELECT value FROM [{META}] WHERE key = ?", [key]).fetchone()
    if row is not None and row[0] == digest:
        return
    if row is not None or checkpoint_of(db, p.name) > 0:
        raise SchemaOutdated(f"the game packs' tables changed since the projections were built ({p.name}); "
                             "run `observatory replay`")
    db.execute(f"INSERT INTO [{META}] (key, value) VALUES (?, ?)", [key, digest])


def checkpoints(db: sqlite_utils.Database, projectors: Sequence[Projector]) -> dict[str, int]:
    stored = dict(db.execute(f"SELECT projector, seq FROM [{CHECKPOINTS}]").fetchall())
    return {p.name: int(stored.get(p.name, 0)) for p in projectors}


def checkpoint_of(db: sqlite_utils.Database, name: str) -> int:
    """The seq up to which projector `name` has applied the log (0: nothing yet)."""
    row = db.execute(f"SELECT seq FROM [{CHECKPOINTS}] WHERE projector = ?", [name]).fetchone()
    return int(row[0]) if row else 0


def lag(store: EventStore, db: sqlite_utils.Database, projectors: Sequence[Projector]) -> int:
    """How many events the slowest projector has still to apply."""
    ensure_schema(db, projectors)
    return max(0, store.last_seq() - min(checkpoints(db, projectors).values(), default=0))


class ReplayNeeded(Exception):
    """The projections cannot be brought up to date incrementally; `observatory replay` rebuilds them."""


class LogMismatch(ReplayNeeded):
    """The projections were built from a different event log."""


class SchemaOutdated(ReplayNeeded):
    """The projections were built by a version of Observatory with other tables."""


def _check_log_identity(db: sqlite_utils.Database, store: EventStore) -> None:
    first = store.event_id_at(1)
    if first is None:
        return
    row = db.execute(f"SELECT value FROM [{META}] WHERE key = 'log_id'").fetchone()
    if row is None:
        db.execute(f"INSERT OR REPLACE INTO [{META}] (key, value) VALUES ('log_id', ?)", [first])
    elif row[0] != first:
        raise LogMismatch("projections were built from another event log; run `observatory replay`")


def catch_up(
    store: EventStore,
    db: sqlite_utils.Database,
    projectors: Sequence[Projector],
    *,
    batch_size: int = 5000,
    until: int | None = None,
    progress: Callable[[int], None] | None = None,
    settle: bool = True,
) -> int:
    """Apply every event after each projector's checkpoint, one transaction per batch.

    Returns the number of events read. Safe to call repeatedly and concurrently with appends.
    `settle=False` leaves the projectors' deferred work (the domain tables) for a later call.
    """
    ensure_schema(db, projectors)
    _check_log_identity(db, store)
    done = checkpoints(db, projectors)
    start = min(done.values(), default=0)
    read = 0
    conn = db.conn
    for page in store.read_pages(start, until=until, page=batch_size):
        first, last = page[0].seq, page[-1].seq
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process (the web app's correction, a second `observatory project`) may have applied these
            # events since this one read its checkpoints: read them again under the write lock, never apply twice.
            done = checkpoints(db, projectors)
            for p in projectors:
                cp = done[p.name]
                if cp >= last:
                    continue
                handles = p.handles
                if cp < first:  # the usual case: the whole page is new to this projector
                    batch = [e for e in page if e.type in handles]
                else:
                    batch = [e for e in page if e.seq > cp and e.type in handles]
                if batch:
                    p.apply(db, batch)
                done[p.name] = last
            conn.executemany(
                f"INSERT INTO [{CHECKPOINTS}] (projector, seq) VALUES (?, ?) "
                "ON CONFLICT(projector) DO UPDATE SET seq = excluded.seq",
                list(done.items()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        read += len(page)
        if progress is not None:
            progress(len(page))
    if settle:
        for p in projectors:
            p.settle(db, store)
    if read:
        _shrink_wal(conn)
    return read


def _shrink_wal(conn: sqlite3.Connection) -> None:
    """Cut the WAL back once it outgrew the autocheckpoint size: readers that never stop would let it grow without end."""
    path = next((file for _, name, file in conn.execute("PRAGMA database_list") if name == "main"), "")
    if not path or conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    if wal_size(path) > AUTOCHECKPOINT_PAGES * page_size and not truncate_wal(conn):
        log.info("readers held the projections' WAL (%d bytes); it is cut back later", wal_size(path))
