"""What the shapes share: a screenshot that counts, a reading of one player's row, and how a group's rows
pick the reading they keep (pure; derive.py and the shapes use them)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ...correct.rows import Reading
from .model import Shot, iso

Rows = dict[str, list[dict[str, Any]]]


@dataclass(slots=True, eq=False)  # one object per screenshot's reading: compared by identity
class Used:
    """A screenshot that counts: its effective reading and the time it stands for."""

    shot: Shot
    reading: Reading
    time: datetime  # capture time, or an admin's time
    mail: datetime | None  # the mail time the screen shows (UTC), if any
    pids: list[str | None]  # whose each row is, as the step of the derivation at hand has it
    outvoted: set[int] = field(default_factory=set)  # rows whose name reading lost a vote (votes.py)
    base: list[str | None] = field(default_factory=list)  # whose each row is by its name alone (players.py)
    voted: list[str | None] = field(default_factory=list)  # ... after its group's votes (votes.py)
    _time_text: str | None = None

    @property
    def time_text(self) -> str:
        """`time` as the tables store it, formatted once (every row of the screenshot repeats it)."""
        if self._time_text is None:
            self._time_text = iso(self.time)
        return self._time_text

    @property
    def event_time(self) -> datetime:
        return self.mail or self.time


@dataclass(slots=True)
class Pick:
    """One reading of a player's value among several screenshots of the same event."""

    used: Used
    index: int

    @property
    def row(self) -> dict[str, Any]:
        return self.used.reading.rows[self.index]

    @property
    def confidence(self) -> float:
        c = self.used.reading.confidence[self.index]
        return -1.0 if c is None else c

    @property
    def pid(self) -> str:
        return self.used.pids[self.index]  # type: ignore[return-value]


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def review_item(community: str, reason: str, subject: str, detail: str, screenshot_id: str | None = None,
            player_id: str | None = None, confidence: float | None = None) -> dict[str, Any]:
    return {"community": community, "reason": reason, "subject": subject, "detail": detail,
            "screenshot_id": screenshot_id, "player_id": player_id, "confidence": confidence}


def picks_of(groups_of: Iterable[Used], usable=lambda row: True) -> dict[str, list[Pick]]:  # type: ignore[no-untyped-def]
    by_player: dict[str, list[Pick]] = defaultdict(list)
    for u in groups_of:
        for i, row in enumerate(u.reading.rows):
            if u.pids[i] is not None and usable(row):
                by_player[u.pids[i]].append(Pick(u, i))  # type: ignore[index]
    return by_player


def best(picks: list[Pick]) -> Pick:
    """A reading whose name won its vote; then highest confidence; ties go to the later screenshot, then the id,
    so the choice is deterministic."""
    return max(picks, key=lambda p: (p.index not in p.used.outvoted, p.confidence, p.used.time, p.used.shot.id,
                                     -p.index))


def latest_best(picks: list[Pick], window: timedelta) -> tuple[Pick, list[Pick]]:
    """For values that grow (contribution, sign-ups): the best reading of the newest capture session."""
    newest = max(p.used.time for p in picks)
    recent = [p for p in picks if newest - p.used.time <= window]
    return best(recent), recent


def conflict(community: str, table: str, group: str, field: str, picks: list[Pick], review: list[dict[str, Any]]) -> None:
    values = {p.row.get(field) for p in picks if p.row.get(field) is not None}
    if len(values) > 1:
        won = best(picks)
        seen = "; ".join(f"{p.row.get(field)!r} in {p.used.shot.id[:12]} ({p.confidence:.2f})" for p in picks)
        review.append(review_item(community, "conflict", f"{table} {group} {won.pid}",
                              f"{field} read differently: {seen}; kept {won.row.get(field)!r}",
                              won.used.shot.id, won.pid, won.confidence))


def source_ids(members: Sequence[Used]) -> str:
    return as_json([u.shot.id for u in members])


def mark(usage: dict[str, dict[str, Any]], members: Sequence[Used], table: str, gid: str) -> None:
    for u in members:
        usage[u.shot.id]["used_in"] = table
        usage[u.shot.id]["group_id"] = gid


def note_of(members: Sequence[Used], notes: dict[str, list[str]]) -> str | None:
    texts = [t for u in members for t in notes.get(u.shot.id, ())]
    return "\n".join(texts) or None


def forced_time(members: Sequence[Used], event_time: dict[str, datetime]) -> datetime | None:
    times = [event_time[u.shot.id] for u in members if u.shot.id in event_time]
    return min(times) if times else None
