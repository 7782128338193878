"""WAL benchmark: how big does the projections' WAL get while readers never stop and replays run?

    python benchmarks/wal.py                        # 30,000 events, 20 readers, before and after
    python benchmarks/wal.py --events 200000 --readers 20 --replays 4 --catch-ups 4
    python benchmarks/wal.py --only after           # just the shipped behaviour

What it does, all in this run, once per mode in a fresh child process:
1. cuts a prefix of the replay benchmark's realistic log (generated, or reused from
   benchmarks/.data/) and replays it into a fresh projections file;
2. starts N reader threads in another process, each on its own read-only connection (as
   Datasette opens the file), running the canned queries of `datasette-metadata.yml`
   (benchmarks/queries.py) without pause;
3. runs full replays (`rebuild`, published over the live file) and incremental catch-ups of
   the rest of the log, interleaved, while a thread samples the WAL's size every 10 ms;
4. prints the peak WAL, the WAL after each publish and catch-up, the database size and the
   ratio peak WAL / database, and how many queries the readers answered (and any errors).

Modes: `before` turns the WAL bounds off inside its child (writers without journal_size_limit
or autocheckpoint setting, a PASSIVE checkpoint after publish, no truncation after catch-up:
what shipped before), `after` is the code as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import queries as canned_queries  # noqa: E402
import replay as replay_bench  # noqa: E402

MB = 1024 * 1024


def wal_bytes(db: Path) -> int:
    try:
        return os.stat(f"{db}-wal").st_size
    except FileNotFoundError:
        return 0


def disable_the_fix() -> None:
    """The behaviour before the fix, for the baseline: passive checkpoints only, no size limits."""
    import observatory.project.framework as framework
    import observatory.project.rebuild as rebuild

    def passive(conn: sqlite3.Connection, wait: float = 0.0) -> bool:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return True

    framework.bound_wal = rebuild.bound_wal = lambda conn: None  # type: ignore[assignment]
    rebuild.truncate_wal = passive  # type: ignore[assignment]
    framework._shrink_wal = lambda conn: None  # type: ignore[assignment]


# --- the readers' process ---------------------------------------------------------------------------


def child_readers(db: Path, n: int, stop_file: Path, out: Path) -> None:
    sqls, max_rows = canned_queries.canned()
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    params = {name: [canned_queries._complete(sqls[name], p) for p in pick(conn)] or [canned_queries._complete(sqls[name], {})]
              for name, (_, pick) in canned_queries.QUERIES.items()}
    conn.close()
    counts = [0] * n
    errors: list[str] = []

    def loop(i: int) -> None:
        rng = random.Random(i)
        c = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        while not stop_file.exists():
            name = rng.choice(list(params))
            try:
                c.execute(sqls[name], rng.choice(params[name])).fetchmany(max_rows + 1)
                counts[i] += 1
            except sqlite3.Error as exc:
                errors.append(f"{name}: {exc}")
        c.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.write_text(json.dumps({"queries": sum(counts), "errors": errors[:5], "error_count": len(errors)}))


# --- one mode ----------------------------------------------------------------------------------------


def extend_log(log_path: Path, source: Path, upto: int) -> None:
    """Append the source log's events up to `upto` (the very same rows, so the same hash chain)."""
    conn = sqlite3.connect(log_path, timeout=30)
    conn.execute("ATTACH DATABASE ? AS src", (str(source),))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO main.events SELECT * FROM src.events WHERE seq > (SELECT MAX(seq) FROM main.events) "
                 "AND seq <= ? ORDER BY seq", (upto,))
    conn.execute("COMMIT")
    conn.close()


