"""Applying row and meta fixes to one screenshot's reading (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..eventlog.models import AddRow, Confirm, DeleteRow, RowRef, SetValue
from ..identity import parse_name
from .fields import META_FIELDS, ROW_FIELDS
from .state import Record


def row_name(row: dict[str, Any]) -> str | None:
    """The text a row is known by: the player's name, or the alliance for alliance_power."""
    for key in ("name", "alliance", "tag"):
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def address_of(kind: str, row: dict[str, Any]) -> RowRef | None:
    """How a row is addressed: by rank (or order) when it has one, else by name, else (a name no reader could
    read) by its power."""
    for key in ("rank", "order"):
        if key in ROW_FIELDS.get(kind, {}) and isinstance(row.get(key), int) and not isinstance(row.get(key), bool):
            return RowRef(field=key, value=row[key])
    name = row_name(row)
    if name:
        return RowRef(field="name", value=name)
    power = row.get("power")
    if "power" in ROW_FIELDS.get(kind, {}) and isinstance(power, int) and not isinstance(power, bool):
        return RowRef(field="power", value=power)
    return None


def parse_ref(kind: str, text: str) -> RowRef:
    """`5` -> rank 5 (order 5 on championship screens); `name:Valorin` or any non-number -> by name;
    `power:1303` -> the row showing that power (one whose name no reader could read)."""
    text = text.strip()
    if text.lower().startswith("name:"):
        return RowRef(field="name", value=text[5:].strip())
    if text.lower().startswith("power:") and text[6:].strip().replace(",", "").isdigit():
        return RowRef(field="power", value=int(text[6:].strip().replace(",", "")))
    for prefix in ("rank:", "order:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):].strip()
    if text.lstrip("#").isdigit():
        key = "order" if "order" in ROW_FIELDS.get(kind, {}) else "rank"
        return RowRef(field=key, value=int(text.lstrip("#")))
    return RowRef(field="name", value=text)


def find_row(rows: Sequence[dict[str, Any]], ref: RowRef) -> int | None:
    if ref.field == "name":
        want = parse_name(str(ref.value)).key
        for i, row in enumerate(rows):
            shown = row_name(row)
            if shown is not None and parse_name(shown).key == want:
                return i
        return None
    for i, row in enumerate(rows):
        if row.get(ref.field) == ref.value:
            return i
    return None


def doubtful_fields(row: dict[str, Any]) -> list[str]:
    """The fields the extractor was not sure of (`"doubtful": ["power", ...]`); rows of older events have none."""
    marked = row.get("doubtful")
    if isinstance(marked, (list, tuple)):
        return [str(f) for f in marked]
    return ["row"] if marked else []


def clear_doubt(row: dict[str, Any], fields: Sequence[str] | None) -> None:
    """An admin checked `fields` of the row (None: all of them): they are no longer doubtful."""
    left = [f for f in doubtful_fields(row) if fields is not None and f not in fields]
    reasons = row.get("doubt_reasons")
    if left:
        row["doubtful"] = left
        if isinstance(reasons, dict):
            row["doubt_reasons"] = {k: v for k, v in reasons.items() if k in left}
    else:
        row.pop("doubtful", None)
        row.pop("doubt_reasons", None)


def describe(ref: RowRef | None) -> str:
    if ref is None:
        return "meta"
    return f"{ref.field} {ref.value}" if ref.field != "name" else f"name {ref.value!r}"


@dataclass
class Reading:
    """A screenshot's effective reading: what OCR said with the admins' fixes applied."""

    kind: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    confidence: list[float | None]
    problems: list[tuple[str, str]] = field(default_factory=list)  # (correction id, why it did not apply)


def apply_fixes(kind: str, meta: dict[str, Any], rows: Sequence[dict[str, Any]],
                confidence: Sequence[float | None], fixes: Sequence[Record]) -> Reading:
    """Apply set/confirm/delete/add fixes in log order. A fix whose row is gone is reported, not guessed.

    Setting a field, or confirming it, clears that field's doubt.

    With nothing to fix (nearly every screenshot) the rows are shared, not copied: a
    reading is read-only to its users, and copying every row of a community dominated.
    """
    if not fixes:
        return Reading(kind, meta, list(rows), list(confidence) + [None] * (len(rows) - len(confidence)))
    out = Reading(kind, dict(meta), [dict(r) for r in rows], list(confidence) + [None] * (len(rows) - len(confidence)))
    for rec in fixes:
        c = rec.correction
        if isinstance(c, SetValue):
            if c.row is None:
                if c.field not in META_FIELDS.get(kind, {}):
                    out.problems.append((rec.cid, f"{kind} has no meta field {c.field!r}"))
                    continue
                out.meta[c.field] = c.value
                continue
            if c.field not in ROW_FIELDS.get(kind, {}):
                out.problems.append((rec.cid, f"{kind} rows have no field {c.field!r}"))
                continue
            i = find_row(out.rows, c.row)
            if i is None:
                out.problems.append((rec.cid, f"no row with {describe(c.row)}"))
                continue
            out.rows[i][c.field] = c.value
            out.confidence[i] = 1.0
            clear_doubt(out.rows[i], [c.field])
        elif isinstance(c, Confirm):
            i = find_row(out.rows, c.row)
            if i is None:
                out.problems.append((rec.cid, f"no row with {describe(c.row)}"))
                continue
            clear_doubt(out.rows[i], c.fields or None)
            if not c.fields:
                out.confidence[i] = 1.0  # the whole row was checked
        elif isinstance(c, DeleteRow):
            i = find_row(out.rows, c.row)
            if i is None:
                out.problems.append((rec.cid, f"no row with {describe(c.row)}"))
                continue
            del out.rows[i]
            del out.confidence[i]
        elif isinstance(c, AddRow):
            fields = ROW_FIELDS.get(kind, {})
            if any(k not in fields for k in c.values):
                out.problems.append((rec.cid, f"{kind} rows have no field(s) {sorted(set(c.values) - set(fields))}"))
                continue
            ref = address_of(kind, c.values)
            i = find_row(out.rows, ref) if ref is not None else None
            if i is None:
                out.rows.append(dict(c.values))
                out.confidence.append(1.0)
            else:
                out.rows[i] = dict(c.values)
                out.confidence[i] = 1.0
    if "rank" in ROW_FIELDS.get(kind, {}) and any(isinstance(r.correction, AddRow) for r in fixes):
        order = sorted(range(len(out.rows)), key=lambda i: (out.rows[i].get("rank") is None, out.rows[i].get("rank") or 0))
        out.rows = [out.rows[i] for i in order]
        out.confidence = [out.confidence[i] for i in order]
    return out
