"""Which screenshots make one group in time: a capture session, an event window, a day, a week, or the
period the screen names; shared by the snapshot and event shapes (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .grouping import cluster
from .model import DomainConfig, stable_id
from .used import Used

CALENDAR = ("day", "week")


@dataclass(slots=True)
class Found:
    """One group: its key (the `group_by` values, and `start`, a calendar window's first day) and screenshots."""

    id: str
    key: dict[str, Any]
    members: list[Used]


def is_calendar(window: str) -> bool:
    return window in CALENDAR or window.startswith("meta:")


def window_start(window: str, when: datetime, key: dict[str, Any], cfg: DomainConfig) -> str:
    """The first day (in the screenshots' zone) of the calendar window `when` falls in; weeks start on Monday."""
    local = when.astimezone(cfg.tz).date()
    unit = window
    if window.startswith("meta:"):
        unit = "week" if key.get(window[5:]) == "weekly" else "day"
    if unit == "week":
        local -= timedelta(days=local.weekday())
    return local.isoformat()


def find(community: str, prefix: str, shots: Sequence[Used], window: str, group_by: Sequence[str], cfg: DomainConfig,
         *, missing: Any = None, evidence: Callable[[Used], Iterable[Hashable]] | None = None) -> list[Found]:
    """The groups of `shots`, in a stable order, each with a stable id.

    Calendar windows: a screenshot belongs to the window its capture session started in, under its `group_by`
    values; a page that does not show one takes it from its session when the session's pages agree (the second
    page of a result mail). Chained windows (`session`, `event`): same kind and values, each within the window
    of the previous, or sharing `evidence` (an identical reading) whatever their times; a screenshot missing a
    value is compatible with any.
    """
    def values(u: Used) -> tuple[Any, ...]:
        return tuple(u.reading.meta.get(g) for g in group_by)

    if is_calendar(window):
        out: dict[tuple[Any, ...], list[Used]] = defaultdict(list)
        keys: dict[tuple[Any, ...], dict[str, Any]] = {}
        for session in cluster(shots, time=lambda u: u.time, window=cfg.snapshot_window, key=lambda u: u.shot.kind):
            agreed = {}
            for g in group_by:
                seen = {u.reading.meta.get(g) for u in session} - {None}
                agreed[g] = next(iter(seen)) if len(seen) == 1 else missing
            when = min(u.event_time for u in session)
            for u in session:
                key = {g: (v if (v := u.reading.meta.get(g)) is not None else agreed[g]) for g in group_by}
                key["start"] = window_start(window, when, key, cfg)
                k = tuple(key.values())
                keys[k] = key
                out[k].append(u)
        return [Found(stable_id(prefix, community, *k), keys[k], sorted(out[k], key=lambda u: u.time))
                for k in sorted(out, key=lambda k: tuple(str(v) for v in k))]

    span = cfg.hunt_window if window == "event" else cfg.snapshot_window

    def compatible(a: Used, b: Used) -> bool:
        return all(x is None or y is None or x == y for x, y in zip(values(a), values(b)))

    found = []
    for members in cluster(shots, time=lambda u: u.time, window=span, key=lambda u: (u.shot.kind, *values(u)),
                           compatible=compatible, evidence=evidence or (lambda _: ())):
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        key = {g: next((u.reading.meta.get(g) for u in members if u.reading.meta.get(g) is not None), missing)
               for g in group_by}
        found.append(Found(stable_id(prefix, community, anchor.shot.id), key, members))
    return found
