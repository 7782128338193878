"""A pack table's row from its declared column sources (games/sources.py): pure, one function per row.

The snapshot and event shapes find the groups and the readings they keep; what each column of
the game's table holds is the pack's declaration, read here.
"""

from __future__ import annotations

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


def value(src: sources.Source, g: Group, pack: Pack, pick: Pick | None = None, player: str | None = None,
          readings: int | None = None) -> Any:
    op, args = src.op, src.args
    row = pick.row if pick is not None else {}
    if op == "row":
        return _typed(row.get(args[0]), args[0], pack)
    if op == "meta":
        return _typed(g.meta.get(args[0]), args[0], pack)
    if op == "summary":
        return _typed(g.summary.get(args[0]), args[0], pack)
    if op == "key":
        return g.key.get(args[0])
    if op == "one":
        found = one_of(g.members, args[0])
        return found[0] if found else None
    if op == "first":
        return next((row.get(f) for f in args if row.get(f)), None)
    if op == "int":
        v = row.get(args[0])
        return int(v) if isinstance(v, str) and v.strip().isdigit() else None
    if op == "name":
        pn = parse_name(row.get("name") or "")
        return pn.name if args[0] == "plain" else pn.tag
    if op == "count":
        return len(g.tables.get(args[0], ()))
    if op == "sum":
        return sum(r.get(args[1]) or 0 for r in g.tables.get(args[0], ()))
    if op == "id":
        return g.id
    if op == "community":
        return g.community
    if op == "player":
        return player
    if op == "readings":
        return readings
    if pick is not None:
        if op == "captured_at":
            return iso(pick.used.time)
        if op == "confidence":
            return pick.used.reading.confidence[pick.index]
        if op == "screenshot_id":
            return pick.used.shot.id
    if op == "started_at":
        return iso(g.started)
    if op == "time_source":
        return g.time_source
    if op == "screenshot_ids":
        return source_ids(sorted(g.members, key=lambda u: u.time))
    if op == "screenshots":
        return len(g.members)
    if op == "note":
        return g.note
    return None


def _typed(v: Any, name: str, pack: Pack) -> Any:
    spec = pack.fields.get(name)
    if v is not None and spec is not None and spec.type == "bool":
        return int(bool(v))
    return v


def table_row(table: str, pack: Pack, g: Group, pick: Pick | None = None, player: str | None = None,
              readings: int | None = None) -> dict[str, Any]:
    return {col: value(_parsed(text), g, pack, pick, player, readings)
            for col, text in pack.tables[table].columns.items()}


_PARSED: dict[str, sources.Source] = {}


def _parsed(text: str) -> sources.Source:
    src = _PARSED.get(text)
    if src is None:
        src = _PARSED[text] = sources.parse(text)
    return src
