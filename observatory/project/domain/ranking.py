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
    readable value keep their capture order, after the others), then each page adds the players not
    seen yet, in its order; a player on two pages (the overlap) keeps its first place.
    """
    def top(i: int) -> tuple[int, float, float, int]:
        values = [v for _, v in pages[i] if v is not None]
        return (0, -max(values), -min(values), i) if values else (1, 0.0, 0.0, i)

    order: list[P] = []
    seen: set[P] = set()
    gaps: list[int] = []
    for n, i in enumerate(sorted(range(len(pages)), key=top)):
        players = [p for p, _ in pages[i]]
        if n and players and not seen.intersection(players):
            gaps.append(len(order))
        for p in players:
            if p not in seen:
                seen.add(p)
                order.append(p)
    return order, gaps
