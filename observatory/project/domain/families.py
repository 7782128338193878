"""Which screenshots are grouped with which: the kinds grouped together (a family), and how far a group reaches.

Every shape groups its screenshots family by family: a snapshot table's kinds, an event's kinds, one
ranking kind, the team results, the race results. Groups never cross families, and within one family
they form from three links only: screenshots within the family's `reach` of each other in time (a
chained window or a capture session), screenshots sharing a piece of `evidence` (an identical reading,
whatever their times), and screenshots that land on the same calendar key. So a new screenshot can only
change the groups of the screenshots it is linked to, transitively (`neighbourhood`): grouping that
neighbourhood on its own gives the very groups grouping the whole history gives there, and every
group outside it stays as it was. That is what lets a settle re-group a handful of screenshots instead
of a community's history (state.py).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ...games import kind, kinds, kinds_by, pack_of, ranking_table, read_model
from . import events, snapshots
from .grouping import cluster
from .model import DomainConfig, log_order, stable_id
from .used import Used

RESULT_WINDOW = timedelta(days=2)  # two copies of one result are posted within this of each other


@dataclass(frozen=True)
class Family:
    """Kinds grouped together, and what their groups write."""

    name: str
    shape: str
    kinds: tuple[str, ...]
    table: str  # the snapshot's or event's table, the ranking kind, or the shape's own header table
    tables: tuple[str, ...]  # every table its groups write rows to

    def order(self, u: Used) -> tuple[Any, ...]:
        """Where a screenshot stands in the list this family groups: its kind's place, then log order (results:
        log order alone)."""
        place = 0 if self.shape in ("team_match", "race") else self.kinds.index(u.shot.kind or "")
        return (place, *log_order(u.shot))

    def reach(self, cfg: DomainConfig) -> timedelta:
        """How far apart in time two of its screenshots can be and still be linked by time alone."""
        if self.shape in ("team_match", "race"):
            return timedelta(0)
        if self.shape == "ranking":
            rm = read_model(self.kinds[0])
            assert rm is not None
            return timedelta(minutes=rm.session_minutes)
        window = _window(self)
        return cfg.hunt_window if window == "event" else cfg.snapshot_window

    def evidence(self, u: Used) -> Iterable[Hashable]:
        if self.shape == "event":
            found = events.evidence(_spec(self.table))
            return found(u) if found is not None else ()
        if self.shape in ("team_match", "race"):
            return _result_evidence(u)
        return ()

    def groups(self, community: str, shots: Sequence[Used], cfg: DomainConfig) -> list[Grp]:
        """The groups of `shots` (this family's, in `order`)."""
        if self.shape == "snapshot":
            return [Grp(self, s.found.id, s.found.members, s) for s in snapshots.groups(community, self.table, shots, cfg)]
        if self.shape == "event":
            return [Grp(self, e.found.id, e.found.members, e) for e in events.groups(community, self.table, shots, cfg)]
        if self.shape == "ranking":
            rm = read_model(self.kinds[0])
            assert rm is not None
            found = cluster(shots, time=lambda u: u.time, window=timedelta(minutes=rm.session_minutes),
                            key=lambda u: tuple(str(u.reading.meta.get(g)) for g in rm.group_by))
            prefix = "k"
        else:
            found = cluster(shots, time=lambda u: u.time, window=timedelta(0), key=lambda u: u.shot.id,
                            compatible=lambda a, b: abs(a.time - b.time) <= RESULT_WINDOW, evidence=_result_evidence)
            prefix = "w" if self.shape == "team_match" else "c"
        out = []
        for members in found:
            anchor = min(members, key=lambda u: u.shot.ingest_seq)
            out.append(Grp(self, stable_id(prefix, community, anchor.shot.id), members, members))
        return out


@dataclass(slots=True, eq=False)
class Grp:
    """One group of one family: its id, its screenshots, and what its shape's rows are made from."""

    family: Family
    id: str
    members: list[Used]
    obj: Any  # a snapshots.Snapshot, an events.Event, or the screenshots (ranking, team_match, race)
    moves: list[tuple[str, str]] = field(default_factory=list)  # whose readings its votes gave to whom
    deps: dict[str, frozenset[int]] = field(default_factory=dict)  # players its votes weighed (derive.vote)
    review: list[dict[str, Any]] = field(default_factory=list)  # its votes' review items

    @property
    def key(self) -> tuple[str, str]:
        return (self.family.name, self.id)


def _window(f: Family) -> str:
    if f.shape == "event":
        return _spec(f.table).window
    rm = read_model(f.kinds[0])
    assert rm is not None
    return rm.window


def _spec(table: str):  # type: ignore[no-untyped-def]
    pack = pack_of(kinds_by("event", "event")[table][0])
    assert pack is not None
    return pack.events[table]


def _result_evidence(u: Used) -> Iterable[Hashable]:
    """Screenshots showing the same totals, or mostly the same rows, are one result (sent twice)."""
    t1, t2 = u.reading.meta.get("team1_total"), u.reading.meta.get("team2_total")
    if isinstance(t1, int) and isinstance(t2, int) and t1 + t2 > 0:
        yield ("totals", t1, t2)
    rows = sorted((str(u.base[i]), r.get("score")) for i, r in enumerate(u.reading.rows)
                  if u.base[i] is not None and isinstance(r.get("score"), int))
    if len(rows) >= 4:
        yield ("rows", tuple(rows))


@lru_cache(maxsize=1)
def families() -> tuple[Family, ...]:
    """Every family the packs declare, in the order a derivation goes through them."""
    out: list[Family] = []
    for table, names in kinds_by("event", "event").items():
        parts = tuple(sorted({read_model(n).table for n in names}))  # type: ignore[union-attr]
        out.append(Family(f"event:{table}", "event", names, table, (table, *parts)))
    for table, names in kinds_by("snapshot", "table").items():
        out.append(Family(f"snapshot:{table}", "snapshot", names, table, (table,)))
    for name in sorted(n for n, k in kinds().items() if k.read_model is not None and k.read_model.shape == "ranking"):
        k = kind(name)
        assert k is not None
        out.append(Family(f"ranking:{name}", "ranking", (name,), name, ("rankings", ranking_table(k))))
    for shape, tables in (("team_match", ("wars", "war_scores")), ("race", ("races", "race_results"))):
        names = tuple(sorted(n for n, k in kinds().items() if k.read_model is not None and k.read_model.shape == shape))
        if names:
            out.append(Family(shape, shape, names, tables[0], tables))
    return tuple(out)


@lru_cache(maxsize=1)
def family_of() -> dict[str, Family]:
    return {name: f for f in families() for name in f.kinds}


# --- a new screenshot's neighbourhood ---------------------------------------------------------------


class FamilyIndex:
    """One family's screenshots of a community, in time order, with their groups and evidence: what finds the
    screenshots a new one may regroup."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.times: list[tuple[datetime, tuple[Any, ...]]] = []  # (time, order), sorted
        self.by_order: dict[tuple[Any, ...], Used] = {}
        self.group_of: dict[str, Grp] = {}  # screenshot id -> its group
        self.by_id: dict[str, Grp] = {}
        self.evidence: dict[Hashable, list[Used]] = {}

    def add(self, u: Used) -> None:
        o = self.family.order(u)
        bisect.insort(self.times, (u.time, o))
        self.by_order[o] = u
        for ev in set(self.family.evidence(u)):
            self.evidence.setdefault(ev, []).append(u)

    def remove(self, u: Used) -> None:
        """Forget a screenshot read again (its new reading is `add`ed)."""
        o = self.family.order(u)
        del self.times[bisect.bisect_left(self.times, (u.time, o))]
        del self.by_order[o]
        for ev in set(self.family.evidence(u)):
            self.evidence[ev].remove(u)

    def near(self, when: datetime, reach: timedelta) -> list[Used]:
        times, end = self.times, when + reach
        i, out = bisect.bisect_left(times, (when - reach,)), []
        while i < len(times) and times[i][0] <= end:
            out.append(self.by_order[times[i][1]])
            i += 1
        return out

    def neighbourhood(self, new: Sequence[Used], cfg: DomainConfig, limit: int,
                      regroup: Callable[[list[Used]], list[Grp]]) -> tuple[list[Grp], list[Grp]] | None:
        """(the groups `new` (already `add`ed) may change, those groups anew); None when the screenshots they
        hold pass `limit` (then the whole history is grouped again).

        The neighbourhood is closed under the three links (time, evidence, an old group's other members), so
        grouping it alone gives what grouping everything gives there (see the module's docstring).
        """
        reach = self.family.reach(cfg)
        inside: dict[str, Used] = {}
        todo = list(new)
        while True:
            while todo:
                u = todo.pop()
                if u.shot.id in inside:
                    continue
                inside[u.shot.id] = u
                if len(inside) > limit:
                    return None
                linked = self.near(u.time, reach)
                g = self.group_of.get(u.shot.id)
                if g is not None:
                    linked += g.members
                for ev in set(self.family.evidence(u)):
                    linked += self.evidence.get(ev, ())
                todo += [v for v in linked if v.shot.id not in inside and self._current(v)]
            found = regroup(sorted(inside.values(), key=self.family.order))
            # a calendar window's key is its id: a group formed here may already hold screenshots outside
            todo = [u for g in found if (old := self.by_id.get(g.id)) is not None
                    for u in old.members if u.shot.id not in inside and self._current(u)]
            if not todo:
                gone = {id(g): g for u in inside.values() if (g := self.group_of.get(u.shot.id)) is not None}
                return list(gone.values()), found

    def _current(self, u: Used) -> bool:
        """Whether `u` is a screenshot's reading this family holds (an old group may still hold one read again,
        or read as a kind of another family since)."""
        return self.by_order.get(self.family.order(u)) is u

    def replace(self, gone: Iterable[Grp], groups: Iterable[Grp]) -> None:
        for g in gone:
            if self.by_id.get(g.id) is g:
                del self.by_id[g.id]
            for u in g.members:
                if self.group_of.get(u.shot.id) is g:
                    del self.group_of[u.shot.id]
        for g in groups:
            self.by_id[g.id] = g
            for u in g.members:
                self.group_of[u.shot.id] = g