def child_mode(mode: str, source: Path, events: int, readers: int, replays: int, catch_ups: int, work: Path) -> dict[str, Any]:
    if mode == "before":
        disable_the_fix()
    from observatory.eventlog import EventStore
    from observatory.project import all_projectors, catch_up, open_db
    from observatory.project.rebuild import rebuild

    chunk = max(1, events // 20)  # each catch-up applies 5% of the log
    first = events - chunk * catch_ups
    log_path, target = work / "events.db", work / "observatory.db"
    replay_bench.cut_prefix(source, log_path, first)
    store = EventStore(log_path)
    rebuild(store, target, all_projectors())

    peak = [0]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], wal_bytes(target))
            time.sleep(0.01)

    stop_file, out = work / "stop", work / "readers.json"
    proc = subprocess.Popen([sys.executable, __file__, "--child-readers", str(target), str(readers), str(stop_file), str(out)])
    sampler = threading.Thread(target=sample)
    sampler.start()
    steps: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        time.sleep(1.0)  # the readers are reading
        upto = first
        for step in range(max(replays, catch_ups)):
            if step < replays:
                t = time.perf_counter()
                rebuild(store, target, all_projectors())
                steps.append({"step": "replay", "seconds": time.perf_counter() - t, "wal_after": wal_bytes(target)})
            if step < catch_ups:
                upto += chunk
                extend_log(log_path, source, upto)
                t = time.perf_counter()
                db = open_db(target)
                catch_up(store, db, all_projectors())
                db.conn.close()
                steps.append({"step": "catch-up", "seconds": time.perf_counter() - t, "wal_after": wal_bytes(target)})
    finally:
        stop_file.touch()
        proc.wait()
        sampling.set()
        sampler.join()
        store.close()
    read = json.loads(out.read_text())
    return {"mode": mode, "db_bytes": target.stat().st_size, "peak_wal_bytes": peak[0], "steps": steps,
            "seconds": time.perf_counter() - started, "readers": readers, **read}


def run_mode(mode: str, source: Path, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"wal-bench-{mode}-") as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run([sys.executable, __file__, "--child-mode", mode, str(source), str(args.events), str(args.readers),
                        str(args.replays), str(args.catch_ups), tmp, str(out)], check=True)
        return json.loads(out.read_text())


def report(results: list[dict[str, Any]]) -> str:
    lines = [f"{'mode':<7} {'readers':>7} {'queries':>8} {'errors':>6} {'DB MB':>7} {'peak WAL MB':>11} "
             f"{'peak/DB':>7}  WAL MB after each step"]
    for r in results:
        after = " ".join(f"{s['step'][0]}:{s['wal_after'] / MB:.1f}" for s in r["steps"])
        lines.append(f"{r['mode']:<7} {r['readers']:>7} {r['queries']:>8} {r['error_count']:>6} {r['db_bytes'] / MB:>7.1f} "
                     f"{r['peak_wal_bytes'] / MB:>11.1f} {r['peak_wal_bytes'] / r['db_bytes']:>7.2f}  {after}")
    lines.append("(r: after a replay's publish, c: after a catch-up)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child-readers"]:
        child_readers(Path(argv[1]), int(argv[2]), Path(argv[3]), Path(argv[4]))
        return 0
    if argv[:1] == ["--child-mode"]:
        mode, source, events, readers, replays, catch_ups, work, out = argv[1:]
        result = child_mode(mode, Path(source), int(events), int(readers), int(replays), int(catch_ups), Path(work))
        Path(out).write_text(json.dumps(result))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=30_000, help="log size (the last 5%% per catch-up come in by catch-up)")
    ap.add_argument("--readers", type=int, default=20, help="reader threads querying without pause")
    ap.add_argument("--replays", type=int, default=3)
    ap.add_argument("--catch-ups", type=int, default=3)
    ap.add_argument("--only", choices=("before", "after"), help="run one mode only")
    ap.add_argument("--data", type=Path, default=replay_bench.DEFAULT_DATA, help="where generated logs are kept")
    args = ap.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    source, how = replay_bench.ensure_log(args.data, args.events)
    print(f"log: {source.name} ({how})", file=sys.stderr)
    results = [run_mode(m, source, args) for m in ((args.only,) if args.only else ("before", "after"))]
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
