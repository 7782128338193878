"""One row of one list, read under two names, is one player's score.

Overlapping scroll screenshots of one game event show the same row twice; OCR may
read its name differently each time (`DADDYZ`, `D AD D Ya`). The position and the
value identify the row, so the readings vote for whose row it is: a reading of a
player seen elsewhere beats one never seen elsewhere, then the reading most
screenshots agree on, then the most confident, then the first read. Pure: no I/O, deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Vote:
    """One reading of a row: where it is (screenshot, row index), whose it is, as read."""

    shot_id: str
    index: int
    pid: str
    name: str
    key: str
    confidence: float
    pinned: bool = False  # an admin linked or unlinked this name: the evidence does not override them


def settle(votes: Sequence[Vote], seen: Mapping[str, int], first: Mapping[str, int],
           similar: Callable[[str, str], bool] | None = None) -> tuple[str, list[Vote]] | None:
    """(winning player, the readings to give to it), or None when the readings agree.

    `seen`: rows per player in the whole community, so a player "seen elsewhere" has more
    rows than this bucket gives it. `first`: the order players were first read in, for
    ties (the earlier reading wins). `similar`: when the evidence alone is weak (a power
    that two players may share), only readings whose names are alike join the winner.
    """
    pids = {v.pid for v in votes}
    if len(pids) < 2 or len({v.shot_id for v in votes}) < 2:
        return None
    here: dict[str, list[Vote]] = {}
    for v in votes:
        here.setdefault(v.pid, []).append(v)

    def strength(pid: str) -> tuple[bool, int, float, int, str]:
        mine = here[pid]
        elsewhere = seen.get(pid, 0) > len(mine)
        return (elsewhere, len({v.shot_id for v in mine}), max(v.confidence for v in mine), -first.get(pid, 0), pid)

    winner = max(here, key=strength)
    won = here[winner][0]
    moved = [v for v in votes if v.pid != winner and not v.pinned
             and (similar is None or similar(v.key, won.key))]
    return (winner, moved) if moved else None


def vanished(moves: Sequence[tuple[str, str]], seen: Mapping[str, int]) -> dict[str, str]:
    """Players all of whose rows went to another player: loser -> the player that got most of them."""
    got: dict[str, dict[str, int]] = {}
    for loser, winner in moves:
        got.setdefault(loser, {}).setdefault(winner, 0)
        got[loser][winner] += 1
    out = {}
    for loser, winners in sorted(got.items()):
        if sum(winners.values()) >= seen.get(loser, 0):
            out[loser] = max(sorted(winners), key=lambda w: winners[w])
    # a chain (a -> b while b -> c) ends at the last player standing
    for loser in list(out):
        target, hops = out[loser], 0
        while target in out and hops < len(out):
            target, hops = out[target], hops + 1
        out[loser] = target
    return {a: b for a, b in out.items() if a != b}
