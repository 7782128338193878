"""The five analyst queries of issue 5, timed on a replayed projection with plain sqlite3.

    python benchmarks/queries.py PROJECTION.db [--runs 50]

Each query is the SQL an analyst (or a Datasette page) runs; its parameters are picked
from the database itself (the biggest community, its newest hunts and weeks, its most
seen players) and rotate between runs, so no single cached answer flatters the figure.
Medians and p95 over `runs` after a warm-up; the target is 20 ms each.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_MS = 20.0
WARMUP = 5


@dataclass(frozen=True)
class Query:
    name: str
    what: str
    sql: str
    params: Callable[[sqlite3.Connection], list[dict[str, Any]]]


def _community(conn: sqlite3.Connection) -> str:
    """The community with the most screenshots: the heaviest case."""
    return conn.execute("SELECT community FROM communities ORDER BY screenshots DESC, community LIMIT 1").fetchone()[0]


def _hunts(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT hunt_id FROM bear_hunts WHERE community = ? ORDER BY started_at DESC LIMIT 5",
                        [_community(conn)]).fetchall()
    return [{"hunt_id": h} for (h,) in rows]


def _players(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT player_id FROM players WHERE community = ? ORDER BY sightings DESC, player_id LIMIT 5",
                        [_community(conn)]).fetchall()
    return [{"player_id": p} for (p,) in rows]


def _weeks(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    c = _community(conn)
    rows = conn.execute("SELECT DISTINCT period_start FROM contribution_snapshots WHERE community = ? AND "
                        "period = 'weekly' ORDER BY period_start DESC LIMIT 5", [c]).fetchall()
    return [{"community": c, "week": w} for (w,) in rows]


def _traps(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    c = _community(conn)
    (last,) = conn.execute("SELECT MAX(started_at) FROM bear_hunts WHERE community = ?", [c]).fetchone()
    (since,) = conn.execute("SELECT datetime(?, '-365 days')", [last]).fetchone()
    return [{"community": c, "trap": t, "since": since.replace(" ", "T")} for t in (1, 2)]


def _communities(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT community FROM review_queue GROUP BY community ORDER BY COUNT(*) DESC LIMIT 3")
    return [{"community": c} for (c,) in rows]


QUERIES = (
    Query("hunt_leaderboard", "one hunt's ranking, names, share of the damage", """
        SELECT s.rank, s.player_id, COALESCE(p.display_name, s.name) AS player, s.damage, s.readings, s.confidence,
               ROUND(100.0 * s.damage / h.damage_sum, 2) AS share_pct
        FROM bear_scores s
        JOIN bear_hunts h ON h.hunt_id = s.hunt_id
        LEFT JOIN players p ON p.player_id = s.player_id
        WHERE s.hunt_id = :hunt_id
        ORDER BY s.damage DESC""", _hunts),
    Query("player_history", "a player's hunts, contributions and roster entries over time", """
        SELECT 'bear' AS source, h.started_at AS at, 'trap ' || h.trap_id AS what, s.damage AS value, s.rank AS rank
          FROM bear_scores s JOIN bear_hunts h ON h.hunt_id = s.hunt_id WHERE s.player_id = :player_id
        UNION ALL
        SELECT 'contribution', c.captured_at, c.period || ' ' || c.period_start, c.contribution, c.rank
          FROM contribution_snapshots c WHERE c.player_id = :player_id
        UNION ALL
        SELECT 'roster', r.captured_at, r.tier, r.power, NULL
          FROM roster_snapshots r WHERE r.player_id = :player_id
        ORDER BY at DESC""", _players),
    Query("weekly_contribution", "a week's contribution ranking with the change against the week before", """
        SELECT cur.rank, cur.player_id, COALESCE(p.display_name, cur.name) AS player, cur.contribution,
               prev.contribution AS previous, cur.contribution - prev.contribution AS change, prev.rank AS previous_rank
        FROM contribution_snapshots cur
        LEFT JOIN contribution_snapshots prev
          ON prev.community = cur.community AND prev.period = 'weekly'
         AND prev.period_start = date(cur.period_start, '-7 days') AND prev.player_id = cur.player_id
        LEFT JOIN players p ON p.player_id = cur.player_id
        WHERE cur.community = :community AND cur.period = 'weekly' AND cur.period_start = :week
        ORDER BY cur.contribution DESC""", _weeks),
    Query("hunt_comparison", "a year of one trap's hunts: turnout, damage, change, top player", """
        SELECT h.hunt_id, h.started_at, h.participants, h.damage_sum, h.total_damage, h.rallies,
               h.damage_sum - LAG(h.damage_sum) OVER (ORDER BY h.started_at) AS change_vs_previous,
               (SELECT COALESCE(p.display_name, s.name) FROM bear_scores s LEFT JOIN players p
                  ON p.player_id = s.player_id WHERE s.hunt_id = h.hunt_id ORDER BY s.damage DESC LIMIT 1) AS top_player
        FROM bear_hunts h
        WHERE h.community = :community AND h.trap_id = :trap AND h.started_at >= :since
        ORDER BY h.started_at""", _traps),
    Query("review_queue", "a community's first page of items to review, with the screenshot to open", """
        SELECT q.reason, q.subject, q.detail, q.confidence, q.player_id, q.screenshot_id, s.file_name, s.captured_at
        FROM review_queue q LEFT JOIN screenshots s ON s.id = q.screenshot_id
        WHERE q.community = :community
        ORDER BY q.reason, q.confidence IS NULL, q.confidence, q.subject
        LIMIT 100""", _communities),
)


def _plan(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[str]:
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def measure(path: Path, runs: int = 50) -> dict[str, Any]:
    """Median and p95 milliseconds of each query, opened read-only as Datasette opens it."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    out = []
    for q in QUERIES:
        params = q.params(conn)
        if not params:
            raise SystemExit(f"{q.name}: the database has nothing to pick parameters from")
        for i in range(WARMUP):
            conn.execute(q.sql, params[i % len(params)]).fetchall()
        times, sizes = [], []
        for i in range(runs):
            p = params[i % len(params)]
            t = time.perf_counter()
            rows = conn.execute(q.sql, p).fetchall()
            times.append((time.perf_counter() - t) * 1000)
            sizes.append(len(rows))
        times.sort()
        out.append({"name": q.name, "what": q.what, "median_ms": statistics.median(times),
                    "p95_ms": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
                    "rows": statistics.median(sizes), "params": params[0], "plan": _plan(conn, q.sql, params[0])})
    conn.close()
    return {"runs": runs, "queries": out}


def table(result: dict[str, Any]) -> str:
    lines = [f"Analyst queries (plain sqlite3, read-only, median and p95 of {result['runs']} runs after "
             f"{WARMUP} warm-up, parameters rotating)",
             f"  {'query':<20}  {'median':>9}  {'p95':>9}  {'rows':>6}  target {TARGET_MS:.0f} ms"]
    for q in result["queries"]:
        ok = "OK" if q["median_ms"] <= TARGET_MS else "MISSED"
        lines.append(f"  {q['name']:<20}  {q['median_ms']:>6.2f} ms  {q['p95_ms']:>6.2f} ms  {q['rows']:>6.0f}  {ok:<6}  "
                     f"{q['what']}")
        scans = [step for step in q["plan"] if step.startswith("SCAN") or "TEMP B-TREE" in step]
        if scans:
            lines.append(f"  {'':<20}  plan: {'; '.join(scans)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("projection", type=Path, help="a projections database (e.g. projections/observatory.db)")
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args(argv)
    if not args.projection.exists():
        raise SystemExit(f"no database at {args.projection}")
    print(table(measure(args.projection, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
