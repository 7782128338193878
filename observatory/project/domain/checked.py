"""The cross-check's readings and doubts, kept by player and time, so a settle compares again only what is near.

An exact value is compared with the same player's abbreviated ones within `crosscheck.WINDOW` (crosscheck.py):
a reading that changes can only change the doubts of that player's readings within the window of it. So
the readings are indexed by player in time order, and `check` compares again, for each player touched,
just the readings within that reach of the times they changed at.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from math import inf

from . import crosscheck
from .crosscheck import MEASURES, Measured, disagreements
from .derive import Context, measured
from .model import log_order
from .used import Used


class CrossChecked:
    def __init__(self) -> None:
        self.measured: dict[str, dict[tuple[str, int], Measured]] = defaultdict(dict)  # player -> their readings
        self.times: dict[str, list[tuple[datetime, tuple[int, str], int]]] = defaultdict(list)  # ... in time order
        self.measured_of: dict[str, list[Measured]] = {}  # screenshot -> its compared readings
        self.doubts: dict[tuple[str, int], str] = {}  # (screenshot, row) -> why its exact value is doubtful
        self.doubts_of: dict[str, dict[tuple[str, int], datetime]] = {}  # player -> their doubtful readings' times

    def measure(self, counted: Iterable[Used], ctx: Context) -> dict[str, list[datetime]]:
        """Index the compared readings of `counted` by their voted players; returns, for each player whose
        readings changed, the times they changed at."""
        touched: dict[str, list[datetime]] = defaultdict(list)
        compared = {k for k, _ in MEASURES}  # read each time: what a pack declares may change in a test
        for u in counted:
            sid = u.shot.id
            now = measured(u, ctx) if u.shot.kind in compared else []
            before = self.measured_of.pop(sid, [])
            if [(m.player, m.ref[1]) for m in now] == [(m.player, m.ref[1]) for m in before] and \
                    all(m.ref[0] is u for m in before):  # the same reading (not one read again)
                if now:
                    self.measured_of[sid] = before
                continue
            order = log_order(u.shot)
            for m in before:
                del self.measured[m.player][(sid, m.ref[1])]
                mine = self.times[m.player]
                del mine[bisect.bisect_left(mine, (m.at, order, m.ref[1]))]
                touched[m.player].append(m.at)
            for m in now:
                self.measured[m.player][(sid, m.ref[1])] = m
                bisect.insort(self.times[m.player], (m.at, order, m.ref[1]))
                touched[m.player].append(m.at)
            if now:
                self.measured_of[sid] = now
        return touched

    def check(self, touched: dict[str, list[datetime]] | None) -> set[str]:
        """Cross-check again the readings near the times `touched` gives each player (None: every reading);
        returns the screenshots whose doubtful values changed. An exact reading is compared with the player's
        abbreviated ones within the window only (crosscheck.py), so nothing further can change."""
        window = crosscheck.WINDOW
        changed: set[str] = set()
        players = sorted(self.measured if touched is None else touched)
        for p in players:
            mine = self.times.get(p, [])
            if touched is None:
                lo, hi, first, last = None, None, 0, len(mine)
            else:
                lo, hi = min(touched[p]) - window, max(touched[p]) + window
                first, last = bisect.bisect_left(mine, (lo - window,)), bisect.bisect_right(mine, (hi + window, (inf,)))
            readings = [self.measured[p][(o[-1], i)] for _, o, i in mine[first:last]]
            readings.sort(key=lambda m: (log_order(m.ref[0].shot), m.ref[1]))
            found = {}
            for d in disagreements(readings, window=window):
                if lo is None or lo <= d.exact.at <= hi:
                    found[(d.exact.ref[0].shot.id, d.exact.ref[1])] = (d.exact.at, d.reason)
            had = self.doubts_of.setdefault(p, {})
            old = {key: had.pop(key) for key, at in list(had.items()) if lo is None or lo <= at <= hi}
            for key in old:
                old[key] = (old[key], self.doubts.pop(key))
            for key, (at, reason) in found.items():
                had[key] = at
                self.doubts[key] = reason
            changed |= {key[0] for key in old.keys() | found.keys()
                        if (old[key][1] if key in old else None) != (found[key][1] if key in found else None)}
        return changed

