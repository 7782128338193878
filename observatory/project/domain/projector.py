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

import bisect
import json
import logging
import time
import uuid
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from ...correct.state import RECORD_SELECT, Record, record_from_payload, record_from_row, reverted_by
from ...eventlog import EventStore, StoredEvent
from ..framework import META, Projector, ReplayJob, checkpoint_of, paused_gc
from . import schema
from .fanout import DomainReplay
from .model import DomainConfig
from .pending import add_unread
from .shots import CACHE, load_shots, load_shots_by_id
from .state import CommunityState
from .writes import Delta, replace_rows, write_delta

log = logging.getLogger(__name__)
KEPT = 8  # communities whose derivation a process keeps, unless told otherwise (OBSERVATORY_DERIVATIONS_KEPT)
DIRTY = "_domain_dirty"
DIRTY_SHOTS = "_domain_dirty_shots"  # the screenshots a settle takes in (state.py), beside their communities
# community -> a token written by every settle of it: the derivation a process kept (STATES) goes on only
# from the very tables it wrote; another process's settle, a restored file or a rebuild start it over.
TOKENS = "_domain_tokens"
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
        # whether a correction names a screenshot, for each screenshot ingested (pending.py)
        db.execute("CREATE INDEX IF NOT EXISTS idx_corrections_screenshot ON corrections "
                   "(json_extract(detail, '$.screenshot_id'))")

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

    def __init__(self, config: DomainConfig | None = None, *, kept: int | None = None) -> None:
        """`kept`: how many communities' derivations this process keeps (OBSERVATORY_DERIVATIONS_KEPT)."""
        self.config = config or DomainConfig()
        self.kept = KEPT if kept is None else kept
        self.settled: Counter[str] = Counter()  # settles "incrementally" or "in full: <why>" (tests, benchmarks)

    def schema_signature(self) -> str:
        return schema.signature()

    def setup(self, db: sqlite_utils.Database) -> None:
        schema.setup(db)
        db.execute(f"CREATE TABLE IF NOT EXISTS [{DIRTY}] (community TEXT PRIMARY KEY)")
        db.execute(f"CREATE TABLE IF NOT EXISTS [{DIRTY_SHOTS}] (community TEXT NOT NULL, screenshot_id TEXT NOT NULL, "
                   "PRIMARY KEY (community, screenshot_id))")
        db.execute(f"CREATE TABLE IF NOT EXISTS [{TOKENS}] (community TEXT PRIMARY KEY, token TEXT NOT NULL)")

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
        touched: dict[str, str] = {}  # screenshot -> community
        for i in range(0, len(shas_list), 500):
            chunk = shas_list[i:i + 500]
            q = f"SELECT id, community FROM screenshots WHERE id IN ({','.join('?' * len(chunk))})"
            touched.update(conn.execute(q, chunk).fetchall())
        dirty.update(touched.values())
        # A screenshot only ingested yet adds its two rows here, not a settle of its whole community (pending.py).
        unread = {sha: c for sha, c in ingested.items() if sha not in shas and c not in dirty}
        dirty |= {c for sha, c in ingested.items() if sha not in unread}
        dirty |= add_unread(conn, unread, self.config, dirty_table=DIRTY, projector=self.name)
        touched.update({sha: c for sha, c in ingested.items() if c in dirty})
        conn.executemany(f"INSERT OR IGNORE INTO [{DIRTY}] (community) VALUES (?)", [(c,) for c in sorted(dirty)])
        conn.executemany(f"INSERT OR IGNORE INTO [{DIRTY_SHOTS}] (community, screenshot_id) VALUES (?, ?)",
                         [(c, sha) for sha, c in sorted(touched.items())])

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
            row = conn.execute(f"SELECT value FROM [{META}] WHERE key = 'log_id'").fetchone()
            home = (row[0] if row else "", conn.execute("PRAGMA database_list").fetchone()[2])  # this log, this file
            records = CORRECTIONS.until(store, home[0], upto)
            by_community = CORRECTIONS.by_community(conn, upto)
            seen = _seen(conn)
            dirty = {c for (c,) in conn.execute(f"SELECT community FROM [{DIRTY}]")}
            dirty |= {c for c, mine in by_community.items() if mine and mine[-1].seq > seen}
            stored = conn.execute(f"SELECT value FROM [{META}] WHERE key = 'domain_config'").fetchone()
            if stored is None or stored[0] != self.config.fingerprint:
                dirty |= {c for (c,) in conn.execute("SELECT DISTINCT community FROM screenshots")}
                dirty |= {c for (c,) in conn.execute("SELECT community FROM communities")}
            # Never settled before (a replay, a new home): `apply` writes no domain rows, so the
            # tables are empty and there is nothing to compare with.
            empty = stored is None
            for community in sorted(dirty):
                mine = by_community.get(community, [])
                changed = [sid for (sid,) in conn.execute(
                    f"SELECT screenshot_id FROM [{DIRTY_SHOTS}] WHERE community = ?", [community])]
                with paused_gc():  # a big community's derivation: the collector would cost three times it (framework.py)
                    self._recompute(conn, (*home, community), mine, changed, empty=empty)
            conn.execute(f"DELETE FROM [{DIRTY}]")
            conn.execute(f"DELETE FROM [{DIRTY_SHOTS}]")
            conn.executemany(f"INSERT OR REPLACE INTO [{META}] (key, value) VALUES (?, ?)",
                             [("domain_config", self.config.fingerprint),
                              (SEEN, str(records[-1].seq if records else 0))])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(dirty)

    def replay_job(self, store: EventStore, until: int, *, target: Path, workers: int) -> ReplayJob:
        """A replay derives each community straight from the log, beside the facts' catch-up (fanout.py)."""
        return _DomainReplayJob(self, DomainReplay(store, until, self.config, target=target, workers=workers))

    def _recompute(self, conn: Any, key: tuple[str, str, str], records: list[Record], changed: list[str], *,
                   empty: bool = False) -> None:
        """Take `changed` into the derivation this process kept of a community (`key`: log id, projection file,
        community; state.py), or derive it anew."""
        community = key[2]
        token = conn.execute(f"SELECT token FROM [{TOKENS}] WHERE community = ?", [community]).fetchone()
        kept = STATES.pop(key)
        new_token = uuid.uuid4().hex
        if not empty:  # a replay keeps no derivation, so it writes no tokens: its files come out alike
            conn.execute(f"INSERT OR REPLACE INTO [{TOKENS}] (community, token) VALUES (?, ?)", [community, new_token])
        why = "first settle in this process"
        if kept is None or empty:
            pass
        elif token is None or kept[1] != token[0]:
            why = "another process settled it"
        elif kept[0].cfg != self.config:
            why = "the configuration changed"
        else:
            delta = Delta()
            if kept[0].cids != tuple(r.cid for r in records):
                changed = sorted({*changed, *(sid for r in records[len(kept[0].cids):]
                                              if (sid := getattr(r.correction, "screenshot_id", None)))})
                delta = kept[0].correct(records)
            if delta is not None and changed:
                write_delta(conn, community, delta)
                delta = kept[0].append(load_shots_by_id(conn, changed))
            if delta is not None:
                write_delta(conn, community, delta)
                STATES.put(key, (kept[0], new_token), self.kept)
                self.settled["incrementally"] += 1
                return
            why = kept[0].spent
        self.settled[f"in full: {why}"] += 1
        started = time.perf_counter()
        # A replay derives each community once: no cache, so its memory stays one community's (shots.py).
        shots = load_shots(conn, community, None if empty else CACHE)
        state = CommunityState(community, self.config, records, keep=not empty and self.kept > 0)
        tables = state.build(shots)
        for table in schema.TABLES:
            replace_rows(conn, table, community, tables.get(table) or [], empty=empty)
        if not empty and self.kept:
            STATES.put(key, (state, new_token), self.kept)
            # a settle that takes seconds in a big community: say why it could not go incrementally
            log.info("%s: %d screenshots derived in full in %.1f s (%s)", community, len(shots),
                     time.perf_counter() - started, why)


