"""The `team_match` and `race` shapes: results read from one screen each, the same result sent twice counted once.

Pure functions over plain values; derive.py feeds them the readings and writes their rows.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date, datetime


def our_team(teams: dict[int, list[Hashable]], known: set[Hashable]) -> int:
    """The community's own team: the one with more players it has seen on other screens (team 1 on a tie).

    A clan's members recur across its wars; the opponents change."""
    return max(sorted(teams), key=lambda t: (sum(p in known for p in teams[t]), -t))


def result(ours: int | None, theirs: int | None) -> str | None:
    if ours is None or theirs is None:
        return None
    return "win" if ours > theirs else "loss" if ours < theirs else "draw"


def per_full_match(score: int | None, races: int | None, full: int | None) -> float | None:
    """A score scaled to a full match: a sub who played 7 of 12 races and scored 56 stands for 96."""
    if score is None or not full:
        return None
    played = races if races and 0 < races <= full else full
    return round(score * full / played, 1)


def team_totals(rows: Iterable[tuple[int | None, int | None]]) -> dict[int, int]:
    """Each team's sum of its rows' values (team, value)."""
    out: dict[int, int] = {}
    for team, value in rows:
        if team is not None and isinstance(value, int):
            out[team] = out.get(team, 0) + value
    return out


DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d")


def shown_date(text: str) -> date | None:
    """A date as table bots print it (`18 Jul 2025`, `2025-07-18`, `18.07.2025`); None when it is no date."""
    cleaned = " ".join(text.replace(",", " ").split())
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None
