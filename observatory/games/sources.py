"""Where a pack table's column takes its value from (`columns:` in pack.yaml `tables`), parsed once.

A column is declared by a short source (`row.damage`, `key.start`, `sum(bear_scores.damage)`) rather
than by code, so a new game's snapshot or event table is data; this module gives each source its
meaning and its SQL type, and refuses an unknown one at start-up.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .format import FieldSpec, Pack

# Sources that need no argument, with their SQL type.
PLAIN: dict[str, str] = {
    "id": "TEXT", "community": "TEXT", "player": "TEXT", "started_at": "TEXT", "captured_at": "TEXT",
    "time_source": "TEXT", "confidence": "REAL", "screenshot_id": "TEXT", "screenshot_ids": "TEXT",
    "screenshots": "INTEGER", "readings": "INTEGER", "note": "TEXT",
}
SQL_TYPES = {"int": "INTEGER", "bool": "INTEGER", "text": "TEXT", "list": "TEXT"}
_FIELD = r"[a-z][a-z0-9_]*"
_FORMS = [
    ("field", re.compile(rf"^(row|meta|summary|key)\.({_FIELD})$")),
    ("one", re.compile(rf"^one\(meta\.({_FIELD})\)$")),
    ("first", re.compile(rf"^first\(row\.({_FIELD})(?:\s*,\s*row\.({_FIELD}))+\)$")),
    ("int", re.compile(rf"^int\(row\.({_FIELD})\)$")),
    ("name", re.compile(r"^name\.(plain|tag)$")),
    ("count", re.compile(rf"^count\(({_FIELD})\)$")),
    ("sum", re.compile(rf"^sum\(({_FIELD})\.({_FIELD})\)$")),
]


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed source: `op` and its arguments (`row.power` is ("row", ("power",)))."""

    op: str
    args: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """The pack fields it reads (for validation and typing)."""
        if self.op in ("row", "meta", "summary", "one", "first", "int"):
            return self.args
        return self.args[1:] if self.op == "sum" else ()


def parse(text: str) -> Source:
    """ValueError naming the source when it is not one of the known forms."""
    text = text.strip()
    if text in PLAIN:
        return Source(text)
    for form, rx in _FORMS:
        m = rx.match(text)
        if m is None:
            continue
        if form == "field":
            return Source(m.group(1), (m.group(2),))
        if form == "first":
            return Source("first", tuple(re.findall(rf"row\.({_FIELD})", text)))
        return Source(form, tuple(g for g in m.groups() if g is not None))
    raise ValueError(f"unknown source {text!r} (see KINDS.md, Read model)")


def sql_type(source: Source, fields: dict[str, FieldSpec]) -> str:
    """The column's SQL type: a field's declared type, or the source's own."""
    if source.op in PLAIN:
        return PLAIN[source.op]
    if source.op in ("int", "count", "sum"):
        return "INTEGER"
    if source.op == "name" or (source.op == "key" and source.args[0] == "start"):
        return "TEXT"
    spec = fields.get(source.args[0])
    return SQL_TYPES[spec.type] if spec is not None else "TEXT"


def table_ddl(name: str, pack: Pack) -> str:
    """The CREATE TABLE column list of one of a pack's tables (its key columns NOT NULL, as is `community`)."""
    spec = pack.tables[name]
    cols = []
    for col, text in spec.columns.items():
        null = " NOT NULL" if col in spec.key or col == "community" else ""
        cols.append(f"[{col}] {sql_type(parse(text), pack.fields)}{null}")
    return ", ".join(cols) + ", PRIMARY KEY (" + ", ".join(f"[{c}]" for c in spec.key) + ")"
