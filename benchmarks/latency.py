"""Latency of the canned queries through a real Datasette server, over HTTP.

    python benchmarks/latency.py              # on the 1,000,000-event log of the replay benchmark
    python benchmarks/latency.py --quick      # on its 100,000-event log
    python benchmarks/latency.py --requests 200

The log comes from benchmarks/replay.py (generated once, cached in benchmarks/.data/);
its projections are replayed once into benchmarks/.data/latency-home-N/ and reused while
the log and the projectors' schema are unchanged. Then `observatory serve`'s own server
(DatasetteServer, configured by datasette-metadata.yml) runs on a free loopback port, and
every canned query is fetched as JSON (`?_shape=array`) twice over: as an analyst first opens
it (no parameters), and with realistic parameters taken from the data (the busiest community,
the most-seen player): warm-up requests first, then N sequential requests each. Printed: median and p95 per query, and the same for
`/-/versions.json` (Datasette's cheapest JSON page, no SQL) measured in the same run, so
the ratio shows what the SQL adds to Datasette's own overhead. Target: median <= 20 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # replay.py (its cached logs, its empty projection) and queries.py
TARGET_MS = 20.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def projection_home(data: Path, n: int) -> Path:
    """A home whose projections are the replay of the benchmark's n-event log (built once)."""
    import replay

    from observatory.eventlog import EventStore
    from observatory.project import all_projectors
    from observatory.project.rebuild import rebuild

    home = data / f"latency-home-{n}"
    db = home / "projections" / "observatory.db"
    stamp = home / "built-from"
    schema = schema_fingerprint()
    # The generator is deterministic (same name, same events), so a projection stamped with the
    # log's name and the current schema is still right, even if replay.py regenerated the log since.
    if db.exists() and stamp.exists() and stamp.read_text().split()[-1:] == [schema]:
        log(f"projections reused: {db} ({stamp.read_text().split()[0]})")
        return home
    log_path, how = replay.ensure_log(data, n)
    log(f"log {log_path.name}: {how}")
    ident = f"{log_path.name} {schema}"
    log(f"replaying {n:,} events into {db} (once) ...")
    db.parent.mkdir(parents=True, exist_ok=True)
    replay.remove_db(db)
    started = time.perf_counter()
    store = EventStore(log_path, readonly=True)
    try:
        done = 0

        def progress(k: int) -> None:
            nonlocal done
            done += k
            print(f"\r  {done:>10,}/{n:,} events", end="", file=sys.stderr, flush=True)

        rebuild(store, db, all_projectors(), progress=progress)
    finally:
        store.close()
    print(file=sys.stderr)
    log(f"  replayed in {time.perf_counter() - started:.0f}s")
    stamp.write_text(ident)
    return home


def schema_fingerprint() -> str:
    """Changes whenever a projector's tables change, so a stale projection is rebuilt."""
    import replay

    with tempfile.TemporaryDirectory() as tmp:
        conn = replay.fresh_projection(Path(tmp) / "schema.db")
        sql = "\n".join(s for (s,) in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"))
        conn.close()
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


def parameters(db: Path) -> dict[str, dict[str, str]]:
    """Realistic parameters for each canned query, read from the data."""
    from queries import busiest_community

    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)

    def one(sql: str) -> str:
        try:
            row = conn.execute(sql).fetchone()
        except sqlite3.OperationalError:
            return ""
        return "" if row is None or row[0] is None else str(row[0])

    community = busiest_community(conn)
    player = one(
        "SELECT player_id FROM (SELECT player_id FROM bear_scores UNION ALL SELECT player_id FROM contribution_snapshots "
        "UNION ALL SELECT player_id FROM roster_snapshots) GROUP BY player_id ORDER BY COUNT(*) DESC LIMIT 1"
    )
    conn.close()
    return {
        "hunt_leaderboard": {"community": community},
        "hunt_comparison": {"community": community},
        "player_history": {"player": player},
        "weekly_contribution": {"community": community},
        "no_shows": {"community": community},
        "review_queue_open": {"community": community},
        "corrections_audit": {},
        "screenshots_needing_attention": {"community": community},
    }


def fetch(url: str) -> tuple[float, int]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as resp:
        body = resp.read()
        status = resp.status
    if status != 200:
        raise SystemExit(f"{url}: HTTP {status}")
    return (time.perf_counter() - t) * 1000, len(body)


def measure(url: str, n: int, warmup: int = 3) -> dict[str, Any]:
    for _ in range(warmup):
        fetch(url)
    times, size = [], 0
    for _ in range(n):
        ms, size = fetch(url)
        times.append(ms)
    times.sort()
    return {"median": statistics.median(times), "p95": times[min(len(times) - 1, int(0.95 * len(times)))], "bytes": size}


def rows_of(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as resp:
        return len(json.load(resp))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="size of the log (default 1,000,000)")
    ap.add_argument("--quick", action="store_true", help="100,000 events")
    ap.add_argument("--requests", type=int, default=50, help="timed requests per query (default 50)")
    ap.add_argument("--data", type=Path, default=HERE / ".data", help="cache folder (default benchmarks/.data)")
    args = ap.parse_args(argv)
    n = 100_000 if args.quick else args.events
    args.data.mkdir(parents=True, exist_ok=True)
    home = projection_home(args.data, n)

    os.environ["OBSERVATORY_HOME"] = str(home)
    from observatory.serve import DatasetteServer
    from observatory.settings import load_settings

    sys.path.insert(0, str(ROOT / "tests"))
    from polling import free_port

    settings = load_settings()
    params = parameters(settings.projections_db)
    server = DatasetteServer(settings, "127.0.0.1", free_port(), quiet=True)
    server.start()
    results: dict[str, dict[str, Any]] = {}
    try:
        base = server.url.rstrip("/")
        log(f"measuring {args.requests} requests per query on {base} ...")
        baseline = measure(f"{base}/-/versions.json", args.requests)
        for name, p in params.items():
            # as an analyst first opens it (no parameters), and with realistic parameters
            for label, given in ((name, {}), (f"{name} (filtered)", p)):
                if label != name and not given:
                    continue
                url = f"{base}/observatory/{name}.json?" + urllib.parse.urlencode({**given, "_shape": "array"})
                results[label] = {**measure(url, args.requests), "rows": rows_of(url), "params": given}
                log(f"  {label}: {results[label]['median']:.1f} ms")
    finally:
        server.stop()

    print()
    print(f"Observatory canned-query latency  ({n:,}-event log, python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, {args.requests} sequential requests each)")
    print(f"  projections: {settings.projections_db} ({settings.projections_db.stat().st_size / 2**20:,.0f} MB)")
    print()
    print(f"  {'query':<42} {'median ms':>9} {'p95 ms':>8} {'x base':>7} {'rows':>6} {'KB':>7}  parameters")
    print(f"  {'/-/versions.json (baseline)':<42} {baseline['median']:>9.1f} {baseline['p95']:>8.1f} {1:>7.1f} "
          f"{'':>6} {baseline['bytes'] / 1024:>7.1f}")
    for name, r in results.items():
        ratio = r["median"] / baseline["median"]
        shown = ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "-"
        print(f"  {name:<42} {r['median']:>9.1f} {r['p95']:>8.1f} {ratio:>7.1f} {r['rows']:>6} {r['bytes'] / 1024:>7.1f}  {shown}")
    print()
    worst = max(results.items(), key=lambda kv: kv[1]["median"])
    ok = worst[1]["median"] <= TARGET_MS
    print(f"Target: every median <= {TARGET_MS:.0f} ms   slowest {worst[0]} {worst[1]['median']:.1f} ms   "
          f"{'OK' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
