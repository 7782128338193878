"""Clustering screenshots into game events: time windows plus shared readings."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

T = TypeVar("T")


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def cluster(
    items: Sequence[T],
    *,
    time: Callable[[T], datetime],
    window: timedelta,
    key: Callable[[T], Hashable] = lambda _: None,
    compatible: Callable[[T, T], bool] = lambda a, b: True,
    evidence: Callable[[T], Iterable[Hashable]] = lambda _: (),
) -> list[list[T]]:
    """Groups of items: same `key` and chained within `window` of each other, or sharing any `evidence`.

    Evidence (e.g. an identical player and damage) joins items whatever their times,
    as long as they are `compatible`. Deterministic: groups and their members come out
    in time order, whatever the input order.
    """
    order = sorted(range(len(items)), key=lambda i: (time(items[i]), i))
    uf = UnionFind(len(items))
    last: dict[Hashable, int] = {}
    for i in order:
        k = key(items[i])
        j = last.get(k)
        if j is not None and time(items[i]) - time(items[j]) <= window:
            uf.union(i, j)
        last[k] = i
    seen: dict[Hashable, list[int]] = {}
    for i in order:
        for ev in evidence(items[i]):
            for j in seen.get(ev, ()):
                if compatible(items[i], items[j]):
                    uf.union(i, j)
                    break
            seen.setdefault(ev, []).append(i)
    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(uf.find(i), []).append(i)
    return [[items[i] for i in members] for members in groups.values()]
