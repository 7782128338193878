"""A community's derivation, kept between settles so that a new screenshot costs what it touches.

`derive` runs every step of derive.py over a whole community. A `CommunityState` runs the same steps,
keeps what they found (each name's player, each screenshot's group, who voted for whom, the players
whose exact values are doubtful, who was seen where), and `append` then takes screenshots read after
every one it holds through only what they reach:

- their names continue the log-ordered identity (players.py: an earlier name never changes owner);
- their family regroups just their neighbourhood (families.py);
- the groups they form vote again, and so does every group whose vote weighed a player they show;
- the cross-check compares again the readings of the players whose readings changed;
- the groups whose players or doubtful values changed, and the wars whose players were seen elsewhere
  for the first time, make their rows again; the players' rows follow.

What it cannot take that way (a correction, a screenshot read again, one read out of log order, a
neighbourhood past `LIMIT`) makes `append` return None, and the caller derives everything again.
The tables are the same either way: the property tests hold both to `derive`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from ...correct.state import Record
from ...identity import parse_name
from .checked import CrossChecked
from .derive import Context, community_row, context, doubt, group_rows, sightings, use, vote
from .families import FamilyIndex, Grp, families, family_of
from .model import DomainConfig, Shot, iso, log_order, parse_time
from .people import People
from .players import Identity, Resolver
from .used import Rows, Used
from .votes import vanished
from .writes import Delta, row_tuple, scope

LIMIT = 3000  # screenshots one regrouping may take in before it is cheaper to derive everything again
GKey = tuple[str, str]  # (family, group id)
# The corrections `correct` takes in: the identity ones it applies itself, and those about one screenshot's
# reading, whose screenshot `append` then reads again (a name, a row count or a time that changes: in full).
CORRECTS_SCREENSHOTS = frozenset({"set_value", "confirm", "delete_row", "add_row", "note", "set_event_time"})
CORRECTABLE = CORRECTS_SCREENSHOTS | {"merge_players", "rename_player"}
EVIDENCE = ("event", "team_match", "race")  # the shapes whose groups a player's readings may join


def derive(community: str, shots: Sequence[Shot], records: Sequence[Record], cfg: DomainConfig) -> Rows:
    """The domain tables of one community, as a pure function of its screenshots and corrections.

    Because the result depends only on the facts (never on the order or batching in which
    they arrived), an incremental update and a full replay give the same tables.
    """
    return CommunityState(community, cfg, records, keep=False).build(shots)


def _same_names(before: Used, after: Used) -> bool:
    """Whether a screenshot read again gives identity what it gave before: the same names, rows and time."""
    return (before.time == after.time and before.shot.ingest_seq == after.shot.ingest_seq
            and len(before.reading.rows) == len(after.reading.rows) and sightings(before) == sightings(after))


class CommunityState:
    def __init__(self, community: str, cfg: DomainConfig, records: Sequence[Record], *, keep: bool = True) -> None:
        self.community, self.cfg, self.keep = community, cfg, keep
        self.cids = tuple(r.cid for r in records)
        self.ctx: Context = context(records)
        self.resolver = Resolver(community, self.ctx.identity, threshold=cfg.fuzzy_threshold)
        self.people = People(community, cfg)
        self.gone: dict[str, str] = {}  # players found to be misreadings of another (votes.vanished)
        self.used: dict[str, Used] = {}
        self.last: tuple[int, str] = (-1, "")  # the log order of the newest screenshot that counts
        self.seen: Counter[str] = Counter()
        self.shots_of_base: dict[str, set[str]] = defaultdict(set)  # player -> screenshots their names are read on
        self.first: dict[str, int] = {}  # player -> the order they were first read in (derive.vote)
        self.firsts = 0
        self.index: dict[str, FamilyIndex] = {f.name: FamilyIndex(f) for f in families()}
        self.groups: dict[GKey, Grp] = {}
        self.deps: dict[str, set[GKey]] = defaultdict(set)
        self.moving: dict[GKey, list[tuple[str, str]]] = {}
        self.checked = CrossChecked()
        self.players_of: dict[str, frozenset[str]] = {}  # screenshot -> its players, as its rows count
        self.pid_shots: Counter[str] = Counter()  # player -> screenshots they count on
        self.wars_of: dict[str, set[GKey]] = defaultdict(set)
        self.base_usage: dict[str, dict[str, Any]] = {}
        self.usage: dict[str, tuple[Any, ...]] = {}
        self.review: dict[tuple[Any, ...], list[dict[str, Any]]] = {}  # scope -> its review items
        self.player_rows: dict[str, tuple[Any, ...]] = {}
        self.alias_rows: dict[str, tuple[Any, ...]] = {}
        self.people_review: dict[str, dict[str, Any]] = {}  # subject -> the players' review items
        self.spent = ""  # why `append` gave up, if it did

    # --- the steps, over whatever they are given ------------------------------------------------------------

    def _use(self, shots: Iterable[Shot], review: Rows) -> list[Used]:
        counted = []
        for s in sorted(shots, key=log_order):
            usage, u, items = use(self.community, s, self.ctx, self.cfg)
            self.base_usage[s.id] = usage
            if self.keep:
                self.review[("s", s.id)] = items
            review["review_queue"] += items
            if u is not None:
                counted.append(u)
                self.used[s.id] = u
                self.last = max(self.last, log_order(s))
        return counted

    @property
    def merged(self) -> Identity:
        return self.people.merged

    def _identify(self, counted: Sequence[Used], *, everyone: bool = False) -> set[str] | None:
        """Continue identity with `counted`'s names; returns the merged players whose sightings changed (all of
        them: `everyone`), or None when an admin's merge or rename names a player these screenshots founded."""
        found = [(u, sightings(u)) for u in counted]
        self.was: dict[str, int] = {}  # players these screenshots show: how often they were seen before
        self.resolver.add([(name, u.time_text, u.shot.id, u.shot.ingest_seq) for u, names in found for _, name in names])
        touched: set[str] | None = set()
        if everyone:
            self.people.merge(self.resolver, self.ctx.identity)
        else:
            touched = self.people.sighted(self.resolver, (), {parse_name(n).key for _, names in found for _, n in names})
            if touched is None:
                return None
        final, aliases = self.merged.final, self.merged.aliases
        for u, names in found:
            u.base = [None] * len(u.reading.rows)
            for i, name in names:
                u.base[i] = final[aliases[parse_name(name).key].player_id]
            for pid in u.base:
                if pid is not None:
                    self.shots_of_base[pid].add(u.shot.id)
                    self.was.setdefault(pid, self.seen[pid])
                    self.seen[pid] += 1
                    if pid not in self.first:  # numbered on, never reused (a merge drops numbers): ties stay ties
                        self.first[pid] = self.firsts = self.firsts + 1
            u.pids = list(u.base)
        return touched

    def _vote(self, groups: Iterable[Grp]) -> None:
        for g in groups:
            vote(self.community, g, self.merged, self.seen, self.first, self.cfg)
            if g.moves:
                self.moving[g.key] = g.moves
            if self.keep:
                for pid in g.deps:
                    self.deps[pid].add(g.key)

    def _forget(self, g: Grp) -> None:
        for pid in g.deps:
            found = self.deps.get(pid)
            if found is not None:
                found.discard(g.key)
                if not found:
                    del self.deps[pid]
        self.moving.pop(g.key, None)
        if self.groups.get(g.key) is g:
            del self.groups[g.key]

    def _absorb(self) -> None:
        self.gone = vanished([m for ms in self.moving.values() for m in ms], self.seen)

    def _count_players(self, counted: Iterable[Used]) -> set[str]:
        """Who counts on which screenshot (for a war's own team); returns the players whose count changed."""
        changed: set[str] = set()
        for u in counted:
            now = frozenset(p for p in u.pids if p is not None)
            before = self.players_of.get(u.shot.id, frozenset())
            for p in before - now:
                self.pid_shots[p] -= 1
            for p in now - before:
                self.pid_shots[p] += 1
            changed |= before ^ now
            self.players_of[u.shot.id] = now
        return changed

    def _elsewhere(self, pids: set[str], members: Sequence[Used]) -> set[str]:
        here = Counter(p for u in members for p in self.players_of.get(u.shot.id, ()))
        return {p for p in pids if self.pid_shots[p] > here[p]}

    def _rows(self, g: Grp, out: Rows, usage: dict[str, dict[str, Any]]) -> None:
        """`g`'s rows into `out`, its members' marked `screenshot_usage` rows into `usage`."""
        mine = {u.shot.id: dict(self.base_usage[u.shot.id]) for u in g.members}
        rows = group_rows(self.community, g, self.ctx, self.cfg, self.checked.doubts, self._elsewhere, mine)
        for table, found in rows.items():
            out[table] += found
        usage.update(mine)
        if self.keep:
            self.review[("g", *g.key)] = rows.get("review_queue", [])
            if g.family.shape == "team_match":
                for p in {p for u in g.members for p in u.pids if p is not None}:
                    self.wars_of[p].add(g.key)

    def _people(self, delta: Delta, touched: set[str] | None) -> None:
        """The players' and aliases' rows that changed, into `delta` (`touched`: the merged players whose sightings
        changed; None: any may have)."""
        if touched is None:
            players, aliases, review = self.people.rows(self.gone)
            p_rows: dict[str, Any] = {pid: players.get(pid) for pid in self.player_rows.keys() | players.keys()}
            a_rows: dict[str, Any] = {k: aliases.get(k) for k in self.alias_rows.keys() | aliases.keys()}
            items: dict[str, Any] = {k: review.get(k) for k in self.people_review.keys() | review.keys()}
        else:
            p_rows, a_rows, items = self.people.changed(touched, self.gone)
        for rows, kept, table, out, gone in ((p_rows, self.player_rows, "players", delta.players, delta.players_gone),
                                             (a_rows, self.alias_rows, "player_aliases", delta.aliases,
                                              delta.aliases_gone)):
            for key, row in rows.items():
                if row is None:
                    if kept.pop(key, None) is not None:
                        gone.append(key)
                elif kept.get(key) != (t := row_tuple(table, row)):
                    kept[key] = t
                    out.append(row)
        for subject, item in items.items():
            old = self.people_review.get(subject)
            if old != item:
                if old is not None:
                    delta.review_gone.append(old)
                if item is not None:
                    delta.review.append(item)
                    self.people_review[subject] = item
                else:
                    del self.people_review[subject]
        delta.players_count = self.people.count()

    # --- everything -------------------------------------------------------------------------------------

    def build(self, shots: Sequence[Shot]) -> Rows:
        """Derive everything from `shots` (the community's, each once); returns the rows of every table."""
        out: Rows = defaultdict(list)
        counted = self._use(shots, out)
        self._identify(counted, everyone=True)
        by_family: dict[str, list[Used]] = defaultdict(list)
        for u in counted:
            by_family[family_of()[u.shot.kind or ""].name].append(u)
        groups: list[Grp] = []
        for f in families():
            mine = by_family.get(f.name)
            if not mine:
                continue
            mine.sort(key=f.order)
            found = f.groups(self.community, mine, self.cfg)
            groups += found
            if self.keep:
                idx = self.index[f.name]
                for u in mine:
                    idx.add(u)
                idx.replace((), found)
        self.groups = {g.key: g for g in groups}
        self._vote(groups)
        self._absorb()
        self.checked.measure(counted, self.ctx)
        self.checked.check(None)
        for u in counted:
            doubt(u, self.checked.doubts)
        self._count_players(counted)
        usage: dict[str, dict[str, Any]] = {}
        for g in groups:
            self._rows(g, out, usage)
        ordered = sorted(shots, key=log_order)
        out["screenshot_usage"] = [usage.get(s.id) or self.base_usage[s.id] for s in ordered]
        players, aliases, review = self.people.rows(self.gone)
        out["players"] += players.values()
        out["player_aliases"] += aliases.values()
        out["review_queue"] += review.values()
        if shots:  # corrections alone (about players or screenshots it never had) do not make a community
            times = [parse_time(s.captured_at) for s in shots]
            out["communities"].append(community_row(self.community, len(shots), len(out["players"]),
                                                    iso(min(times)), iso(max(times))))
        if self.keep:
            self.usage = {r["screenshot_id"]: row_tuple("screenshot_usage", r) for r in out["screenshot_usage"]}
            self.player_rows = {pid: row_tuple("players", r) for pid, r in players.items()}
            self.alias_rows = {key: row_tuple("player_aliases", r) for key, r in aliases.items()}
            self.people_review = review
        else:
            self.base_usage.clear()
        return out

    # --- what screenshots read since add ----------------------------------------------------------------

    def append(self, shots: Sequence[Shot]) -> Delta | None:
        """Take in `shots` (this community's, new or changed since the last build or append); None when only
        deriving everything again can (the state is then spent)."""
        assert self.keep
        delta = Delta()
        shots = sorted(shots, key=log_order)
        old = {s.id: self.used.pop(s.id) for s in shots if s.id in self.used}
        review: Rows = defaultdict(list)
        before = {s.id: self.review.get(("s", s.id), []) for s in shots}
        last = self.last
        counted = self._use(shots, review)
        for s in shots:
            delta.review_gone += before[s.id]
            delta.review += self.review.get(("s", s.id), [])
        new = [u for u in counted if u.shot.id not in old]
        again = {u.shot.id: u for u in counted if u.shot.id in old}
        if len(again) < len(old) or any(not _same_names(old[sid], u) for sid, u in again.items()):
            # a screenshot that counts no more, or shows other names (or at another time): identity changes
            return self._spent("a screenshot that counts was read again with other names")
        if any(log_order(u.shot) < last for u in new):
            # identity and votes weigh names by when they were first read
            return self._spent("a screenshot was read out of log order")
        touched = self._identify(new)
        if touched is None:
            return self._spent("an admin's merge or rename names a new player")
        for sid, u in again.items():
            u.base, u.pids = list(old[sid].base), list(old[sid].base)
            self.index[family_of()[old[sid].shot.kind or ""].name].remove(old[sid])
        # regroup each family's neighbourhood of these screenshots
        by_family: dict[str, list[Used]] = defaultdict(list)
        for u in counted:
            by_family[family_of()[u.shot.kind or ""].name].append(u)
        left: list[tuple[str, Grp]] = []
        for sid, u in old.items():  # what a screenshot read again leaves behind in its old group
            f = family_of()[u.shot.kind or ""].name
            g = self.index[f].group_of.get(sid)
            if g is not None:
                left.append((f, g))
                by_family[f] += [v for v in g.members if v.shot.id not in old]
        for u in counted:
            self.index[family_of()[u.shot.kind or ""].name].add(u)
        regrouped = self._regroup(by_family)
        if regrouped is None:
            return self._spent(f"more than {LIMIT} screenshots to regroup")
        gone, formed = regrouped
        for f, g in left:  # a group it alone made, in the family it left: gone with nothing in its place
            if not any(g is o for o in gone):
                self.index[f].replace([g], [])
                self._forget(g)
                gone.append(g)
        return self._settle(delta, {g.key: g for g in formed}, gone, shots, touched)

    def _regroup(self, by_family: dict[str, list[Used]]) -> tuple[list[Grp], list[Grp]] | None:
        """Group again each family's neighbourhood of these screenshots: (the groups gone, those formed)."""
        gone: list[Grp] = []
        formed: list[Grp] = []
        for name, mine in by_family.items():
            idx = self.index[name]
            f = idx.family
            found = idx.neighbourhood(mine, self.cfg, LIMIT, lambda ms, f=f: f.groups(self.community, ms, self.cfg))
            if found is None:
                return None
            gone += found[0]
            formed += found[1]
            idx.replace(*found)
        for g in gone:
            self._forget(g)
        return gone, formed

    def correct(self, records: Sequence[Record]) -> Delta | None:
        """Take in corrections added since (`records`: all of them): merges and renames of players, and fixes of
        a screenshot's rows, notes and event times; anything else gives None. A merge changes the groups where
        the merged players were read, and the votes that weighed them; nothing else. A fix changes its
        screenshot's reading: the caller hands that screenshot to `append` next (CORRECTS_SCREENSHOTS)."""
        assert self.keep
        added = records[len(self.cids):]
        if tuple(r.cid for r in records[:len(self.cids)]) != self.cids:
            return self._spent("a correction was reverted")
        if not all(r.correction.kind in CORRECTABLE for r in added):
            return self._spent("a correction other than a merge, a rename or a fix of a screenshot's rows")
        self.cids = tuple(r.cid for r in records)
        self.ctx = context(records)
        before = dict(self.merged.final)
        self.people.merge(self.resolver, self.ctx.identity)
        remap = {before.get(f, f): now for f, now in self.merged.final.items() if before.get(f, f) != now}
        self.was = {}
        touched: dict[str, Used] = {}
        for was, now in remap.items():
            for sid in self.shots_of_base.pop(was, set()):
                touched[sid] = self.used[sid]
                self.shots_of_base[now].add(sid)
            self.was.setdefault(now, self.seen[now])
            self.seen[now] += self.seen.pop(was, 0)
            if was in self.first:
                first = self.first.pop(was)
                self.first[now] = min(self.first.get(now, first), first)
        # their rows' players change, and with them the evidence that groups events and results: where that
        # evidence only changes its name (no two pieces become one), the groups stay as they are
        by_family: dict[str, list[Used]] = defaultdict(list)
        renamed: dict[str, dict[Hashable, set[Hashable]]] = defaultdict(lambda: defaultdict(set))
        for u in touched.values():
            idx = self.index[family_of()[u.shot.kind or ""].name]
            before_ev = list(idx.family.evidence(u)) if idx.family.shape in EVIDENCE else []
            if before_ev:
                idx.remove(u)
            u.base = [remap.get(p, p) for p in u.base]
            if before_ev:
                idx.add(u)
                by_family[idx.family.name].append(u)
                for old_ev, new_ev in zip(before_ev, idx.family.evidence(u)):
                    if new_ev != old_ev:
                        renamed[idx.family.name][new_ev].add(old_ev)
        for name in list(by_family):
            idx, evs = self.index[name], renamed.get(name, {})
            mine = {id(u) for u in by_family[name]}
            if all(len(olds) == 1 and all(id(v) in mine for v in idx.evidence.get(new_ev, ()))
                   for new_ev, olds in evs.items()):
                del by_family[name]  # the same links under other names: the same groups
        regrouped = self._regroup(by_family)
        if regrouped is None:
            return self._spent(f"more than {LIMIT} screenshots to regroup")
        gone, formed = regrouped
        revote = {g.key: g for g in formed}
        for sid in touched:
            g = self._group_of(sid)
            revote.setdefault(g.key, g)
        for p in {*remap, *remap.values()}:  # their first sighting moved: a tie between them may turn
            for k in self.deps.get(p, ()):
                revote.setdefault(k, self.groups[k])
        return self._settle(Delta(), revote, gone, [], None)

    def _settle(self, delta: Delta, revote: dict[GKey, Grp], gone: list[Grp], shots: Sequence[Shot],
                touched: set[str] | None) -> Delta:
        """What follows from the groups in `revote` (formed anew or touched) and `gone` (replaced): the votes and
        the groups whose votes a new sighting tips, the cross-check, every group whose rows change, the players."""
        for g in revote.values():
            self.groups[g.key] = g
        # groups whose votes weighed a player seen more often now, where that tips the vote
        weighed = {k for p, was in self.was.items() for k in self.deps.get(p, ())
                   if any(was <= c < self.seen[p] for c in self.groups[k].deps.get(p, ()))}
        for k in weighed:
            if k in self.groups:
                revote.setdefault(k, self.groups[k])
        for g in revote.values():
            self._forget(g)
            self.groups[g.key] = g
        self._vote(revote.values())
        self._absorb()
        members = {u.shot.id: u for g in revote.values() for u in g.members}
        changed = self.checked.check(self.checked.measure(members.values(), self.ctx))
        rerow = dict(revote)
        for sid in changed:
            g = self._group_of(sid)
            rerow.setdefault(g.key, g)
        members = {u.shot.id: u for g in rerow.values() for u in g.members}
        for u in members.values():
            doubt(u, self.checked.doubts)
        for p in self._count_players(members.values()):
            for k in self.wars_of.get(p, ()):
                if k in self.groups:
                    rerow.setdefault(k, self.groups[k])
        # rows: every table each group wrote or writes, scoped to the group
        usage: dict[str, dict[str, Any]] = {}
        made: dict[tuple[str, tuple[tuple[str, Any], ...]], list[dict[str, Any]]] = {}
        for g in gone:
            delta.review_gone += self.review.pop(("g", *g.key), [])
            for table in g.family.tables:
                made.setdefault((table, scope(table, g)), [])
        for g in rerow.values():
            if ("g", *g.key) in self.review:
                delta.review_gone += self.review.pop(("g", *g.key))
            for table in g.family.tables:
                made.setdefault((table, scope(table, g)), [])
            rows: Rows = defaultdict(list)
            self._rows(g, rows, usage)
            delta.review += rows.pop("review_queue", [])
            for table, found in rows.items():
                made[(table, scope(table, g))] += found
        delta.scoped = [(table, dict(scope), rows) for (table, scope), rows in made.items()]
        # screenshot_usage
        for s in shots:
            usage.setdefault(s.id, self.base_usage[s.id])
        for sid, row in usage.items():
            t = row_tuple("screenshot_usage", row)
            if self.usage.get(sid) != t:
                self.usage[sid] = t
                delta.usage.append(row)
        delta.times = [(s.id, s.captured_at) for s in shots]
        self._people(delta, touched)
        return delta

    def _spent(self, why: str) -> None:
        self.spent = why
        return None

    def _group_of(self, sid: str) -> Grp:
        u = self.used[sid]
        return self.index[family_of()[u.shot.kind or ""].name].group_of[sid]
