"""The output contract of each screen kind, as types: taken from the game packs' declarations.

Corrections are checked against it, so a fix can only set a field the kind has, to a
value of the field's type within the field's bounds (no rank -5, no negative damage).
Each field is declared once, with its bounds, in its pack's `pack.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from ..games import UNKNOWN, FieldSpec, field_spec, kinds


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


_TYPES: dict[str, type] = {"int": int, "text": str, "bool": bool}


def _field(spec: FieldSpec) -> Field:
    return _interned(_TYPES[spec.type], spec.min, tuple(spec.choices), spec.time_format)


@lru_cache(maxsize=None)
def _interned(typ: type, low: int | None, choices: tuple[str, ...], time_format: str | None) -> Field:
    """One object per distinct contract, so a field declared once is the same bound everywhere."""
    return Field(typ, min=low, choices=choices, time_format=time_format)


def _contracts() -> tuple[dict[str, dict[str, Field]], dict[str, dict[str, Field]]]:
    """Every kind's correctable row and meta fields, from the packs' declarations (lists such as `sections` are not)."""
    rows: dict[str, dict[str, Field]] = {}
    meta: dict[str, dict[str, Field]] = {}
    for name, k in kinds().items():
        spec = {f: field_spec(name, f) for f in k.row_fields() + k.meta_fields()}
        rows[name] = {f: _field(spec[f]) for f in k.row_fields() if spec[f].type != "list"}  # type: ignore[union-attr]
        meta[name] = {f: _field(spec[f]) for f in k.meta_fields() if spec[f].type != "list"}  # type: ignore[union-attr]
    meta[UNKNOWN] = {}
    return rows, meta


ROW_FIELDS, META_FIELDS = _contracts()
FIELDS: dict[str, Field] = {f: spec for table in (ROW_FIELDS, META_FIELDS) for fields in table.values()
                             for f, spec in fields.items()}
KINDS = tuple(ROW_FIELDS) + (UNKNOWN,)
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
