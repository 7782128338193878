"""The output contract of each screen kind (shared/samples/README.md), as types.

Corrections are checked against it, so a fix can only set a field the kind has, to a
value of the field's type.
"""

from __future__ import annotations

import re
from typing import Any

ROW_FIELDS: dict[str, dict[str, type]] = {
    "bear_damage": {"rank": int, "name": str, "damage": int},
    "bear_overview": {"rank": int, "name": str, "damage": int},
    "contribution": {"rank": int, "name": str, "contribution": int},
    "alliance_members": {"name": str, "power_text": str, "power": int, "furnace_text": str, "tier": str},
    "alliance_power": {"rank": int, "tag": str, "alliance": str, "power": int},
    "ac_signup": {"order": int, "name": str, "power": int},
    "foundry_signup": {"name": str, "power": int, "status": str, "voted": bool, "tier": str},
    "foundry_result": {"rank": int, "name": str, "points": int},
}
META_FIELDS: dict[str, dict[str, type]] = {
    "bear_damage": {"trap_id": int},
    "bear_overview": {"trap_id": int, "rallies": int, "total_damage": int, "mail_time": str},
    "contribution": {"period": str},
    "alliance_members": {"online": str},
    "alliance_power": {},
    "ac_signup": {"lane": str, "registered": int, "capacity": int, "total_power": int},
    "foundry_signup": {"legion": int, "joined": int, "capacity": int, "substitutes": str, "troop_power": int},
    "foundry_result": {"mail_time": str, "result": str, "legion": int, "our_alliance": str, "our_score": int,
                       "opponent": str, "opponent_score": int},
    "unknown": {},
}
CHOICES: dict[str, tuple[str, ...]] = {
    "period": ("daily", "weekly"),
    "lane": ("left", "middle", "right"),
    "result": ("victory", "defeat"),
}
KINDS = tuple(ROW_FIELDS) + ("unknown",)
_SUFFIX = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_MAIL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


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


def coerce(field: str, typ: type, value: Any) -> Any:
    """The typed value for `field`, from CLI text or YAML; None clears the field."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        return None
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
        if isinstance(value, int):
            return value
        return parse_number(str(value))
    text = str(value).strip()
    if field in CHOICES and text not in CHOICES[field]:
        raise FieldError(f"{field} must be one of {', '.join(CHOICES[field])}, got {text!r}")
    if field == "mail_time" and not _MAIL_TIME.match(text):
        raise FieldError(f"mail_time must look like 2025-11-11 22:30:05, got {text!r}")
    return text


def field_type(kind: str, field: str, *, meta: bool) -> type:
    table = META_FIELDS if meta else ROW_FIELDS
    fields = table.get(kind, {})
    if field not in fields:
        where = "meta field" if meta else "row field"
        known = ", ".join(fields) or "none"
        raise FieldError(f"{kind} has no {where} {field!r} (it has: {known})")
    return fields[field]
