"""Deciding when a file is finished: quiet for N seconds with size and mtime unchanged.

Sync clients write in bursts, pause, rename and touch files again; there is no
portable "upload complete" signal. A file is handed over only after no event for it
for `quiet` seconds AND a fresh stat equal to the one taken when it went quiet.
Pure bookkeeping: the clock and the stat function are passed in, so it is testable
without sleeping.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

Stat = tuple[int, int, int] | None  # (size, mtime_ns, inode); None when the path is gone


def stat_key(path: str) -> Stat:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(slots=True)
class _Entry:
    since: float  # monotonic time of the last event or observed change
    stat: Stat


class StabilityTracker:
    def __init__(self, quiet: float) -> None:
        self.quiet = quiet
        self._pending: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, path: str) -> bool:
        return path in self._pending

    def touch(self, path: str, now: float, stat: Stat) -> None:
        """Something happened to `path`: restart its quiet period."""
        self._pending[path] = _Entry(now, stat)

    def forget(self, path: str) -> None:
        self._pending.pop(path, None)

    def ready(self, now: float, stat: Callable[[str], Stat] = stat_key) -> list[tuple[str, Stat]]:
        """(path, stat) quiet long enough whose stat still matches; changed ones restart, vanished ones drop out."""
        out = []
        for path, entry in list(self._pending.items()):
            if now - entry.since < self.quiet:
                continue
            current = stat(path)
            if current is None:
                del self._pending[path]
            elif current != entry.stat:
                entry.since, entry.stat = now, current
            else:
                del self._pending[path]
                out.append((path, current))
        return out

    def next_due(self, now: float) -> float | None:
        """Seconds until the earliest pending path may be ready (None when nothing is pending)."""
        if not self._pending:
            return None
        return max(0.0, min(e.since for e in self._pending.values()) + self.quiet - now)
