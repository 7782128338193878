"""The `ranking` shape: a ranked list read over several overlapping screenshots becomes one ranking.

Screens such as Total Battle's event ranking show no rank: the list order is the ranking, and a
member scrolls through it in screenshots that overlap by a row or two. Stitching is a pure
function of the readings, so replay and catch-up agree whatever order the screenshots came in.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

P = TypeVar("P", bound=Hashable)


def stitch(pages: Sequence[Sequence[tuple[P, int | None]]]) -> tuple[list[P], list[int]]:
    """Players in ranking order, and the places (indexes into that order) where consecutive screenshots do not
    overlap: rows may be missing just before them, so ranks from the first such place on are lower bounds.

    `pages`: each screenshot's (player, value) rows top to bottom, in capture order. Pages are put in
    list order by their highest, then lowest value (a ranked list's values fall down the list; pages without a
    readable value keep their capture order, after the others). A page that shares a player with those placed
    is anchored by that overlap: its other players go above or below it in the page's own order, so pages
    whose values tie still stitch right. Pages that overlap what is placed go first; a page sharing no player is
    appended, and that place is a gap.
    """
    def top(i: int) -> tuple[int, float, float, int]:
        values = [v for _, v in pages[i] if v is not None]
        return (0, -max(values), -min(values), i) if values else (1, 0.0, 0.0, i)

    order: list[P] = []
    seen: set[P] = set()
    gaps: list[int] = []
    waiting = sorted(range(len(pages)), key=top)
    while waiting:
        # the next page is the first (in list order) that overlaps what is placed; only when none does is there
        # a gap, and the next page in list order starts a new stretch
        i = next((i for i in waiting if seen.intersection(p for p, _ in pages[i])), waiting[0])
        n = len(pages) - len(waiting)
        waiting.remove(i)
        players = [p for p, _ in pages[i]]
        known = [j for j, p in enumerate(players) if p in seen]
        if not known:
            if n and players:
                gaps = [g for g in gaps if g < len(order)] + [len(order)]
            for p in players:
                if p not in seen:
                    seen.add(p)
                    order.append(p)
            continue
        # the overlap anchors the page: players above its first known one go just before it, the others
        # right after the player above them on the page, wherever the pages came in
        at = order.index(players[known[0]])
        for p in players[:known[0]]:
            if p not in seen:
                seen.add(p)
                order.insert(at, p)
                at += 1
                gaps = [g + 1 if g >= at else g for g in gaps]
        prev = players[known[0]]
        for p in players[known[0] + 1:]:
            if p not in seen:
                seen.add(p)
                at = order.index(prev) + 1
                order.insert(at, p)
                gaps = [g + 1 if g >= at else g for g in gaps]
            prev = p
    return order, gaps
