"""Projectors for corrections and the domain tables.

The domain tables are a pure function of each community's screenshots and
corrections (`derive`). A batch only marks the communities its screenshots touched
as dirty, in the same transaction as its checkpoint (a screenshot only ingested, not
read yet, adds its own two rows instead: pending.py); `settle` then recomputes those
communities in one transaction. The corrections come from the log itself (up to the
projector's checkpoint), not from the `corrections` table another projector keeps:
`settle` also marks the communities of corrections newer than the last settle. A
crash in between leaves them marked, so nothing is lost, and a full replay derives
each community exactly once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from ...correct.state import RECORD_SELECT, Record, record_from_payload, record_from_row, reverted_by
from ...eventlog import EventStore, StoredEvent
from ..framework import META, Projector, ReplayJob, checkpoint_of
from . import schema
from .derive import derive
from .fanout import DomainReplay
from .model import DomainConfig
from .pending import add_unread
from .shots import CACHE, load_shots

DIRTY = "_domain_dirty"
# Key in META: the seq of the newest correction the last settle derived (0: none); newer ones dirty their community.
# Not the checkpoint: a batch that needs no settle (pending.py) leaves it as it is, and a replay must agree.
SEEN = "domain_corrections_seen"


def _target(c: Any) -> str:
    """What a correction is about, for the audit list."""
    if c.kind == "note":
        return c.target
    for attr in ("screenshot_id", "player_id", "source_id", "name", "correction_id", "target"):
        value = getattr(c, attr, None)
        if value:
            return str(value)
    return ""


class CorrectionsProjector(Projector):
    """`corrections`: every CorrectionApplied, who/when/why, and whether it is still in force."""

    name = "corrections"
    handles = frozenset({"CorrectionApplied"})
    tables = ("corrections",)

    def setup(self, db: sqlite_utils.Database) -> None:
        schema.create(db, "corrections", schema.CORRECTIONS_DDL)
        db.execute("CREATE INDEX IF NOT EXISTS idx_corrections_community ON corrections (community, seq)")
        db.execute("CREATE INDEX IF NOT EXISTS idx_corrections_seq ON corrections (seq)")  # the audit, newest first

    def apply(self, db: sqlite_utils.Database, events: Sequence[StoredEvent]) -> None:
        conn = db.conn
        reverts = False
        for ev in events:
            rec = record_from_payload(ev.event_id, ev.seq, ev.payload, ev.recorded_at)
            c = rec.correction
            community = getattr(c, "community", None)
            if community is None and getattr(c, "screenshot_id", None):
                row = conn.execute("SELECT community FROM screenshots WHERE id = ?", [c.screenshot_id]).fetchone()
                community = row[0] if row else None
            if c.kind == "revert":
                reverts = True
                row = conn.execute("SELECT community FROM corrections WHERE correction_id = ?", [c.correction_id]).fetchone()
                community = row[0] if row else None
            conn.execute(
                "INSERT OR IGNORE INTO corrections (correction_id, seq, recorded_at, actor, reason, kind, community, "
                "target, detail, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')",
                [rec.cid, ev.seq, ev.recorded_at, rec.actor, rec.reason, c.kind, community, _target(c),
                 json.dumps(ev.payload["correction"], ensure_ascii=False, sort_keys=True)],
            )
        if reverts:
            # Only reverts decide what is reverted: reading just them keeps this from
            # re-validating every correction of the log on each batch.
            undone = reverted_by([record_from_row(r) for r in conn.execute(RECORD_SELECT + " WHERE kind = 'revert'")])
            conn.execute("UPDATE corrections SET status = 'active', reverted_by = NULL WHERE status != 'active'")
            conn.executemany("UPDATE corrections SET status = 'reverted', reverted_by = ? WHERE correction_id = ?",
                             [(by, cid) for cid, by in undone.items()])


class DomainProjector(Projector):
    name = "domain"
    handles = frozenset({"ScreenshotIngested", "ScreenshotClassified", "ScoresExtracted", "ExtractionFailed"})
    tables = tuple(schema.TABLES)

    def __init__(self, config: DomainConfig | None = None) -> None:
        self.config = config or DomainConfig()

    def schema_signature(self) -> str:
        return schema.signature()

    def setup(self, db: sqlite_utils.Database) -> None:
        schema.setup(db)
        db.execute(f"CREATE TABLE IF NOT EXISTS [{DIRTY}] (community TEXT PRIMARY KEY)")

    def apply(self, db: sqlite_utils.Database, events: Sequence[StoredEvent]) -> None:
        conn = db.conn
        dirty: set[str] = set()
        shas: set[str] = set()
        ingested: dict[str, str] = {}
        for ev in events:
            p = ev.payload
            if ev.type == "ScreenshotIngested":
                ingested.setdefault(p["sha256"], p["community"])
            else:
                shas.add(p["sha256"])
        shas_list = sorted(shas)
        for i in range(0, len(shas_list), 500):
            chunk = shas_list[i:i + 500]
            q = f"SELECT DISTINCT community FROM screenshots WHERE id IN ({','.join('?' * len(chunk))})"
            dirty.update(c for (c,) in conn.execute(q, chunk))
        # A screenshot only ingested yet adds its two rows here, not a settle of its whole community (pending.py).
        unread = {sha: c for sha, c in ingested.items() if sha not in shas and c not in dirty}
        dirty |= {c for sha, c in ingested.items() if sha not in unread}
        dirty |= add_unread(conn, unread, self.config, dirty_table=DIRTY, projector=self.name)
        conn.executemany(f"INSERT OR IGNORE INTO [{DIRTY}] (community) VALUES (?)", [(c,) for c in sorted(dirty)])

    def settle(self, db: sqlite_utils.Database, store: EventStore) -> int:
        """Recompute every dirty community; returns how many were recomputed."""
        conn = db.conn
        stored = conn.execute(f"SELECT value FROM [{META}] WHERE key = 'domain_config'").fetchone()
        if stored is not None and stored[0] == self.config.fingerprint and \
                conn.execute(f"SELECT 1 FROM [{DIRTY}] LIMIT 1").fetchone() is None and \
                not store.corrections(after=_seen(conn), until=checkpoint_of(db, self.name)):
            return 0  # the usual idle check of a running daemon: no write transaction at all
        conn.execute("BEGIN IMMEDIATE")
        try:
            upto = checkpoint_of(db, self.name)
            records = [record_from_payload(e.event_id, e.seq, e.payload, e.recorded_at)
                       for e in store.corrections(until=upto)]
            community_of = correction_communities(conn, records)
            seen = _seen(conn)
            dirty = {c for (c,) in conn.execute(f"SELECT community FROM [{DIRTY}]")}
            dirty |= {community_of[r.cid] for r in records if r.seq > seen and community_of[r.cid]}  # type: ignore[misc]
            stored = conn.execute(f"SELECT value FROM [{META}] WHERE key = 'domain_config'").fetchone()
            if stored is None or stored[0] != self.config.fingerprint:
                dirty |= {c for (c,) in conn.execute("SELECT DISTINCT community FROM screenshots")}
                dirty |= {c for (c,) in conn.execute("SELECT community FROM communities")}
            # Never settled before (a replay, a new home): `apply` writes no domain rows, so the
            # tables are empty and there is nothing to compare with.
            empty = stored is None
            for community in sorted(dirty):
                mine = [r for r in records if community_of[r.cid] == community]
                self._recompute(conn, community, mine, empty=empty)
            conn.execute(f"DELETE FROM [{DIRTY}]")
            conn.executemany(f"INSERT OR REPLACE INTO [{META}] (key, value) VALUES (?, ?)",
                             [("domain_config", self.config.fingerprint),
                              (SEEN, str(max((r.seq for r in records), default=0)))])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(dirty)

    def replay_job(self, store: EventStore, until: int, *, target: Path, workers: int) -> ReplayJob:
        """A replay derives each community straight from the log, beside the facts' catch-up (fanout.py)."""
        return _DomainReplayJob(self, DomainReplay(store, until, self.config, target=target, workers=workers))

    def _recompute(self, conn: Any, community: str, records: list[Record], *, empty: bool = False) -> None:
        # A replay derives each community once: no cache, so its memory stays one community's (shots.py).
        shots = load_shots(conn, community, None if empty else CACHE)
        tables = derive(community, shots, records, self.config)
        for table in schema.TABLES:
            replace_rows(conn, table, community, tables.get(table) or [], empty=empty)


