"""Who is who: every name read in a community resolved to a stable player id.

Names are taken in log order (the order screenshots were ingested), so a screenshot
added later never changes who an earlier name belongs to. Admins' links, unlinks,
merges and renames are applied on top, in the order they were made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from ...eventlog.models import LinkAlias, MergePlayers, RenamePlayer, UnlinkAlias
from ...identity import match_name, normalize, parse_name
from .grouping import UnionFind
from .model import stable_id


@dataclass(slots=True)
class Alias:
    key: str
    player_id: str
    name: str
    tag: str | None
    match: str  # new | exact | fuzzy | linked | ambiguous | evidence (a misreading of one row, see votes.py)
    score: float
    first_seen: str
    last_seen: str
    screenshot_id: str
    sightings: int = 0
    candidates: tuple[str, ...] = ()


@dataclass(slots=True)
class Player:
    player_id: str
    name_key: str
    display_name: str = ""
    tag: str | None = None
    first_seen: str = ""
    last_seen: str = ""
    sightings: int = 0
    latest: tuple[str, int] = ("", -1)  # (time, ingest order) of the sighting the display name comes from


@dataclass(slots=True)
class Identity:
    players: dict[str, Player] = field(default_factory=dict)
    aliases: dict[str, Alias] = field(default_factory=dict)  # by key
    final: dict[str, str] = field(default_factory=dict)  # founding id -> id after merges
    pinned: set[str] = field(default_factory=set)  # keys an admin linked or unlinked: evidence never moves them


def player_id(community: str, key: str) -> str:
    return stable_id("p", community, key)


class Resolver:
    """Names resolved in log order, resumable: a screenshot read later only adds sightings at the end, so the
    players of the names read before it stay as they were (an incremental settle continues from here)."""

    def __init__(self, community: str, corrections: Sequence[object], *, threshold: float) -> None:
        self.community, self.threshold = community, threshold
        self.links = {normalize(parse_name(c.name).name): c.player_id for c in corrections if isinstance(c, LinkAlias)}
        self.unlinked: set[str] = set()
        for c in corrections:
            if isinstance(c, UnlinkAlias):
                self.unlinked.add(normalize(parse_name(c.name).name))
            elif isinstance(c, LinkAlias):
                self.unlinked.discard(normalize(parse_name(c.name).name))
        self.aliases: dict[str, Alias] = {}
        self.players: dict[str, Player] = {}  # as sighted, before admins' merges and renames
        self.known: dict[str, str] = {}  # key -> founding player id, for matching
        self.by_length: dict[int, list[str]] = {}  # the same keys by length: a fuzzy match only looks at similar lengths

    @property
    def pinned(self) -> set[str]:
        return set(self.links) | self.unlinked

    def add(self, sightings: Sequence[tuple[str, str, str, int]]) -> None:
        """`sightings`: (name as read, time, screenshot id, ingest order), continuing the log order."""
        links, unlinked, known, by_length = self.links, self.unlinked, self.known, self.by_length
        for shown, when, shot, order in sightings:
            pn = parse_name(shown)
            key = pn.key
            if not key:
                continue
            alias = self.aliases.get(key)
            if alias is None:
                if key in links and key not in unlinked:
                    pid, how, score, cands = links[key], "linked", 100.0, ()
                else:
                    m = match_name(key, {} if key in unlinked else known, threshold=self.threshold,
                                   by_length=by_length)
                    if m.player_id is not None:
                        pid, how, score, cands = m.player_id, m.method, m.score, ()
                    else:
                        pid = player_id(self.community, key)
                        how = "ambiguous" if m.method == "ambiguous" else "new"
                        score, cands = m.score, m.candidates
                alias = self.aliases[key] = Alias(key, pid, pn.name, pn.tag, how, score, when, when, shot,
                                                  candidates=cands)
                if key not in known:
                    known[key] = pid
                    by_length.setdefault(len(key), []).append(key)
            alias.sightings += 1
            if when < alias.first_seen:
                alias.first_seen, alias.screenshot_id = when, shot
            if when >= alias.last_seen:
                alias.last_seen = when
                alias.name, alias.tag = pn.name, pn.tag or alias.tag
            p = self.players.get(alias.player_id)
            if p is None:
                p = self.players[alias.player_id] = Player(alias.player_id, key, first_seen=when, last_seen=when)
            p.sightings += 1
            p.first_seen, p.last_seen = min(p.first_seen, when), max(p.last_seen, when)
            if (when, order) >= p.latest:
                p.latest = (when, order)
                p.display_name = pn.name
                p.tag = pn.tag or p.tag

    def identity(self, corrections: Sequence[object]) -> Identity:
        """Who is who after the admins' merges and renames; the sightings so far are left as they are (the
        aliases are shared: read them, never change them)."""
        players = dict(self.players)
        # a link may name a player no sighting founded yet (or any more): keep it addressable
        for pid in {a.player_id for a in self.aliases.values()} - set(players):
            players[pid] = Player(pid, "")
        ident = Identity(players=players, aliases=self.aliases, pinned=self.pinned)
        _merge(ident, corrections)
        for c in corrections:
            if isinstance(c, RenamePlayer):
                target = ident.final.get(c.player_id)
                if target == c.player_id and target in ident.players:  # a merged-away player's name no longer shows
                    rename(ident.players[target], c.name)
        return ident


def rename(p: Player, name: str) -> None:
    """An admin's name for a player: it outranks any reading."""
    p.display_name, p.latest = parse_name(name).name or name, ("~", 0)