class _States:
    """The derivations this process kept, of the communities it settled last (each with its token)."""

    def __init__(self) -> None:
        self._found: OrderedDict[tuple[str, str, str], tuple[CommunityState, str]] = OrderedDict()

    def pop(self, key: tuple[str, str, str]) -> tuple[CommunityState, str] | None:
        return self._found.pop(key, None)

    def put(self, key: tuple[str, str, str], value: tuple[CommunityState, str], keep: int) -> None:
        self._found[key] = value
        while len(self._found) > keep:
            self._found.popitem(last=False)

    def clear(self) -> None:
        self._found.clear()


STATES = _States()


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


class _Corrections:
    """The corrections of the log a process settles from, read once: a settle needs them all, and a log only grows.

    Kept for one log (its file and id: a copy that was appended to otherwise is another log), with the
    communities they were found to bear on (a screenshot's community never changes once it is ingested)."""

    def __init__(self) -> None:
        self.key: tuple[str, str] | None = None
        self.records: list[Record] = []
        self.seqs: list[int] = []
        self.community: dict[str, str] = {}
        self.read_to = 0  # the seq up to which the log was read
        self.grouped = 0  # how many of `records` are in `groups` or `unknown`
        self.groups: dict[str, list[Record]] = defaultdict(list)
        self.unknown: list[Record] = []  # corrections whose community the projections do not know yet

    def until(self, store: EventStore, log_id: str, upto: int) -> list[Record]:
        key = (str(store.where), log_id)
        if key != self.key:
            self.key, self.records, self.seqs, self.community, self.read_to = key, [], [], {}, 0
            self.grouped, self.groups, self.unknown = 0, defaultdict(list), []
        if upto > self.read_to:
            found = [record_from_payload(e.event_id, e.seq, e.payload, e.recorded_at)
                     for e in store.corrections(after=self.read_to, until=upto)]
            self.records += found
            self.seqs += [r.seq for r in found]
            self.read_to = upto
        return self.records[:bisect.bisect_right(self.seqs, upto)]

    def by_community(self, conn: Any, upto: int) -> dict[str, list[Record]]:
        """The corrections up to `upto` (read by `until`) by the community they bear on, each in log order."""
        n = bisect.bisect_right(self.seqs, upto)
        if n < self.grouped:  # a projection behind the last one: group again
            self.grouped, self.groups, self.unknown = 0, defaultdict(list), []
        still = []
        for r in [*self.unknown, *self.records[self.grouped:n]]:  # the unknown ones: their screenshot may be in now
            community = self._community_of(conn, r)
            if community is None:
                still.append(r)
            else:
                bisect.insort(self.groups[community], r, key=lambda r: r.seq)
        self.unknown, self.grouped = still, n
        return self.groups

    def _community_of(self, conn: Any, r: Record) -> str | None:
        """The community a correction bears on, as the `corrections` audit table shows it: its own `community`,
        else its screenshot's; a revert belongs to the community of what it reverts (which comes before it)."""
        found = self.community.get(r.cid)
        if found is None:
            c = r.correction
            if c.kind == "revert":
                found = self.community.get(c.correction_id)
            else:
                found = getattr(c, "community", None)
                if found is None and getattr(c, "screenshot_id", None):
                    row = conn.execute("SELECT community FROM screenshots WHERE id = ?", [c.screenshot_id]).fetchone()
                    found = row[0] if row else None
            if found is not None:  # a screenshot's community never changes once it is ingested
                self.community[r.cid] = found
        return found


CORRECTIONS = _Corrections()


