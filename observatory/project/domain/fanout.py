"""A replay's domain tables, one community at a time, in worker processes while the facts are written.

Communities are independent: each is derived from the log alone (replay.py), so worker
processes start on them as the replay starts, while the main process reads the log and
writes the fact tables. Each community's rows go to a private SQLite file beside the
rebuild's (named like it, with the worker's pid, so a killed worker's file is cleared
like a killed rebuild's: scratch.py). Once the facts are written, the main process
takes the communities no worker has started, then copies every community's file into
the projections in the order a serial settle writes them (sorted communities, each
table's rows in derive's order), so the tables hold the very same rows, rowids included.
The largest communities go first, so the last one to finish is a small one.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sqlite3
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ...correct.state import Record
from ...eventlog import EventStore
from ..framework import META
from ..scratch import scratch_path
from . import schema
from .model import DomainConfig
from .replay import Rows, correction_records, derive_from_log, record_communities

START_METHOD = "spawn"  # a daemon's threads make fork unsafe; the imports it costs are measured in the benchmark


def insert_rows(conn: Any, rows: Rows) -> None:
    """Append one community's derived rows to every domain table, in derive's order."""
    for table, cols in schema.COLUMNS.items():
        found = rows.get(table)
        if found:
            conn.executemany(f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) "
                             f"VALUES ({', '.join('?' * len(cols))})", [tuple(r.get(c) for c in cols) for r in found])


def _part_path(target: Path, pid: int, n: int) -> Path:
    return scratch_path(target, pid).with_name(f"{scratch_path(target, pid).name}-part{n}")


def _write_part(path: Path, rows: Rows) -> None:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        for name, columns in schema.TABLES.items():
            schema.create(conn, name, columns)
        conn.execute("BEGIN")
        insert_rows(conn, rows)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _copy_part(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("ATTACH DATABASE ? AS part", [str(path)])
    try:
        conn.execute("BEGIN")
        for table, cols in schema.COLUMNS.items():
            names = ", ".join(f"[{c}]" for c in cols)
            conn.execute(f"INSERT INTO main.[{table}] ({names}) SELECT {names} FROM part.[{table}] ORDER BY rowid")
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.execute("DETACH DATABASE part")
    path.unlink(missing_ok=True)


class _Claims:
    """Hands out the communities one at a time to whichever process asks next."""

    def __init__(self, order: Sequence[str], counter: Any) -> None:
        self.order, self.counter = list(order), counter

    def next(self) -> tuple[int, str] | None:
        with self.counter.get_lock():
            i = self.counter.value
            if i >= len(self.order):
                return None
            self.counter.value = i + 1
        return i, self.order[i]


def _plan(store: EventStore, until: int, records: Sequence[Record]) -> dict[str, Sequence[int]]:
    """Every community to derive (those of the screenshots, and those corrections name), with its ingests' seqs."""
    plan: dict[str, Sequence[int]] = dict(store.ingests_by_community(until=until))
    for c in record_communities(records):
        plan.setdefault(c, ())
    return plan


def _largest_first(plan: dict[str, Sequence[int]]) -> list[str]:
    """The order communities are claimed in: the largest first, so the last to finish is a small one.
    Every process computes it from the log alone, so they agree without waiting for each other."""
    return sorted(plan, key=lambda c: (-len(plan[c]), c))


def _work(log_path: str, until: int, cfg: DomainConfig, counter: Any, results: Any, target: str) -> None:
    """A worker process: derive communities until none is left, each into its own file."""
    try:
        store = EventStore(log_path, readonly=True)
        try:
            records = correction_records(store, until)
            plan = _plan(store, until, records)
            claims = _Claims(_largest_first(plan), counter)
            while (claim := claims.next()) is not None:
                i, community = claim
                path = _part_path(Path(target), os.getpid(), i)
                _write_part(path, derive_from_log(store, community, plan[community], until, records, cfg))
                results.put((community, str(path), None))
        finally:
            store.close()
    except BaseException:  # noqa: BLE001 - reported to the main process, which fails the replay
        results.put((None, None, traceback.format_exc()))


class DomainReplay:
    """The domain tables of a replay of `store` up to `until`; `workers` processes beside the main one (0: none).

    The workers start at once; this process reads nothing for the domain before `finish`.
    """

    def __init__(self, store: EventStore, until: int, cfg: DomainConfig, *, target: Path, workers: int = 0,
                 start_method: str = START_METHOD, share: bool = True) -> None:
        """`share`: the main process derives, once its facts are written, what no worker has started
        (False leaves every community to the workers)."""
        self.store, self.until, self.cfg, self.target, self.share = store, until, cfg, target, share
        self.parts: dict[str, Path] = {}
        self.procs: list[Any] = []
        self._records: list[Record] | None = None
        if multiprocessing.current_process().daemon:
            workers = 0  # a daemonic process may not start processes of its own
        if workers > 0:
            ctx = multiprocessing.get_context(start_method)
            self.results = ctx.Queue()
            self.counter = ctx.Value("i", 0)
            for _ in range(workers):
                p = ctx.Process(target=_work, daemon=True, name="observatory-replay",
                                args=(store.location, until, cfg, self.counter, self.results, str(target)))
                p.start()
                self.procs.append(p)

    @property
    def records(self) -> list[Record]:
        if self._records is None:
            self._records = correction_records(self.store, self.until)
        return self._records

    def newest_correction(self) -> int:
        """The seq of the newest correction derived (0: none)."""
        return max((r.seq for r in self.records), default=0)

    def finish(self, conn: sqlite3.Connection, marks: Callable[[], Sequence[tuple[str, str]]]) -> None:
        """Write every community's rows, then `marks()` into META, as a settle after the catch-up would."""
        plan = _plan(self.store, self.until, self.records)
        communities = sorted(plan)
        if not self.procs:
            conn.execute("BEGIN")
            for community in communities:
                insert_rows(conn, derive_from_log(self.store, community, plan[community], self.until, self.records,
                                                  self.cfg))
        else:
            claims = _Claims(_largest_first(plan), self.counter)
            while self.share and (claim := claims.next()) is not None:  # what no worker has started yet
                i, community = claim
                path = _part_path(self.target, os.getpid(), i)
                _write_part(path, derive_from_log(self.store, community, plan[community], self.until, self.records,
                                                  self.cfg))
                self.parts[community] = path
            self._collect(len(communities))
            for community in communities:
                _copy_part(conn, self.parts.pop(community))
            conn.execute("BEGIN")
        conn.executemany(f"INSERT OR REPLACE INTO [{META}] (key, value) VALUES (?, ?)", list(marks()))
        conn.execute("COMMIT")

    def _collect(self, expected: int) -> None:
        while len(self.parts) < expected:
            try:
                community, path, error = self.results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in self.procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"a replay worker died (exit code {dead[0].exitcode})") from None
                continue
            if error is not None:
                raise RuntimeError(f"a replay worker failed:\n{error}")
            self.parts[community] = Path(path)

    def close(self) -> None:
        """Stop the workers and remove their files (after `finish`, or when the replay failed)."""
        for p in self.procs:
            if p.is_alive():
                p.terminate()
            p.join()
        while self.procs:  # files finished but not collected yet
            try:
                _, path, _ = self.results.get_nowait()
            except (queue.Empty, OSError, ValueError):
                break
            if path:
                Path(path).unlink(missing_ok=True)
        for path in self.parts.values():
            path.unlink(missing_ok=True)
        self.procs, self.parts = [], {}
