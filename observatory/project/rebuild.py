"""Full rebuild (replay) that readers never see half-done.

The new tables are built in a private file with journaling off, then published into
the live database with SQLite's online backup API. The live file is in WAL mode, so
a reader that is connected during the copy (a running Datasette) keeps its old
snapshot, never sees a lock error or a missing file, and its next query sees the
rebuilt data on the same connection: no restart needed. The copy passes through the
WAL, which is then checkpointed and truncated, so it does not grow with each replay.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlite_utils

from ..eventlog import EventStore
from ..sqlite_wal import bound_wal, truncate_wal, use_wal, wal_size
from .framework import CHECKPOINTS, Projector, ReplayJob, catch_up, ensure_schema, open_db, paused_gc
from .scratch import remove_stale_scratch, scratch_path

log = logging.getLogger(__name__)


def rebuild(
    store: EventStore,
    target: Path,
    projectors: Sequence[Projector],
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> int:
    """Replay the whole log into `target`. Returns the number of events replayed.

    Projectors that replay by themselves (`Projector.replay_job`, the domain's derivation)
    run beside the others' catch-up, in up to `workers` more processes (default: one per
    further CPU, none for a small log); 0 keeps everything in this process.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_scratch(target)
    scratch = scratch_path(target, os.getpid())
    scratch.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        db = open_db(scratch, fast=True)
        until = store.last_seq()
        ensure_schema(db, projectors)
        deferred = _drop_secondary_indexes(db.conn)
        count = _replay(store, db, projectors, target=target, until=until, batch_size=batch_size, progress=progress,
                        workers=default_workers(until) if workers is None else workers)
        _recreate_indexes(db.conn, deferred)
        db.conn.execute("ANALYZE")
        db.conn.close()
        publish(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    log.info("replayed %d events into %s in %.1fs", count, target, time.perf_counter() - started)
    return count


PARALLEL_FROM = 20_000  # events: below this a worker process costs more to start than it saves


def default_workers(events: int) -> int:
    """One worker per CPU this process may use beyond its own; none for a small log."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(0, cpus - 1) if events >= PARALLEL_FROM else 0


def _replay(store: EventStore, db: sqlite_utils.Database, projectors: Sequence[Projector], *, target: Path,
            until: int, batch_size: int, progress: Callable[[int], None] | None, workers: int) -> int:
    """Catch up from nothing, the projectors that replay by themselves running beside the others."""
    jobs: list[tuple[Projector, ReplayJob]] = []
    try:
        for p in projectors:
            job = p.replay_job(store, until, target=target, workers=workers)
            if job is not None:
                jobs.append((p, job))
        own = {p.name for p, _ in jobs}
        with paused_gc():  # 15% of the facts' CPU
            count = catch_up(store, db, [p for p in projectors if p.name not in own], batch_size=batch_size,
                             until=until, progress=progress)
        for p, job in jobs:
            job.finish(db)
            if count:  # where a catch-up of this log leaves its checkpoint
                db.conn.execute(f"INSERT OR REPLACE INTO [{CHECKPOINTS}] (projector, seq) VALUES (?, ?)", [p.name, until])
    finally:
        for _, job in jobs:
            job.close()
    return count


def _drop_secondary_indexes(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Drop the plain (non-unique) indexes the projectors created; return (name, sql) to recreate them.

    A bulk load into a table with secondary indexes updates every index at a random spot for
    each row; building an index once at the end is a sort, much faster and needing far less
    page cache. Only indexes that constrain nothing are dropped: primary-key and UNIQUE
    indexes stay, so INSERT OR IGNORE and conflicts behave exactly the same, and lookups by
    key during apply stay indexed. The final file has the very same indexes (same names,
    same SQL text), built before ANALYZE.
    """
    dropped: list[tuple[str, str]] = []
    tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for _, name, unique, origin, *_ in conn.execute(f"PRAGMA index_list([{table}])").fetchall():
            if unique or origin != "c":
                continue
            (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [name]).fetchone()
            dropped.append((name, sql))
    for name, _ in dropped:
        conn.execute('DROP INDEX "{}"'.format(name.replace('"', '""')))
    return dropped


def _recreate_indexes(conn: sqlite3.Connection, indexes: list[tuple[str, str]]) -> None:
    for name, sql in indexes:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", [name]).fetchone() is None:
            conn.execute(sql)


def publish(scratch: Path, target: Path) -> None:
    """Make `target` hold exactly `scratch`'s contents, atomically for every reader."""
    if not target.exists():
        # Nobody can be reading a file that does not exist: a rename is atomic and free.
        src = sqlite3.connect(scratch)
        src.execute("PRAGMA journal_mode=WAL")
        src.close()
        os.replace(scratch, target)
        return
    src = sqlite3.connect(scratch)
    dst = sqlite3.connect(target, timeout=30)
    try:
        dst.execute("PRAGMA busy_timeout=30000")
        use_wal(dst)
        bound_wal(dst)
        src.backup(dst, pages=-1)
        # The copy went into the WAL as a whole database of frames: move it into the file and cut
        # the WAL to nothing, or the next publish beside busy readers appends another copy.
        if not truncate_wal(dst):
            log.info("readers held the projections' WAL (%d bytes) after publishing; it is cut back later",
                     wal_size(target))
    finally:
        dst.close()
        src.close()