def merged_player(base: Player, members: Sequence[Player]) -> Player:
    """One player of `members` (every player merged into `base`'s, itself included, in id order): the survivor
    keeps its own name; merged names stay as aliases."""
    q = Player(base.player_id, base.name_key, base.display_name, base.tag, base.first_seen, base.last_seen, 0,
               base.latest)
    for p in members:
        if p.sightings:
            q.sightings += p.sightings
            q.first_seen = min(filter(None, (q.first_seen, p.first_seen)), default="")
            q.last_seen = max(q.last_seen, p.last_seen)
            if not q.display_name:
                q.display_name, q.tag, q.latest = p.display_name, p.tag or q.tag, p.latest
    return q


def _merge(ident: Identity, corrections: Sequence[object]) -> None:
    ids = sorted(ident.players)
    index = {pid: i for i, pid in enumerate(ids)}
    uf = UnionFind(len(ids))
    for c in corrections:
        if isinstance(c, MergePlayers) and c.source_id in index and c.target_id in index:
            a, b = uf.find(index[c.source_id]), uf.find(index[c.target_id])
            if a != b:  # merging players that are already one changes nothing
                uf.parent[a] = b  # the target's group survives, under the target's current id
    for pid in ids:
        ident.final[pid] = ids[uf.find(index[pid])]
    members: dict[str, list[Player]] = {}
    for pid in ids:
        members.setdefault(ident.final[pid], []).append(ident.players[pid])
    merged = {tgt: merged_player(ident.players[tgt], found) for tgt, found in members.items()}
    ident.players = {pid: p for pid, p in merged.items() if p.sightings or p.name_key}


def block_pairs(members: Sequence[Player], threshold: float) -> list[tuple[str, str, float]]:
    """The pairs of one block (players sharing the start or the end of their name key, people.py) whose names
    are close but were not matched: (player a, player b, score), a < b."""
    found: dict[tuple[str, str], float] = {}
    keys = [m.name_key for m in members]
    for i, key in enumerate(keys):
        for _, s, j in process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=threshold, limit=None):
            if j > i and members[i].player_id != members[j].player_id:
                a, b = sorted((members[i].player_id, members[j].player_id))
                found[(a, b)] = max(found.get((a, b), 0.0), float(s))
    return [(a, b, s) for (a, b), s in found.items()]
