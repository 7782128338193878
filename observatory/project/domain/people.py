"""The `players` and `player_aliases` tables and their review items, kept player by player between settles.

players.py resolves names and applies the admins' merges and renames; the votes (votes.vanished) fold
in the players found to be misreadings of another. Redoing that, and every player's row, for each new
screenshot cost what a big community's roster costs (thousands of players and aliases). `People` keeps
the merged players, who was absorbed into whom, whose aliases are whose and which names look alike,
and makes again the rows of just the players and aliases a settle touched (`changed`); `rows` makes
every one, as a full derivation does. The tests hold the two to the same tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ...eventlog.models import MergePlayers, RenamePlayer
from .derive import alias_row, duplicate_item, player_row
from .model import DomainConfig
from .players import Identity, Player, Resolver, block_pairs, merged_player, rename

Block = tuple[str, str]


def _blocks_of(p: Player) -> tuple[Block, ...]:
    return (("a", p.name_key[:3]), ("z", p.name_key[-3:])) if len(p.name_key) >= 3 else ()


class People:
    def __init__(self, community: str, cfg: DomainConfig) -> None:
        self.community, self.cfg = community, cfg
        self.merged = Identity()  # after the admins' merges and renames (players.Resolver.identity)
        self.members: dict[str, set[str]] = defaultdict(set)  # merged player -> the players founded by sightings in it
        self.keys_of: dict[str, set[str]] = defaultdict(set)  # founding player -> its alias keys
        self.named: set[str] = set()  # players a merge or a rename names
        self.renamed: dict[str, str] = {}  # player -> the name an admin gave it last
        self.gone: dict[str, str] = {}  # loser -> winner (votes.vanished)
        self.absorbed: dict[str, list[str]] = {}  # winner -> its losers
        self.blocks: dict[Block, dict[str, Player]] = defaultdict(dict)
        self.pairs: dict[Block, dict[tuple[str, str], float]] = {}
        self.pairs_of: dict[str, set[tuple[str, str]]] = defaultdict(set)

    # --- who is who ------------------------------------------------------------------------------------

    def merge(self, resolver: Resolver, corrections: Sequence[object]) -> None:
        """Everything anew from the resolver and the identity corrections in force."""
        self.merged = resolver.identity(corrections)
        self.members = defaultdict(set)
        for founding, final in self.merged.final.items():
            self.members[final].add(founding)
        self.keys_of = defaultdict(set)
        for key, a in self.merged.aliases.items():
            self.keys_of[a.player_id].add(key)
        self.named = {pid for c in corrections if isinstance(c, MergePlayers) for pid in (c.source_id, c.target_id)}
        self.named |= {c.player_id for c in corrections if isinstance(c, RenamePlayer)}
        self.renamed = {c.player_id: c.name for c in corrections if isinstance(c, RenamePlayer)}

    def sighted(self, resolver: Resolver, foundings: Iterable[str], keys: Iterable[str]) -> set[str] | None:
        """Bring the merged players up to date after `resolver.add` (`foundings`: the players whose sightings it
        added to, `keys`: the alias keys it saw); returns the merged players that changed, or None when a
        merge or a rename names one of the new players (its effect reaches back: merge again)."""
        m = self.merged
        foundings = set(foundings)
        for key in keys:
            a = m.aliases[key]
            self.keys_of[a.player_id].add(key)
            foundings.add(a.player_id)
        for f in foundings - set(m.final):
            if f in self.named:
                return None
            m.final[f] = f
            self.members[f].add(f)
        changed = {m.final[f] for f in foundings}
        for final in changed:
            self._remake(final, resolver)
        return changed

    def _remake(self, final: str, resolver: Resolver) -> None:
        """One merged player, as players._merge makes it, with its admin's name."""
        def base(pid: str) -> Player:
            return resolver.players.get(pid) or Player(pid, "")

        q = merged_player(base(final), [base(pid) for pid in sorted(self.members[final])])
        if final in self.renamed:
            rename(q, self.renamed[final])
        if q.sightings or q.name_key:
            self.merged.players[final] = q
        else:
            self.merged.players.pop(final, None)

    # --- after the votes -------------------------------------------------------------------------------

    def player(self, pid: str) -> Player | None:
        """A player as the tables show it: merged, with the sightings of the players absorbed into it."""
        if pid in self.gone:
            return None
        p = self.merged.players.get(pid)
        if p is None:
            return None
        for loser in self.absorbed.get(pid, ()):
            lost = self.merged.players.get(loser)
            if lost is not None:
                p = replace(p, sightings=p.sightings + lost.sightings,
                            first_seen=min(filter(None, (p.first_seen, lost.first_seen)), default=""),
                            last_seen=max(p.last_seen, lost.last_seen))
        return p

    def final(self, founding: str) -> tuple[str, bool]:
        """(the player a founding player's names count for, whether it was absorbed as a misreading)."""
        merged = self.merged.final.get(founding, founding)
        return self.gone.get(merged, merged), merged in self.gone

    def _lost(self, gone: Mapping[str, str]) -> None:
        self.gone = dict(gone)
        self.absorbed: dict[str, list[str]] = defaultdict(list)  # winner -> its losers
        for loser, winner in sorted(self.gone.items()):
            self.absorbed[winner].append(loser)

    def count(self) -> int:
        return len(self.merged.players) - sum(1 for loser in self.gone if loser in self.merged.players)

    # --- rows ------------------------------------------------------------------------------------------

    def rows(self, gone: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]],
                                                      dict[str, dict[str, Any]]]:
        """Every player's and alias's row, and every review item of theirs by subject."""
        self._lost(gone)
        self.blocks, self.pairs, self.pairs_of = defaultdict(dict), {}, defaultdict(set)
        players = {pid: p for pid in sorted(self.merged.players) if (p := self.player(pid)) is not None}
        for p in players.values():
            for b in _blocks_of(p):
                self.blocks[b][p.player_id] = p
        for b in list(self.blocks):
            self._pair(b)
        review: dict[str, dict[str, Any]] = {}
        aliases: dict[str, dict[str, Any]] = {}
        for key in sorted(self.merged.aliases):
            aliases[key], item = self._alias(key)
            if item is not None:
                review[item["subject"]] = item
        for pair in sorted({pair for pairs in self.pairs.values() for pair in pairs}):
            item = self._duplicate(pair)
            review[item["subject"]] = item
        return ({pid: player_row(self.community, p) for pid, p in players.items()}, aliases, review)

    def changed(self, touched: set[str], gone: Mapping[str, str]) -> tuple[
            dict[str, dict[str, Any] | None], dict[str, dict[str, Any]], dict[str, dict[str, Any] | None]]:
        """The rows of the players in `touched` (merged players whose sightings changed) and of everything that
        follows from them and from the absorbed players (`gone`, anew): player -> row (None: no more),
        alias key -> row, review subject -> item (None: no more)."""
        before = self.gone
        self._lost(gone)
        turned = {p for p in before.keys() | self.gone.keys() if before.get(p) != self.gone.get(p)}
        affected = set(touched) | turned | {before[p] for p in turned if p in before} | \
            {self.gone[p] for p in turned if p in self.gone}
        affected |= {self.gone.get(p, p) for p in touched}
        players = {pid: self.player(pid) for pid in affected}
        # the names that look alike: blocks of the players that came, went or were renamed
        dirty: set[Block] = set()
        for pid, p in players.items():
            for b in [b for b, found in self.blocks.items() if pid in found] if p is None else _blocks_of(p):
                if p is None:
                    del self.blocks[b][pid]
                else:
                    self.blocks[b][pid] = p
                dirty.add(b)
        items: dict[str, dict[str, Any] | None] = {}
        redo: set[tuple[str, str]] = {pair for pid in affected for pair in self.pairs_of.get(pid, ())}
        for b in dirty:
            redo |= set(self.pairs.get(b, {}))
            self._pair(b)
            redo |= set(self.pairs.get(b, {}))
        for pair in redo:
            alive = any(pair in self.pairs.get(b, {}) for b in self._blocks_of_pair(pair))
            items[f"{pair[0]}~{pair[1]}"] = self._duplicate(pair) if alive else None
        keys = {k for pid in affected for founding in self.members.get(pid, ()) for k in self.keys_of.get(founding, ())}
        keys |= {k for pid in affected for loser in self.absorbed.get(pid, ()) for founding in self.members.get(loser, ())
                 for k in self.keys_of.get(founding, ())}
        aliases = {}
        for key in keys:
            aliases[key], item = self._alias(key)
            items[f"alias {key}"] = item
        return ({pid: None if p is None else player_row(self.community, p) for pid, p in players.items()},
                aliases, items)

    def _alias(self, key: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        a = self.merged.aliases[key]
        final, evidence = self.final(a.player_id)
        return alias_row(self.community, key, a, final, evidence, self.player(final))

    def _pair(self, b: Block) -> None:
        for pair in self.pairs.pop(b, {}):
            self.pairs_of[pair[0]].discard(pair)
            self.pairs_of[pair[1]].discard(pair)
        members = self.blocks.get(b, {})
        if len(members) < 2:
            return
        found = {(x, y): s for x, y, s in block_pairs([members[pid] for pid in sorted(members)],
                                                      self.cfg.duplicate_threshold)}
        self.pairs[b] = found
        for pair in found:
            self.pairs_of[pair[0]].add(pair)
            self.pairs_of[pair[1]].add(pair)

    def _blocks_of_pair(self, pair: tuple[str, str]) -> list[Block]:
        p = self.merged.players.get(pair[0])
        return list(_blocks_of(p)) if p is not None else []

    def _duplicate(self, pair: tuple[str, str]) -> dict[str, Any]:
        score = max(self.pairs[b][pair] for b in self._blocks_of_pair(pair) if pair in self.pairs.get(b, {}))
        pa, pb = self.player(pair[0]), self.player(pair[1])
        assert pa is not None and pb is not None
        return duplicate_item(self.community, pair[0], pair[1], score, pa, pb)
