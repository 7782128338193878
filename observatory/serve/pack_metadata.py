"""The packs' part of Datasette's metadata: each game brings its tables' descriptions, canned queries and charts.

`datasette-metadata.yml` stays the readable file users edit; a table or query it names wins over a
pack's. A query of the file that counts players across events writes `/* RANKING ENTRIES */` where
every ranking kind's entries table is to join in (`participation`); the packs' tables are filled in here. A `ranking` kind's entries table is described from the kind's declaration (its fields'
descriptions), so a new game's table is documented without anyone writing it twice.
"""
from __future__ import annotations

import copy
from typing import Any

from ..games import Pack, field_spec, kinds, packs, ranking_table, shape_of, sources

RANKING_ENTRIES = "/* RANKING ENTRIES */"

GENERIC_COLUMNS = {
    "ranking_id": "The ranking (rankings.ranking_id): one capture session of the list",
    "player_id": "Player (players.player_id)",
    "community": "Community",
    "rank": "Place in the list: the list order, stitched across overlapping screenshots",
    "rank_exact": "1 when no screenshot is missing above this row; 0: rows may be missing above, the rank is a lower bound",
    "confidence": "OCR confidence of the reading kept, 0 to 1",
    "screenshot_id": "The screenshot the value was read from",
    "readings": "How many screenshots showed this row (overlaps read it twice)",
}


def _ranking_tables(pack: Pack) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in pack.kinds:
        if shape_of(k.name) != "ranking":
            continue
        cols = dict(GENERIC_COLUMNS)
        for f in k.row_fields():
            spec = field_spec(k.name, f)
            if f != "rank" and spec is not None:
                cols[f] = spec.description or f.replace("_", " ").capitalize()
        out[ranking_table(k)] = {
            "description": f"{pack.title}: {k.description}. One row per player per ranking (rankings), in list order.",
            "facets": ["community", "ranking_id"], "columns": cols}
    return out


def _declared_tables(pack: Pack) -> dict[str, Any]:
    """A snapshot's or event's table as its pack declares it: its description, and a column's from its field."""
    out: dict[str, Any] = {}
    for name, spec in pack.tables.items():
        cols = {}
        for col, text in spec.columns.items():
            src = sources.parse(text)
            fs = pack.fields.get(src.args[0]) if src.op in ("row", "meta", "summary") else None
            if fs is not None and fs.description:
                cols[col] = fs.description
            elif col in GENERIC_COLUMNS:
                cols[col] = GENERIC_COLUMNS[col]
        out[name] = {"description": f"{pack.title}: {spec.description}" if spec.description else pack.title,
                     "columns": cols}
    return out


def ranking_entries(sql: str) -> str:
    """`sql` with its RANKING_ENTRIES marker made a `union` of (ranking_id, player_id) of every entries table."""
    tables = sorted({ranking_table(k) for name, k in kinds().items() if shape_of(name) == "ranking"})
    return sql.replace(RANKING_ENTRIES, "".join(f"union select ranking_id, player_id from [{t}] " for t in tables))


def with_packs(meta: dict[str, Any], database: str) -> dict[str, Any]:
    """`meta` with every pack's tables and queries added where the file does not already have them."""
    meta = copy.deepcopy(meta)
    db = meta.setdefault("databases", {}).setdefault(database, {})
    tables = db.setdefault("tables", {})
    queries = db.setdefault("queries", {})
    for pack in packs():
        for name, spec in {**_ranking_tables(pack), **_declared_tables(pack), **pack.datasette.get("tables", {})}.items():
            tables.setdefault(name, spec)
        for name, spec in pack.datasette.get("queries", {}).items():
            queries.setdefault(name, spec)
        if pack.datasette.get("dashboards"):
            boards = meta.setdefault("plugins", {}).setdefault("datasette-dashboards", {})
            for name, spec in pack.datasette["dashboards"].items():
                boards.setdefault(name, spec)
    for spec in queries.values():
        if isinstance(spec, dict) and RANKING_ENTRIES in spec.get("sql", ""):
            spec["sql"] = ranking_entries(spec["sql"])
    return meta