class _DomainReplayJob(ReplayJob):
    def __init__(self, projector: DomainProjector, replay: DomainReplay) -> None:
        self.projector, self.replay = projector, replay

    def finish(self, db: sqlite_utils.Database) -> None:
        self.replay.finish(db.conn, lambda: [("domain_config", self.projector.config.fingerprint),
                                             (SEEN, str(self.replay.newest_correction()))])

    def close(self) -> None:
        self.replay.close()


def _seen(conn: Any) -> int:
    row = conn.execute(f"SELECT value FROM [{META}] WHERE key = ?", [SEEN]).fetchone()
    return int(row[0]) if row else 0


def correction_communities(conn: Any, records: Sequence[Record]) -> dict[str, str | None]:
    """The community each correction bears on, as the `corrections` audit table shows it.

    Its own `community`, else its screenshot's; a revert belongs to the community of what it reverts.
    """
    out: dict[str, str | None] = {}
    for r in records:  # log order: a revert comes after what it reverts
        c = r.correction
        if c.kind == "revert":
            out[r.cid] = out.get(c.correction_id)
            continue
        community = getattr(c, "community", None)
        if community is None and getattr(c, "screenshot_id", None):
            row = conn.execute("SELECT community FROM screenshots WHERE id = ?", [c.screenshot_id]).fetchone()
            community = row[0] if row else None
        out[r.cid] = community
    return out


def replace_rows(conn: Any, table: str, community: str, rows: list[dict[str, Any]], *, empty: bool = False) -> None:
    """Make `community`'s rows of `table` exactly `rows`, writing only the ones that changed.

    A new screenshot changes a handful of a big community's hundreds of thousands of rows;
    deleting and re-inserting them all cost more than deriving them, and rewrote every
    index page Datasette had cached. `empty`: the table is known to hold none of them.
    """
    cols = schema.COLUMNS[table]
    names = ", ".join(f"[{c}]" for c in cols)
    insert = f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(cols))})"
    if empty:
        conn.executemany(insert, [tuple(r.get(c) for c in cols) for r in rows])
        return
    wanted = Counter(tuple(r.get(c) for c in cols) for r in rows)
    stale = []
    for rowid, *values in conn.execute(f"SELECT rowid, {names} FROM [{table}] WHERE community = ?", [community]):
        row = tuple(values)
        if wanted[row] > 0:
            wanted[row] -= 1
        else:
            stale.append((rowid,))
    conn.executemany(f"DELETE FROM [{table}] WHERE rowid = ?", stale)
    conn.executemany(insert, wanted.elements())
