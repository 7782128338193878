"""The five most important analyst queries of issue 5, timed on a replayed projection with plain sqlite3.

    python benchmarks/queries.py PROJECTION.db [--runs 50]

The SQL is the product's own: the canned queries analysts open in Datasette
(`datasette-metadata.yml` and the game packs' own), read from there so the benchmark times what ships.
Parameters are picked from the database itself (the biggest community, its newest
hunts and weeks, its most seen players) and rotate between runs, so no single cached
answer flatters the figure; parameters a query leaves out are '' as Datasette sends them,
and at most `max_returned_rows` + 1 rows are fetched, as Datasette does. Medians and p95
over `runs` after a warm-up; the target is 20 ms each.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from observatory.serve.pack_metadata import with_packs

METADATA = Path(__file__).resolve().parent.parent / "datasette-metadata.yml"
TARGET_MS = 20.0
WARMUP = 5
Params = Callable[[sqlite3.Connection], list[dict[str, Any]]]


def busiest_community(conn: sqlite3.Connection) -> str:
    """The community with the most screenshots: the heaviest case."""
    return conn.execute("SELECT community FROM communities ORDER BY screenshots DESC, community LIMIT 1").fetchone()[0]


def _hunts(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT hunt_id FROM bear_hunts WHERE community = ? ORDER BY started_at DESC LIMIT 5",
                        [busiest_community(conn)]).fetchall()
    return [{"hunt_id": h} for (h,) in rows]


def _players(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT player_id FROM players WHERE community = ? ORDER BY sightings DESC, player_id LIMIT 5",
                        [busiest_community(conn)]).fetchall()
    return [{"player": p} for (p,) in rows]


def _weeks(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    c = busiest_community(conn)
    rows = conn.execute("SELECT DISTINCT period_start FROM contribution_snapshots WHERE community = ? AND "
                        "period = 'weekly' ORDER BY period_start DESC LIMIT 5", [c]).fetchall()
    return [{"community": c, "week": w} for (w,) in rows]


def _communities(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT community FROM screenshots GROUP BY community ORDER BY COUNT(*) DESC LIMIT 3")
    return [{"community": c} for (c,) in rows]


# canned query -> what an analyst asks with it, and where its parameters come from
QUERIES: dict[str, tuple[str, Params]] = {
    "hunt_leaderboard": ("one hunt's ranking with each player's share", _hunts),
    "player_history": ("everything about one player, newest first", _players),
    "weekly_contribution": ("a week's ranking with the change against the week before", _weeks),
    "hunt_comparison": ("a community's hunts over time, change against the previous", _communities),
    "review_queue_open": ("a community's review queue, first page", _communities),
}


def canned() -> tuple[dict[str, str], int]:
    """The SQL of each canned query, and Datasette's max_returned_rows."""
    meta = with_packs(yaml.safe_load(METADATA.read_text(encoding="utf-8")), "observatory")  # as Datasette gets it
    queries = meta["databases"]["observatory"]["queries"]
    missing = [name for name in QUERIES if name not in queries]
    if missing:
        raise SystemExit(f"{METADATA.name} has no canned queries {missing}: update benchmarks/queries.py")
    return {name: queries[name]["sql"] for name in QUERIES}, int(meta["settings"]["max_returned_rows"])


def _complete(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every named parameter of the SQL: the ones not chosen are '' (what Datasette sends for an empty field)."""
    return {name: params.get(name, "") for name in dict.fromkeys(re.findall(r"(?<!:):(\w+)", sql))}


def _plan(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[str]:
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def measure(path: Path, runs: int = 50) -> dict[str, Any]:
    """Median and p95 milliseconds of each query, opened read-only as Datasette opens it."""
    sqls, max_rows = canned()
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    out = []
    for name, (what, pick) in QUERIES.items():
        sql = sqls[name]
        params = [_complete(sql, p) for p in pick(conn)]
        if not params:
            raise SystemExit(f"{name}: the database has nothing to pick parameters from")

        def run(p: dict[str, Any]) -> int:
            return len(conn.execute(sql, p).fetchmany(max_rows + 1))

        for i in range(WARMUP):
            run(params[i % len(params)])
        times, sizes = [], []
        for i in range(runs):
            t = time.perf_counter()
            sizes.append(run(params[i % len(params)]))
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out.append({"name": name, "what": what, "median_ms": statistics.median(times),
                    "p95_ms": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
                    "rows": statistics.median(sizes), "params": params[0], "plan": _plan(conn, sql, params[0])})
    conn.close()
    return {"runs": runs, "queries": out}


def table(result: dict[str, Any]) -> str:
    lines = [f"Analyst queries: the canned queries of {METADATA.name} (plain sqlite3, read-only, median and p95 "
             f"of {result['runs']} runs after {WARMUP} warm-up, parameters rotating)",
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
