"""The nightly check: the log's hash chain (every row, the guards, the anchor), and the projections against a fresh rebuild.

The live projections are copied (backup API: one consistent snapshot while the
pipeline keeps writing), a fresh copy is rebuilt from the log up to the very
checkpoints the snapshot had, and the two are compared table by table with
EXCEPT in both directions. Checkpoint and meta tables are bookkeeping, not data.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from ..eventlog import EventStore, LogKeyError, log_exists, open_log
from ..eventlog.integrity import IntegrityReport, check_log
from ..project import all_projectors, catch_up, open_db
from ..project.framework import CHECKPOINTS, META, ensure_schema
from ..settings import Settings

log = logging.getLogger(__name__)

SKIP_TABLES = {CHECKPOINTS, META}


@dataclass(frozen=True, slots=True)
class TableDiff:
    table: str
    live_rows: int
    rebuilt_rows: int
    only_live: int
    only_rebuilt: int
    note: str = ""

    def __str__(self) -> str:
        if self.note:
            return f"{self.table}: {self.note}"
        return (f"{self.table}: {self.only_live} row(s) only in the live projections, "
                f"{self.only_rebuilt} only in the rebuild (live {self.live_rows}, rebuilt {self.rebuilt_rows})")


@dataclass(slots=True)
class CheckReport:
    chain: IntegrityReport
    compared_tables: list[str] = field(default_factory=list)
    differences: list[TableDiff] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.differences

    def summary(self) -> str:
        if not self.chain.ok:  # the projections were not compared: say so, never "match"
            c = self.chain
            first = f"hash chain BROKEN at sequence {c.first_broken_seq}: {c.chain_problem}" if c.chain_problem else ""
            rest = [p for p in c.problems if not (c.chain_problem and c.chain_problem in p)]
            return "; ".join([x for x in (first, *rest) if x]) + "; projections not compared"
        head = f"hash chain intact ({self.chain.head_seq} events, anchored)"
        if self.note:
            return f"{head}; {self.note}"
        if self.differences:
            return f"{head}; projections DIFFER from a rebuild: " + "; ".join(map(str, self.differences))
        return f"{head}; projections match a rebuild ({len(self.compared_tables)} tables)"


def nightly_check(settings: Settings) -> CheckReport:
    if not log_exists(settings):
        return CheckReport(IntegrityReport(full=True), note="no event log yet")
    try:
        store = open_log(settings, readonly=True)
    except LogKeyError as exc:
        return CheckReport(IntegrityReport(full=True, problems=[str(exc)]))
    with store:
        report = CheckReport(check_log(store, settings.log_anchor_path, full=True))
        if not report.chain.ok:
            return report
        if not settings.projections_db.exists():
            report.note = "no projections yet"
            return report
        settings.projections_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".verify-", dir=settings.projections_dir) as tmp:
            live, fresh = Path(tmp) / "live.db", Path(tmp) / "rebuilt.db"
            _snapshot(settings.projections_db, live)
            _rebuild_to_checkpoints(store, live, fresh, settings.projection_batch_size)
            report.compared_tables, report.differences = compare(live, fresh)
    return report


def _snapshot(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)


def _rebuild_to_checkpoints(store: EventStore, live: Path, fresh: Path, batch_size: int) -> None:
    with closing(sqlite3.connect(live)) as conn:
        done = dict(conn.execute(f"SELECT projector, seq FROM [{CHECKPOINTS}]").fetchall()) \
            if _tables(conn) & {CHECKPOINTS} else {}
    db = open_db(fresh, fast=True)
    try:
        projectors = all_projectors()
        ensure_schema(db, projectors)
        for p in projectors:  # each one up to exactly where the live copy had it
            catch_up(store, db, [p], batch_size=batch_size, until=int(done.get(p.name, 0)))
    finally:
        db.conn.close()


def _tables(conn: sqlite3.Connection, schema: str = "main") -> set[str]:
    return {n for (n,) in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")
            if not n.startswith("sqlite_")}


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info([{table}])")]


def compare(live: Path, fresh: Path) -> tuple[list[str], list[TableDiff]]:
    """(tables compared, differences) between two projection files, ignoring bookkeeping tables."""
    diffs: list[TableDiff] = []
    with closing(sqlite3.connect(live)) as conn:
        conn.execute("ATTACH DATABASE ? AS fresh", [str(fresh)])
        mine, theirs = _tables(conn) - SKIP_TABLES, _tables(conn, "fresh") - SKIP_TABLES
        for table in sorted(mine ^ theirs):
            where = "the rebuild" if table in mine else "the live projections"
            diffs.append(TableDiff(table, 0, 0, 0, 0, note=f"missing in {where}"))
        for table in sorted(mine & theirs):
            cols = _columns(conn, "main", table)
            if sorted(cols) != sorted(_columns(conn, "fresh", table)):
                diffs.append(TableDiff(table, 0, 0, 0, 0, note="columns differ"))
                continue
            sel = ", ".join(f'"{c}"' for c in cols)
            a = f"SELECT {sel} FROM main.[{table}]"
            b = f"SELECT {sel} FROM fresh.[{table}]"
            (n_live,) = conn.execute(f"SELECT COUNT(*) FROM main.[{table}]").fetchone()
            (n_fresh,) = conn.execute(f"SELECT COUNT(*) FROM fresh.[{table}]").fetchone()
            (only_live,) = conn.execute(f"SELECT COUNT(*) FROM ({a} EXCEPT {b})").fetchone()
            (only_fresh,) = conn.execute(f"SELECT COUNT(*) FROM ({b} EXCEPT {a})").fetchone()
            if only_live or only_fresh or n_live != n_fresh:
                diffs.append(TableDiff(table, n_live, n_fresh, only_live, only_fresh))
        return sorted(mine & theirs), diffs
