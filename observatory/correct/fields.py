"""The output contract of each screen kind (shared/samples/README.md), as types.

Corrections are checked against it, so a fix can only set a field the kind has, to a
value of the field's type within the field's bounds (no rank -5, no negative damage).
Each field is declared once, with its bounds, in `FIELDS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Field:
    """A field's type and the values it may take: a correction outside them is refused."""

    type: type
    min: int | None = None  # numbers: the smallest possible value
    choices: tuple[str, ...] = ()  # text: the only values it may take (empty: any text)
    time_format: str | None = None  # text: a time in this strptime format

    def bounds(self) -> str:
        """The bound in words, for the admin's error message."""
        if self.min is not None:
            return f">= {self.min}"
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        if self.time_format:
            return "a time like 2025-11-11 22:30:05"
        return "any " + ("true/false" if self.type is bool else "number" if self.type is int else "text")


TEXT = Field(str)
COUNT = Field(int, min=0)  # amounts: damage, power, points, people; 0 is possible, below is not
POSITION = Field(int, min=1)  # ranks, orders, trap and legion numbers start at 1

# Every field of every kind, declared once; the kinds below pick from here.
FIELDS: dict[str, Field] = {
    # row fields
    "rank": POSITION,
    "order": POSITION,
    "name": TEXT,
    "tag": TEXT,
    "alliance": TEXT,
    "damage": COUNT,
    "contribution": COUNT,
    "power": COUNT,
    "points": COUNT,
    "power_text": TEXT,
    "furnace_text": TEXT,
    "tier": TEXT,
    "status": TEXT,
    "voted": Field(bool),
    # meta fields
    "trap_id": POSITION,
    "legion": POSITION,
    "rallies": COUNT,
    "total_damage": COUNT,
    "registered": COUNT,
    "capacity": COUNT,
    "total_power": COUNT,
    "joined": COUNT,
    "troop_power": COUNT,
    "our_score": COUNT,
    "opponent_score": COUNT,
    "mail_time": Field(str, time_format="%Y-%m-%d %H:%M:%S"),
    "period": Field(str, choices=("daily", "weekly")),
    "lane": Field(str, choices=("left", "middle", "right")),
    "result": Field(str, choices=("victory", "defeat")),
    "online": TEXT,
    "substitutes": TEXT,
    "our_alliance": TEXT,
    "opponent": TEXT,
}


def _pick(*names: str) -> dict[str, Field]:
    return {n: FIELDS[n] for n in names}


ROW_FIELDS: dict[str, dict[str, Field]] = {
    "bear_damage": _pick("rank", "name", "damage"),
    "bear_overview": _pick("rank", "name", "damage"),
    "contribution": _pick("rank", "name", "contribution"),
    "alliance_members": _pick("name", "power_text", "power", "furnace_text", "tier"),
    "alliance_power": _pick("rank", "tag", "alliance", "power"),
    "ac_signup": _pick("order", "name", "power"),
    "foundry_signup": _pick("name", "power", "status", "voted", "tier"),
    "foundry_result": _pick("rank", "name", "points"),
}
META_FIELDS: dict[str, dict[str, Field]] = {
    "bear_damage": _pick("trap_id"),
    "bear_overview": _pick("trap_id", "rallies", "total_damage", "mail_time"),
    "contribution": _pick("period"),
    "alliance_members": _pick("online"),
    "alliance_power": {},
    "ac_signup": _pick("lane", "registered", "capacity", "total_power"),
    "foundry_signup": _pick("legion", "joined", "capacity", "substitutes", "troop_power"),
    "foundry_result": _pick("mail_time", "result", "legion", "our_alliance", "our_score", "opponent", "opponent_score"),
    "unknown": {},
}
KINDS = tuple(ROW_FIELDS) + ("unknown",)
_SUFFIX = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}


class FieldError(ValueError):
    """A value that does not fit the field; the message is shown to the admin."""


def parse_number(text: str) -> int:
    """`6,442,016,308`, `211.5M`, `45K`, `1.2B` -> int."""
    t = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)([kKmMbBtT]?)", t)
    if not m:
        raise FieldError(f"{text!r} is not a number")
    value = float(m.group(1)) * _SUFFIX.get(m.group(2).lower(), 1)
    if not m.group(2) and "." in m.group(1):
        raise FieldError(f"{text!r} is not a whole number")
    return int(round(value))


def coerce(field: str, spec: Field, value: Any) -> Any:
    """The typed value for `field`, from CLI text or YAML; None clears the field. Out of bounds raises FieldError."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        return None
    typ = spec.type
    if typ is bool:
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in ("true", "yes", "1", "y"):
            return True
        if s in ("false", "no", "0", "n"):
            return False
        raise FieldError(f"{field} must be true or false, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise FieldError(f"{field} must be a number, got {value!r}")
        number = value if isinstance(value, int) else parse_number(str(value))
        if spec.min is not None and number < spec.min:
            raise FieldError(f"{field} must be {spec.bounds()}, got {number}")
        return number
    text = str(value).strip()
    if spec.choices and text not in spec.choices:
        raise FieldError(f"{field} must be {spec.bounds()}, got {text!r}")
    if spec.time_format:
        try:
            datetime.strptime(text, spec.time_format)
        except ValueError:
            raise FieldError(f"{field} must be {spec.bounds()}, got {text!r}") from None
    return text


def field_type(kind: str, field: str, *, meta: bool) -> Field:
    table = META_FIELDS if meta else ROW_FIELDS
    fields = table.get(kind, {})
    if field not in fields:
        where = "meta field" if meta else "row field"
        known = ", ".join(fields) or "none"
        raise FieldError(f"{kind} has no {where} {field!r} (it has: {known})")
    return fields[field]
