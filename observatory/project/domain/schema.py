"""The domain tables: what analysts ask about, derived from screenshots and corrections.

Primary keys are the uniqueness rules: one score per player per hunt, one
contribution per player per period, ... so a duplicate reading cannot become a
second row.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache

from ...games import PackError, field_spec, kinds, pack_of, pack_tables, ranking_table, shape_of

TABLES: dict[str, str] = {
    "communities": """
        community TEXT PRIMARY KEY, screenshots INTEGER, players INTEGER, first_seen TEXT, last_seen TEXT""",
    "players": """
        player_id TEXT PRIMARY KEY, community TEXT NOT NULL, display_name TEXT, tag TEXT, name_key TEXT,
        first_seen TEXT, last_seen TEXT, sightings INTEGER""",
    "player_aliases": """
        community TEXT NOT NULL, name_key TEXT NOT NULL, player_id TEXT NOT NULL, name TEXT, tag TEXT,
        match TEXT, score REAL, first_seen TEXT, last_seen TEXT, screenshot_id TEXT, sightings INTEGER,
        PRIMARY KEY (community, name_key)""",
    "wars": """
        war_id TEXT PRIMARY KEY, community TEXT NOT NULL, kind TEXT, played_at TEXT, date_text TEXT, title TEXT,
        our_team INTEGER, our_total INTEGER, their_total INTEGER, diff INTEGER, result TEXT, races INTEGER,
        players INTEGER, totals_check TEXT, screenshots INTEGER, screenshot_ids TEXT""",
    "war_scores": """
        war_id TEXT NOT NULL, player_id TEXT NOT NULL, community TEXT NOT NULL, team INTEGER, ours INTEGER, name TEXT,
        score INTEGER, races INTEGER, score_full REAL, score_per_race REAL, confidence REAL, screenshot_id TEXT,
        readings INTEGER, PRIMARY KEY (war_id, player_id)""",
    "races": """
        race_id TEXT PRIMARY KEY, community TEXT NOT NULL, kind TEXT, captured_at TEXT, players INTEGER,
        screenshots INTEGER, screenshot_ids TEXT""",
    "race_results": """
        race_id TEXT NOT NULL, player_id TEXT NOT NULL, community TEXT NOT NULL, rank INTEGER, name TEXT,
        score INTEGER, confidence REAL, screenshot_id TEXT, readings INTEGER, PRIMARY KEY (race_id, player_id)""",
    "review_queue": """
        community TEXT NOT NULL, reason TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT, screenshot_id TEXT,
        player_id TEXT, confidence REAL, PRIMARY KEY (community, reason, subject)""",
    "screenshot_usage": """
        screenshot_id TEXT PRIMARY KEY, community TEXT NOT NULL, kind TEXT, used_in TEXT, group_id TEXT,
        event_time TEXT, retracted INTEGER, corrections INTEGER""",
}
# The `ranking` shape: one header table for every game, one entries table per ranking kind, its columns
# the kind's declared row fields (so analysts sort and filter a game's own numbers, e.g. power and points).
TABLES["rankings"] = """
    ranking_id TEXT PRIMARY KEY, community TEXT NOT NULL, game TEXT, kind TEXT NOT NULL, group_key TEXT,
    started_at TEXT, captured_at TEXT, entries INTEGER, gaps INTEGER, screenshots INTEGER, screenshot_ids TEXT"""
_SQL_TYPES = {"int": "INTEGER", "bool": "INTEGER", "text": "TEXT", "list": "TEXT"}


def _ranking_tables() -> dict[str, str]:
    tables: dict[str, str] = {}
    for name, k in kinds().items():
        if shape_of(name) != "ranking":
            continue
        cols = [f"[{f}] {_SQL_TYPES[spec.type]}" for f in k.row_fields()
                if f not in ("rank",) and (spec := field_spec(name, f)) is not None]
        if ranking_table(k) in TABLES:  # a pack may name its ranking's table, never one of the shapes' own
            pack = pack_of(name)
            raise PackError(f"{pack.path if pack else '?'}/kinds/{name}.yaml: kind {name}: field read_model.table: "
                            f"{ranking_table(k)!r} is already a table of its own; name the ranking's table otherwise")
        tables[ranking_table(k)] = (
            "ranking_id TEXT NOT NULL, player_id TEXT NOT NULL, community TEXT NOT NULL, rank INTEGER, rank_exact INTEGER, "
            + ", ".join(cols) + ", confidence REAL, screenshot_id TEXT, readings INTEGER, PRIMARY KEY (ranking_id, player_id)")
    return tables


RANKING_TABLES: dict[str, str] = _ranking_tables()
TABLES.update(RANKING_TABLES)


def _pack_tables() -> dict[str, str]:
    """The snapshots' and events' tables, as their packs declare them (games/sources.py)."""
    out: dict[str, str] = {}
    for name, (pack, ddl) in pack_tables().items():
        if name in TABLES:
            raise PackError(f"{pack.path}/pack.yaml: table {name}: is already a table of the read model's own; "
                            "name it otherwise")
        out[name] = ddl
    return out


PACK_TABLES: dict[str, str] = _pack_tables()
TABLES.update(PACK_TABLES)
INDEXES: list[tuple[str, tuple[str, ...]]] = [
    ("players", ("community", "display_name")),
    ("players", ("display_name",)),  # player_history by a name as shown, with or without its [TAG]
    ("player_aliases", ("player_id",)),
    ("player_aliases", ("name",)),  # player_history finds a player by a name as shown
    ("rankings", ("community", "kind", "captured_at")),
    ("wars", ("community", "played_at")),
    ("war_scores", ("player_id", "war_id")),
    ("races", ("community", "captured_at")),
    ("race_results", ("player_id",)),
    *[(t, ("player_id",)) for t in RANKING_TABLES],
    *[(t, tuple(ix)) for t, (pack, _) in pack_tables().items() for ix in pack.tables[t].indexes],
    ("review_queue", ("reason",)),
    ("review_queue", ("screenshot_id", "reason")),  # screenshots_needing_attention: rows flagged per screenshot
]
CORRECTIONS_DDL = """
    correction_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, recorded_at TEXT, actor TEXT, reason TEXT,
    kind TEXT NOT NULL, community TEXT, target TEXT, detail TEXT, status TEXT NOT NULL, reverted_by TEXT"""


@lru_cache(maxsize=1)
def signature() -> str:
    """The packs' tables and indexes as text: a change to them is a change of the projections' schema."""
    return repr(sorted((PACK_TABLES | RANKING_TABLES).items())) + repr(INDEXES)


def create(db, name: str, columns: str) -> None:  # type: ignore[no-untyped-def]
    db.execute(f"CREATE TABLE IF NOT EXISTS [{name}] ({columns})")


def setup(db) -> None:  # type: ignore[no-untyped-def]
    for name, columns in TABLES.items():
        create(db, name, columns)
    for table, cols in INDEXES:
        name = "_".join(col.strip('"') for col in cols)
        quoted = ", ".join(f"[{col.strip(chr(34))}]" for col in cols)
        db.execute(f"CREATE INDEX IF NOT EXISTS [idx_{table}_{name}] ON [{table}] ({quoted})")


def _columns() -> dict[str, list[str]]:
    conn = sqlite3.connect(":memory:")
    for name, cols in TABLES.items():
        conn.execute(f"CREATE TABLE [{name}] ({cols})")
    return {name: [row[1] for row in conn.execute(f"PRAGMA table_info([{name}])")] for name in TABLES}


COLUMNS: dict[str, list[str]] = _columns()
