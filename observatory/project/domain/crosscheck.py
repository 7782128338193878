"""An abbreviated value and an exact reading of the same player's same measure must agree (pure).

A roster card shows chief power as `211.5M`; another screen may show the same measure exactly
(`211,534,112`). Within one community, an exact reading taken near in time to an abbreviated one
(within `window`) must lie inside what the abbreviation can stand for: the values that round or
truncate to it, widened by the growth (or loss) plausible between the two capture times. An exact
reading outside that is doubtful: a digit misread (an icon read as a leading 3, a dropped digit)
is far outside, real growth is not.

Only readings of one measure are compared, so a kind's field is compared only when its pack
declares what it measures (`read_model.measures`, gathered in `MEASURES`): the foundry and championship sign-ups show troop power (3,582 beside a
roster's 285.4M), a different measure, and are never compared with the roster's chief power.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ...games import kinds

UNITS = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_ABBREV = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([KMBT])\s*$", re.I)

def _declared() -> dict[tuple[str, str], tuple[str, str | None]]:
    """(kind, field) -> (measure, the field holding the value as shown when abbreviated), from the packs'
    `read_model.measures`: a field is compared only with readings its pack says measure the same thing."""
    out: dict[tuple[str, str], tuple[str, str | None]] = {}
    for name, k in kinds().items():
        for field, measure in (k.read_model.measures if k.read_model else {}).items():
            text = next((f.text_of for f in k.fields if f.name == field and f.type == "abbrev"), None)
            out[(name, field)] = (measure, text)
    return out


MEASURES: Mapping[tuple[str, str], tuple[str, str | None]] = _declared()
WINDOW = timedelta(days=7)  # "near in time": readings further apart are not compared
GROWTH_PER_DAY = 0.02  # a measure may grow (or fall) by this share a day between two captures
SLACK = timedelta(hours=1)  # even readings taken at the same moment get an hour's growth


def span(shown: str) -> tuple[int, int] | None:
    """The exact values (lo, hi inclusive) an abbreviation such as `211.5M` can stand for, whether the
    screen rounds (211.45M..211.55M) or truncates (211.5M..211.6M); None when `shown` is no abbreviation."""
    m = _ABBREV.match(shown or "")
    if not m:
        return None
    digits, unit = m.group(1).replace(",", "."), UNITS[m.group(2).upper()]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    step = Decimal(unit) / (10**decimals)
    value = Decimal(digits) * unit
    return int(value - step / 2), int(value + step) - 1


def abbreviate(value: int, decimals: int = 1, *, truncate: bool = False) -> str:
    """`value` as a screen abbreviates it: 211534112 -> `211.5M` (`210M` without a zero decimal)."""
    for suffix in ("T", "B", "M", "K"):
        unit = UNITS[suffix]
        if value >= unit:
            break
    else:
        return str(value)
    q = Decimal(value) / unit
    step = Decimal(1).scaleb(-decimals)
    shown = q.quantize(step, rounding="ROUND_DOWN" if truncate else "ROUND_HALF_UP")
    text = f"{shown:f}".rstrip("0").rstrip(".") if decimals else f"{shown:f}"
    return f"{text}{suffix}"


def agrees(exact: int, exact_at: datetime, shown: str, shown_at: datetime,
           growth_per_day: float = GROWTH_PER_DAY) -> bool:
    """Whether the exact reading fits the abbreviation, allowing the growth of the time between them."""
    bounds = span(shown)
    if bounds is None:
        return True  # nothing to compare with
    lo, hi = bounds
    days = (abs(exact_at - shown_at) + SLACK) / timedelta(days=1)
    margin = growth_per_day * days * hi
    return lo - margin <= exact <= hi + margin


@dataclass(frozen=True, slots=True)
class Measured:
    """One reading of a player's value: whose, which kind and row, when; `ref` is the caller's handle."""

    player: str
    kind: str
    row: Mapping[str, Any]
    at: datetime
    ref: Any = None


@dataclass(frozen=True, slots=True)
class Doubt:
    exact: Measured
    shown: Measured
    reason: str


def disagreements(readings: Iterable[Measured], *,
                  measures: Mapping[tuple[str, str], tuple[str, str | None]] | None = None,
                  window: timedelta = WINDOW, growth_per_day: float = GROWTH_PER_DAY) -> list[Doubt]:
    """Exact readings that disagree with an abbreviated reading of the same player's same measure taken
    within `window`, each with the nearest such abbreviation and the reason. Deterministic: the result
    follows the order of `readings`. `measures` defaults to `MEASURES`."""
    measures = MEASURES if measures is None else measures
    shown: dict[tuple[str, str], list[tuple[Measured, str, int]]] = defaultdict(list)
    exact: list[tuple[Measured, str, str, int]] = []
    for r in readings:
        for (kind, field), (measure, text_field) in measures.items():
            value = r.row.get(field)
            if r.kind != kind or not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                continue
            text = r.row.get(text_field) if text_field else None
            if isinstance(text, str) and span(text) is not None:
                shown[(r.player, measure)].append((r, text, value))
            else:
                exact.append((r, measure, field, value))
    out = []
    for r, measure, field, value in exact:
        near = [(s, text) for s, text, _ in shown.get((r.player, measure), ()) if abs(s.at - r.at) <= window]
        if not near:
            continue
        s, text = min(near, key=lambda st: abs(st[0].at - r.at))
        if agrees(value, r.at, text, s.at, growth_per_day):
            continue
        lo, hi = span(text)  # type: ignore[misc]
        days = abs(s.at - r.at) / timedelta(days=1)
        out.append(Doubt(r, s, f"{field} {value:,} disagrees with {text} ({lo:,}..{hi:,}) read {days:.1f} days "
                               f"apart on {s.kind}, beyond rounding and {growth_per_day:.0%} a day of growth"))
    return out
