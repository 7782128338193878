"""Append latency: the event log on PostgreSQL against SQLite, measured in the same run.

    .venv/bin/python benchmarks/append_latency.py [--singles 300] [--batches 30] [--url postgresql://…]

Appends real-shaped events (an ingest each, as `builders.ingested` makes them) through
`EventStore.append`, as the product does: batches of 1 (one transaction per event, what
a worker appending one result does) and batches of 100 (an ingest of a folder). Both
logs are durable: SQLite in WAL with synchronous=FULL, PostgreSQL with its default
fsync and synchronous_commit, on a server this script starts (initdb + pg_ctl on
127.0.0.1, as the tests do) unless `--url` names another (give an empty database).
Prints milliseconds per event (median and p95 of batches of 1, mean per event in
batches of 100) and each PostgreSQL figure as a ratio to SQLite's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from builders import ingested  # noqa: E402
from pg_server import OWNER, PgServer  # noqa: E402
from observatory.eventlog import EventStore, KeySource  # noqa: E402

KEY = KeySource(secret="b" * 32)


def measure(location: str | Path, singles: int, batches: int) -> dict[str, float]:
    store = EventStore(location, key=KEY)
    try:
        store.append([ingested(-1)])  # warm: schema, keying, connection
        one = []
        for i in range(singles):
            started = time.perf_counter()
            store.append([ingested(i)])
            one.append(time.perf_counter() - started)
        hundred = []
        for b in range(batches):
            batch = [ingested(100_000 + b * 100 + i) for i in range(100)]
            started = time.perf_counter()
            store.append(batch)
            hundred.append((time.perf_counter() - started) / 100)
        assert store.verify().ok
    finally:
        store.close()
    return {
        "batch of 1, median ms/event": statistics.median(one) * 1000,
        "batch of 1, p95 ms/event": statistics.quantiles(one, n=20)[18] * 1000,
        "batch of 100, ms/event": statistics.fmean(hundred) * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--singles", type=int, default=300)
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--url", help="an empty PostgreSQL database to use instead of starting a server")
    args = ap.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = measure(Path(tmp) / "events.db", args.singles, args.batches)
        server = None
        try:
            url = args.url
            if url is None:
                server = PgServer(durable=True).start()
                url = server.url(OWNER, server.new_database())
            pg = measure(url, args.singles, args.batches)
        finally:
            if server is not None:
                server.stop()
    print(f"append latency, {args.singles} single appends and {args.batches} batches of 100 each (load before: {load})")
    print(f"{'':32} {'SQLite':>9} {'PostgreSQL':>11} {'PG/SQLite':>10}")
    for name, base in sqlite.items():
        print(f"{name:32} {base:9.3f} {pg[name]:11.3f} {pg[name] / base:9.2f}x")


if __name__ == "__main__":
    main()
