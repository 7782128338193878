"""A pack table's row from its declared column sources (games/sources.py): pure, one function per row.

The snapshot and event shapes find the groups and the readings they keep; what each column of
the game's table holds is the pack's declaration, read here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...games import sources
from ...games.format import Pack
from ...identity import parse_name
from .model import iso
from .used import Pick, Used, source_ids


@dataclass(slots=True)
class Group:
    """One snapshot or event: what its columns may name besides a row."""

    community: str
    id: str
    key: dict[str, Any]
    members: list[Used]
    started: datetime
    time_source: str = "capture"
    meta: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # its participants, per table


def one_of(members: list[Used], name: str) -> list[Any]:
    """The distinct values a meta field shows across a group's screenshots, sorted (several: a conflict)."""
    return sorted({u.reading.meta.get(name) for u in members} - {None}, key=repr)


Getter = Callable[[Group, "Pick | None", "str | None", "int | None"], Any]


def getter(src: sources.Source, pack: Pack) -> Getter:
    """The function that reads one column's value; built once per table, since a settle fills many rows."""
    op, args = src.op, src.args
    name = args[0] if args else ""
    as_int = (spec := pack.fields.get(name)) is not None and spec.type == "bool"

    def typed(v: Any) -> Any:
        return int(bool(v)) if as_int and v is not None else v

    if op == "row" and not as_int:  # the most common column: no wrapper
        return lambda g, p, pid, n: p.used.reading.rows[p.index].get(name) if p else None
    table: dict[str, Getter] = {
        "row": lambda g, p, pid, n: typed(p.row.get(name)) if p else None,
        "meta": lambda g, p, pid, n: typed(g.meta.get(name)),
        "summary": lambda g, p, pid, n: typed(g.summary.get(name)),
        "key": lambda g, p, pid, n: g.key.get(name),
        "one": lambda g, p, pid, n: next(iter(one_of(g.members, name)), None),
        "first": lambda g, p, pid, n: next((p.row.get(f) for f in args if p.row.get(f)), None) if p else None,
        "int": lambda g, p, pid, n: _int(p.row.get(name)) if p else None,
        "name": lambda g, p, pid, n: _name(p.row.get("name"), name) if p else None,
        "count": lambda g, p, pid, n: len(g.tables.get(name, ())),
        "sum": lambda g, p, pid, n: sum(r.get(args[1]) or 0 for r in g.tables.get(name, ())),
        "id": lambda g, p, pid, n: g.id,
        "community": lambda g, p, pid, n: g.community,
        "player": lambda g, p, pid, n: pid,
        "readings": lambda g, p, pid, n: n,
        "captured_at": lambda g, p, pid, n: p.used.time_text if p else None,
        "confidence": lambda g, p, pid, n: p.used.reading.confidence[p.index] if p else None,
        "screenshot_id": lambda g, p, pid, n: p.used.shot.id if p else None,
        "started_at": lambda g, p, pid, n: iso(g.started),
        "time_source": lambda g, p, pid, n: g.time_source,
        "screenshot_ids": lambda g, p, pid, n: source_ids(sorted(g.members, key=lambda u: u.time)),
        "screenshots": lambda g, p, pid, n: len(g.members),
        "note": lambda g, p, pid, n: g.note,
    }
    return table[op]


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, str) and v.strip().isdigit() else None


def _name(shown: Any, part: str) -> str | None:
    pn = parse_name(shown or "")
    return pn.name if part == "plain" else pn.tag


_COMPILED: dict[tuple[str, str], tuple[tuple[str, Getter], ...]] = {}


def _compiled(table: str, pack: Pack) -> tuple[tuple[str, Getter], ...]:
    found = _COMPILED.get((pack.game, table))
    if found is None:
        found = _COMPILED[(pack.game, table)] = tuple(
            (col, getter(sources.parse(text), pack)) for col, text in pack.tables[table].columns.items())
    return found


_SINGLE: dict[tuple[str, str], tuple[str, ...]] = {}


def single_fields(table: str, pack: Pack) -> tuple[str, ...]:
    """The meta fields a table's `one(meta.F)` columns hold: their screenshots should show one value."""
    found = _SINGLE.get((pack.game, table))
    if found is None:
        parsed = [sources.parse(text) for text in pack.tables[table].columns.values()]
        found = _SINGLE[(pack.game, table)] = tuple(src.args[0] for src in parsed if src.op == "one")
    return found


def table_row(table: str, pack: Pack, g: Group, pick: Pick | None = None, player: str | None = None,
              readings: int | None = None) -> dict[str, Any]:
    return {col: get(g, pick, player, readings) for col, get in _compiled(table, pack)}
