"""The domain tables: what analysts ask about, derived from screenshots and corrections.

Primary keys are the uniqueness rules: one score per player per hunt, one
contribution per player per period, ... so a duplicate reading cannot become a
second row.
"""

from __future__ import annotations

import sqlite3

from ...games import PackError, field_spec, kinds, pack_of, ranking_table, shape_of

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
    "bear_hunts": """
        hunt_id TEXT PRIMARY KEY, community TEXT NOT NULL, trap_id INTEGER, started_at TEXT, time_source TEXT,
        rallies INTEGER, total_damage INTEGER, participants INTEGER, damage_sum INTEGER, screenshots INTEGER,
        screenshot_ids TEXT, note TEXT""",
    "bear_scores": """
        hunt_id TEXT NOT NULL, player_id TEXT NOT NULL, community TEXT NOT NULL, rank INTEGER, damage INTEGER,
        name TEXT, confidence REAL, screenshot_id TEXT, readings INTEGER, PRIMARY KEY (hunt_id, player_id)""",
    "contribution_snapshots": """
        community TEXT NOT NULL, period TEXT NOT NULL, period_start TEXT NOT NULL, player_id TEXT NOT NULL,
        name TEXT, rank INTEGER, contribution INTEGER, captured_at TEXT, confidence REAL, screenshot_id TEXT,
        readings INTEGER, PRIMARY KEY (community, period, period_start, player_id)""",
    "roster_snapshots": """
        snapshot_id TEXT NOT NULL, community TEXT NOT NULL, captured_at TEXT, player_id TEXT NOT NULL, name TEXT,
        tag TEXT, power INTEGER, power_text TEXT, furnace_text TEXT, furnace_level INTEGER, tier TEXT,
        confidence REAL, screenshot_id TEXT, PRIMARY KEY (snapshot_id, player_id)""",
    "alliance_power_snapshots": """
        snapshot_id TEXT NOT NULL, community TEXT NOT NULL, captured_at TEXT, rank INTEGER, tag TEXT,
        alliance TEXT NOT NULL, power INTEGER, screenshot_id TEXT, PRIMARY KEY (snapshot_id, alliance)""",
    "ac_signups": """
        community TEXT NOT NULL, week_start TEXT NOT NULL, lane TEXT NOT NULL, "order" INTEGER,
        player_id TEXT NOT NULL, name TEXT, power INTEGER, captured_at TEXT, confidence REAL, screenshot_id TEXT,
        PRIMARY KEY (community, week_start, lane, player_id)""",
    "foundry_events": """
        event_id TEXT PRIMARY KEY, community TEXT NOT NULL, legion INTEGER, week_start TEXT, started_at TEXT,
        result TEXT, our_alliance TEXT, our_score INTEGER, opponent TEXT, opponent_score INTEGER, joined INTEGER,
        capacity INTEGER, substitutes TEXT, troop_power INTEGER, screenshots INTEGER, screenshot_ids TEXT,
        note TEXT""",
    "foundry_signups": """
        event_id TEXT NOT NULL, player_id TEXT NOT NULL, community TEXT NOT NULL, name TEXT, power INTEGER,
        status TEXT, voted INTEGER, tier TEXT, confidence REAL, screenshot_id TEXT,
        PRIMARY KEY (event_id, player_id)""",
    "foundry_results": """
        event_id TEXT NOT NULL, player_id TEXT NOT NULL, community TEXT NOT NULL, name TEXT, rank INTEGER,
        points INTEGER, confidence REAL, screenshot_id TEXT, PRIMARY KEY (event_id, player_id)""",
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
INDEXES: list[tuple[str, tuple[str, ...]]] = [
    ("players", ("community", "display_name")),
    ("players", ("display_name",)),  # player_history by a name as shown, with or without its [TAG]
    ("player_aliases", ("player_id",)),
    ("player_aliases", ("name",)),  # player_history finds a player by a name as shown
    ("bear_hunts", ("community", "started_at")),
    ("bear_hunts", ("started_at",)),  # the latest hunts of all communities
    # covering a player's history (player_history): its rows come from the index, not one table page each
    ("bear_scores", ("player_id", "hunt_id", "damage", "rank", "name", "screenshot_id")),
    ("contribution_snapshots", ("player_id", "period_start", "period", "contribution", "rank", "captured_at", "name",
                                "screenshot_id")),
    ("contribution_snapshots", ("community", "period", "period_start", "rank")),
    ("roster_snapshots", ("player_id", "captured_at")),
    ("roster_snapshots", ("community", "captured_at")),
    ("alliance_power_snapshots", ("community", "captured_at")),
    ("ac_signups", ("player_id",)),
    ("ac_signups", ('"order"', "week_start")),  # no_shows: registrants without a battle order, newest first
    ("foundry_events", ("community", "week_start")),
    ("foundry_events", ("started_at",)),
    ("foundry_signups", ("player_id",)),
    ("foundry_results", ("player_id",)),
    ("rankings", ("community", "kind", "captured_at")),
    ("wars", ("community", "played_at")),
    ("war_scores", ("player_id", "war_id")),
    ("races", ("community", "captured_at")),
    ("race_results", ("player_id",)),
    *[(t, ("player_id",)) for t in RANKING_TABLES],
    ("review_queue", ("reason",)),
    ("review_queue", ("screenshot_id", "reason")),  # screenshots_needing_attention: rows flagged per screenshot
]
CORRECTIONS_DDL = """
    correction_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, recorded_at TEXT, actor TEXT, reason TEXT,
    kind TEXT NOT NULL, community TEXT, target TEXT, detail TEXT, status TEXT NOT NULL, reverted_by TEXT"""


def create(db, name: str, columns: str) -> None:  # type: ignore[no-untyped-def]
    db.execute(f"CREATE TABLE IF NOT EXISTS [{name}] ({columns})")


def setup(db) -> None:  # type: ignore[no-untyped-def]
    for name, columns in TABLES.items():
        create(db, name, columns)
    for table, cols in INDEXES:
        name = "_".join(col.strip('"') for col in cols)
        db.execute(f"CREATE INDEX IF NOT EXISTS [idx_{table}_{name}] ON [{table}] ({', '.join(cols)})")


def _columns() -> dict[str, list[str]]:
    conn = sqlite3.connect(":memory:")
    for name, cols in TABLES.items():
        conn.execute(f"CREATE TABLE [{name}] ({cols})")
    return {name: [row[1] for row in conn.execute(f"PRAGMA table_info([{name}])")] for name in TABLES}


COLUMNS: dict[str, list[str]] = _columns()
