"""Replay benchmark: how fast, and in how much memory, does a full rebuild run?

    python benchmarks/replay.py                 # 1,000,000 events (temporary log)
    python benchmarks/replay.py --quick         # 100,000 events
    python benchmarks/replay.py --keep          # keep/reuse logs under benchmarks/.data/
    python benchmarks/replay.py --keep DIR --events 500000

What it does, all measured in this run:
1. generates a realistic log (ScreenshotIngested / ScreenshotClassified / ScoresExtracted
   with ~10 rows each) through `EventStore.append`, in batches; progress on stderr;
   prefixes of 1/4 and 1/2 of the log are cut from it (same events, same hash chain);
2. times `rebuild()` with `all_projectors()` for each size, every one in a fresh child
   process (`--child replay`) so that peak RSS (ru_maxrss) is the replay's own;
3. times a raw `executemany` of exactly the tuples the replay produced (screenshots and
   extracted_rows, read back from the replayed file) in one transaction into a fresh file
   with the same schema, indexes and pragmas (`--child baseline`, tuples prebuilt in memory
   before the clock starts);
4. times appends: single `append_one` calls (one fsync'd commit each) and batches;
5. checks that incremental catch-up with odd batch sizes gives the same tables as a replay;
6. prints a table of the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / ".data"

COMMUNITIES = ("north-alliance", "the-bears", "K-1042", "lounge", "raid-team-b")
KINDS = ("bear_damage", "contribution", "alliance_members")
NAME_PARTS = ("Shadow", "Iron", "Wolf", "Blaze", "Kitty", "Storm", "Nova", "Zed", "Luna", "Rex",
              "Ghost", "Viper", "Maple", "Drako", "Pixel", "Frost", "Ember", "Sol", "Orca", "Jinx")
ROWS_PER_SCREENSHOT = 10
ENGINE, ENGINE_VERSION = "tesseract", "5.3.0+obs0.4"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def vmhwm_mb() -> float:
    """Peak RSS of this process image only (/proc VmHWM: not inherited across fork/exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# ---------------------------------------------------------------------------------------------
# generation
# ---------------------------------------------------------------------------------------------


def _rows(rng: random.Random, kind: str, n: int) -> list[dict[str, Any]]:
    names = [f"{rng.choice(NAME_PARTS)}{rng.choice(NAME_PARTS)}{rng.randint(1, 999)}" for _ in range(n)]
    if kind == "bear_damage":
        values = sorted((rng.randint(1_000_000, 900_000_000) for _ in range(n)), reverse=True)
        return [{"rank": i + 1, "name": names[i], "damage": values[i]} for i in range(n)]
    if kind == "contribution":
        values = sorted((rng.randint(1_000, 5_000_000) for _ in range(n)), reverse=True)
        return [{"rank": i + 1, "name": names[i], "contribution": values[i], "weekly": values[i] // 7}
                for i in range(n)]
    return [{"order": i + 1, "name": names[i], "power": rng.randint(100_000, 250_000_000),
             "level": rng.randint(10, 30), "role": rng.choice(("R1", "R2", "R3", "R4", "R5"))} for i in range(n)]


def screenshot_events(i: int, rng: random.Random) -> tuple[Any, Any, Any]:
    """The three Pending events of screenshot number i."""
    from observatory.eventlog import Pending, ScoresExtracted, ScreenshotClassified, ScreenshotIngested

    sha = hashlib.sha256(f"screenshot-{i}".encode()).hexdigest()
    community = COMMUNITIES[i % len(COMMUNITIES)]
    day = 1 + (i // 2000) % 28
    month = 1 + (i // 56000) % 12
    secs = i % 86400
    stamp = f"2025{month:02d}{day:02d}_{secs // 3600:02d}{secs // 60 % 60:02d}{secs % 60:02d}"
    file_name = f"Screenshot_{stamp}_{i}.png" if i % 3 else f"IMG_{i:07d}.jpg"
    captured = f"2025-{month:02d}-{day:02d}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}.000000+00:00"
    kind = KINDS[i % len(KINDS)]
    stream = f"screenshot:{sha}"
    n_rows = ROWS_PER_SCREENSHOT if i % 10 else rng.randint(8, 12)
    rows = _rows(rng, kind, n_rows)
    ingest = ScreenshotIngested(
        sha256=sha, community=community, original_path=f"{community}/{file_name}", file_name=file_name,
        byte_size=rng.randint(150_000, 3_500_000), format="PNG" if file_name.endswith(".png") else "JPEG",
        width=1080, height=rng.choice((2340, 2400, 1920)), captured_at=captured,
        captured_at_source="filename" if i % 3 else "exif", blob_path=f"blobs/{sha[:2]}/{sha}.png",
    )
    classify = ScreenshotClassified(
        sha256=sha, kind=kind, confidence=round(rng.uniform(0.8, 1.0), 3),
        evidence=[f"title:{kind}", "layout:ranked-list"], engine=ENGINE, engine_version=ENGINE_VERSION,
    )
    extract = ScoresExtracted(
        sha256=sha, kind=kind, meta={"page": 1 + i % 4, "title": kind.replace("_", " ").title()},
        rows=rows, row_confidence=[round(rng.uniform(0.6, 1.0), 3) for _ in rows],
        dropped_rows=[] if i % 7 else [{"raw": "?? 12,3?4", "reason": "unreadable number"}],
        warnings=[] if i % 11 else ["rank gap at row 4"], engine=ENGINE, engine_version=ENGINE_VERSION,
    )
    return (
        Pending(ingest, stream, idempotency_key=f"ingest:{sha}", actor="watcher", occurred_at=captured),
        Pending(classify, stream, idempotency_key=f"classify:{sha}:{ENGINE_VERSION}", actor="extractor",
                correlation_id=sha),
        Pending(extract, stream, idempotency_key=f"extract:{sha}:{ENGINE_VERSION}", actor="extractor",
                correlation_id=sha),
    )


def remove_db(path: Path) -> None:
    """Delete an SQLite file and its WAL companions."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def generate(path: Path, n_events: int, shots_per_batch: int = 1000) -> float:
    """Write a log of exactly n_events; returns seconds taken."""
    from observatory.eventlog import EventStore

    remove_db(path)
    tmp = path.with_name(path.name + ".partial")
    remove_db(tmp)
    rng = random.Random(20250101)
    started = time.perf_counter()
    written = 0
    i = 0
    with EventStore(tmp) as store:
        while written < n_events:
            batch_i, batch_c, batch_x = [], [], []
            for _ in range(shots_per_batch):
                a, b, c = screenshot_events(i, rng)
                i += 1
                batch_i.append(a)
                batch_c.append(b)
                batch_x.append(c)
            # the watcher ingests a folder, then the extractor classifies and extracts it
            batch = (batch_i + batch_c + batch_x)[: n_events - written]
            written += len(store.append(batch))
            el = time.perf_counter() - started
            print(f"\r  generating {path.name}: {written:>9,}/{n_events:,} events "
                  f"({written / el:,.0f}/s, {el:.0f}s)", end="", file=sys.stderr, flush=True)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(file=sys.stderr)
    os.replace(tmp, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    return time.perf_counter() - started


def log_size(path: Path) -> int:
    if not path.exists():
        return -1
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (n,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        (c,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
        return n if n == c else -1
    except sqlite3.Error:
        return -1
    finally:
        conn.close()


def cut_prefix(src: Path, dst: Path, n: int) -> None:
    """dst := the first n events of src (same rows, so the same hash chain)."""
    from observatory.eventlog import EventStore

    remove_db(dst)
    with EventStore(dst) as store:  # creates the schema
        store.conn.execute("PRAGMA synchronous=OFF")
        store.conn.execute("ATTACH DATABASE ? AS src", (str(src),))
        store.conn.execute("BEGIN")
        store.conn.execute("INSERT INTO main.events SELECT * FROM src.events WHERE seq <= ? ORDER BY seq", (n,))
        store.conn.execute("COMMIT")
        store.conn.execute("DETACH DATABASE src")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def ensure_log(data: Path, n: int, *, source: Path | None = None) -> tuple[Path, str]:
    path = data / f"replay-log-{n}.db"
    if log_size(path) == n:
        return path, "reused"
    if source is not None:
        t = time.perf_counter()
        log(f"  cutting {path.name} from {source.name}")
        cut_prefix(source, path, n)
        return path, f"cut from larger log in {time.perf_counter() - t:.1f}s"
    secs = generate(path, n)
    return path, f"generated in {secs:.1f}s ({n / secs:,.0f} events/s)"


# ---------------------------------------------------------------------------------------------
# child modes (fresh processes, so ru_maxrss is their own)
# ---------------------------------------------------------------------------------------------


def child_replay(log_path: Path, target: Path, batch_size: int | None) -> dict[str, Any]:
    from observatory.eventlog import EventStore
    from observatory.project import all_projectors
    from observatory.project.rebuild import rebuild

    rss_before = maxrss_mb()
    remove_db(target)
    store = EventStore(log_path, readonly=True)
    kwargs = {} if batch_size is None else {"batch_size": batch_size}
    t = time.perf_counter()
    cpu = time.process_time()
    n = rebuild(store, target, all_projectors(), **kwargs)
    secs = time.perf_counter() - t
    cpu = time.process_time() - cpu
    store.close()
    conn = sqlite3.connect(target)
    shots = conn.execute("SELECT COUNT(*) FROM screenshots").fetchone()[0]
    rows = conn.execute("SELECT COUNT(*) FROM extracted_rows").fetchone()[0]
    conn.close()
    return {"events": n, "seconds": secs, "cpu_seconds": cpu, "eps": n / secs, "maxrss_mb": maxrss_mb(),
            "vmhwm_mb": vmhwm_mb(),
            "rss_before_mb": rss_before, "screenshots": shots, "extracted_rows": rows,
            "db_mb": target.stat().st_size / 2**20}


def fresh_projection(path: Path) -> sqlite3.Connection:
    """An empty projections file with the real schema and indexes, opened as rebuild() opens its scratch file."""
    from observatory.project.framework import ensure_schema, open_db
    from observatory.project.screenshots import ScreenshotsProjector

    remove_db(path)
    db = open_db(path, fast=True)
    ensure_schema(db, [ScreenshotsProjector()])
    return db.conn


def child_baseline(projection: Path, scratch: Path) -> dict[str, Any]:
    """Raw executemany of the replay's own output tuples, same schema/indexes/pragmas, one transaction."""
    from observatory.project.rebuild import _drop_secondary_indexes, _recreate_indexes
    from observatory.project.screenshots import _INSERT_ROW, _INSERT_SCREENSHOT, ROW_FIELDS, SCREENSHOT_FIELDS

    src = sqlite3.connect(f"{projection.resolve().as_uri()}?mode=ro", uri=True)
    shots = src.execute(f"SELECT {', '.join(SCREENSHOT_FIELDS)} FROM screenshots ORDER BY rowid").fetchall()
    rows = src.execute(f"SELECT {', '.join(ROW_FIELDS)} FROM extracted_rows ORDER BY rowid").fetchall()
    src.close()
    conn = fresh_projection(scratch)
    t = time.perf_counter()
    cpu = time.process_time()
    conn.execute("BEGIN")
    conn.executemany(_INSERT_SCREENSHOT, shots)
    conn.executemany(_INSERT_ROW, rows)
    conn.execute("COMMIT")
    secs = time.perf_counter() - t
    cpu = time.process_time() - cpu
    t = time.perf_counter()
    conn.execute("ANALYZE")
    analyze = time.perf_counter() - t
    conn.close()
    # the same load with the secondary indexes built after it (what rebuild() does)
    conn = fresh_projection(scratch)
    idx = _drop_secondary_indexes(conn)
    t = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(_INSERT_SCREENSHOT, shots)
    conn.executemany(_INSERT_ROW, rows)
    conn.execute("COMMIT")
    _recreate_indexes(conn, idx)
    late = time.perf_counter() - t
    conn.close()
    n_shots, n_rows = len(shots), len(rows)
    del shots, rows
    remove_db(scratch)
    return {"seconds": secs, "cpu_seconds": cpu, "analyze_seconds": analyze, "late_index_seconds": late, "screenshots": n_shots, "extracted_rows": n_rows}


def child_append(store_dir: Path, singles: int, batches: int, batch_size: int) -> dict[str, Any]:
    from observatory.eventlog import EventStore

    path = store_dir / "append-bench.db"
    remove_db(path)
    rng = random.Random(7)
    i = 10_000_000
    out: dict[str, Any] = {}
    with EventStore(path) as store:
        pend = []
        for k in range(singles):
            pend.append(screenshot_events(i + k // 3, rng)[k % 3])
        t = time.perf_counter()
        for p in pend:
            store.append_one(p.event, p.stream_id, idempotency_key=p.idempotency_key, actor=p.actor,
                             correlation_id=p.correlation_id, occurred_at=p.occurred_at)
        secs = time.perf_counter() - t
        out["single"] = {"events": singles, "seconds": secs, "eps": singles / secs}
        i += singles
        prepared = []
        for b in range(batches):
            batch = []
            while len(batch) < batch_size:
                batch.extend(screenshot_events(i, rng))
                i += 1
            prepared.append(batch[:batch_size])
        t = time.perf_counter()
        n = 0
        for batch in prepared:
            n += len(store.append(batch))
        secs = time.perf_counter() - t
        out["batch"] = {"events": n, "batch_size": batch_size, "seconds": secs, "eps": n / secs}
    remove_db(path)
    return out


def _table_digest(conn: sqlite3.Connection, table: str, order: str) -> tuple[int, str]:
    h = hashlib.sha256()
    n = 0
    for row in conn.execute(f"SELECT * FROM {table} ORDER BY {order}"):
        h.update(repr(row).encode())
        n += 1
    return n, h.hexdigest()


def child_check(log_path: Path, work: Path) -> dict[str, Any]:
    """Incremental catch-up in odd batch sizes, and a rebuild with another page size, must equal a replay."""
    from observatory.eventlog import EventStore
    from observatory.project import all_projectors, catch_up, open_db
    from observatory.project.rebuild import rebuild

    store = EventStore(log_path, readonly=True)
    last = store.last_seq()
    ref = work / "check-ref.db"
    rebuild(store, ref, all_projectors())
    results = {}
    alt = work / "check-alt.db"
    rebuild(store, alt, all_projectors(), batch_size=777)
    inc = work / "check-inc.db"
    remove_db(inc)
    db = open_db(inc)
    projectors = all_projectors()
    rng = random.Random(3)
    done = 0
    while done < last:
        until = min(last, done + rng.randint(1, 4000))
        catch_up(store, db, projectors, batch_size=rng.choice((1, 2, 5, 64, 999, 5000)), until=until)
        done = until
    db.conn.close()
    variants = {"rebuild-batch-777": alt, "catch-up-steps": inc}
    tables = {"screenshots": "id", "extracted_rows": "screenshot_id, row_index", "rejected_files": "original_path"}
    schema_q = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name"

    def digest(path: Path) -> dict[str, Any]:
        c = sqlite3.connect(path)
        d: dict[str, Any] = {t: _table_digest(c, t, o) for t, o in tables.items()}
        d["schema"] = c.execute(schema_q).fetchall()
        c.close()
        return d

    ref_d = digest(ref)
    ok = True
    for name, path in variants.items():
        d = digest(path)
        same = d == ref_d
        ok &= same
        results[name] = same
    for p in (ref, alt, inc):
        remove_db(p)
    store.close()
    return {"events": last, "ok": ok, "variants": results,
            "rows": {t: ref_d[t][0] for t in tables}}


def run_child(*args: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="size of the largest log (default 1,000,000)")
    ap.add_argument("--quick", action="store_true", help="100,000 events: a fast check")
    ap.add_argument("--keep", nargs="?", const=str(DEFAULT_DATA), metavar="DIR",
                    help=f"keep/reuse generated logs in DIR (default {DEFAULT_DATA})")
    ap.add_argument("--batch-size", type=int, default=None, help="replay page size (default: rebuild()'s own)")
    ap.add_argument("--no-append", action="store_true", help="skip the append benchmark")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        mode, *rest = args.child
        if mode == "replay":
            res = child_replay(Path(rest[0]), Path(rest[1]), int(rest[2]) if rest[2] != "-" else None)
        elif mode == "baseline":
            res = child_baseline(Path(rest[0]), Path(rest[1]))
        elif mode == "append":
            res = child_append(Path(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]))
        elif mode == "prepare":
            data, wanted, top = Path(rest[0]), [int(x) for x in rest[1].split(",")], int(rest[2])
            biggest, how = ensure_log(data, top)
            logs = {top: (str(biggest), how)}
            for size in wanted:
                if size != top:
                    p, h = ensure_log(data, size, source=biggest)
                    logs[size] = (str(p), h)
            res = {"logs": logs}
        elif mode == "check":
            res = child_check(Path(rest[0]), Path(rest[1]))
        else:
            raise SystemExit(f"unknown child mode {mode}")
        print(json.dumps(res))
        return 0

    n = 100_000 if args.quick else args.events
    sizes = sorted({max(3, n // 4), max(3, n // 2), n})
    if args.keep:
        data = Path(args.keep)
        data.mkdir(parents=True, exist_ok=True)
        cleanup = False
    else:
        DEFAULT_DATA.mkdir(parents=True, exist_ok=True)
        data = Path(tempfile.mkdtemp(prefix="run-", dir=DEFAULT_DATA))
        cleanup = True
    try:
        return _run(args, n, sizes, data)
    finally:
        if cleanup:
            shutil.rmtree(data, ignore_errors=True)


def _run(args: argparse.Namespace, n: int, sizes: list[int], data: Path) -> int:
    log(f"logs in {data}")
    # Generation runs in a child too: this parent stays small (it never imports observatory),
    # because on Linux a child's ru_maxrss starts from its parent's RSS at fork/exec time.
    check_n = min(n, 30_000)
    prepared = run_child("prepare", str(data), ",".join(str(s) for s in sorted({*sizes, check_n})), str(n))
    logs = {int(s): (Path(p), how) for s, (p, how) in prepared["logs"].items()}
    log_mb = {s: sum(Path(f"{p}{x}").stat().st_size for x in ("", "-wal") if Path(f"{p}{x}").exists()) / 2**20
              for s, (p, _) in logs.items()}

    bs = "-" if args.batch_size is None else str(args.batch_size)
    replays: dict[int, dict[str, Any]] = {}
    for s in sizes:
        log(f"  replaying {s:,} events in a fresh process ...")
        replays[s] = run_child("replay", str(logs[s][0]), str(data / f"projection-{s}.db"), bs)
        r = replays[s]
        log(f"    {r['seconds']:.2f}s, {r['eps']:,.0f} events/s, peak RSS {r['maxrss_mb']:.0f} MB")

    log(f"  raw executemany baseline for {n:,} events' output ...")
    base = run_child("baseline", str(data / f"projection-{n}.db"), str(data / "baseline-scratch.db"))
    log(f"    {base['seconds']:.2f}s")

    log(f"  correctness: catch-up in random batch sizes vs full replay on {check_n:,} events ...")
    check_log = logs[check_n][0]
    check = run_child("check", str(check_log), str(data))

    app = None
    if not args.no_append:
        log("  append throughput ...")
        app = run_child("append", str(data), "2000", "20", "1000")

    for s in sizes:
        remove_db(data / f'projection-{s}.db')

    # ---- report -------------------------------------------------------------------------
    big = replays[n]
    ratio = big["seconds"] / base["seconds"]
    print()
    print(f"Observatory replay benchmark  (python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs)")
    print()
    print("Logs")
    for s in sizes:
        print(f"  {s:>10,} events  {log_mb[s]:8.1f} MB  {logs[s][1]}")
    print()
    print("Full replay: rebuild(store, target, all_projectors()), each in a fresh process")
    print("  peak RSS = ru_maxrss of the child; VmHWM = the same peak from /proc (never inherited); "
          "at start = ru_maxrss after imports")
    print(f"  {'events':>10}  {'seconds':>8}  {'cpu s':>7}  {'events/s':>10}  {'peak RSS':>9}  {'VmHWM':>7}  "
          f"{'at start':>8}  {'screenshots':>11}  {'rows':>10}  {'db MB':>6}")
    for s in sizes:
        r = replays[s]
        print(f"  {r['events']:>10,}  {r['seconds']:>8.2f}  {r['cpu_seconds']:>7.2f}  {r['eps']:>10,.0f}  "
              f"{r['maxrss_mb']:>6.0f} MB  {r['vmhwm_mb']:>4.0f} MB  {r['rss_before_mb']:>5.0f} MB  "
              f"{r['screenshots']:>11,}  {r['extracted_rows']:>10,}  {r['db_mb']:>6.0f}")
    print()
    print(f"Raw executemany baseline ({base['screenshots']:,} screenshots + {base['extracted_rows']:,} extracted_rows "
          f"tuples, prebuilt; same schema, indexes, pragmas; one transaction)")
    print(f"  inserts + commit      {base['seconds']:8.2f} s   ({n / base['seconds']:,.0f} events-equivalent/s; "
          f"cpu {base['cpu_seconds']:.2f} s)")
    print(f"  + ANALYZE             {base['seconds'] + base['analyze_seconds']:8.2f} s   "
          f"(rebuild() also runs ANALYZE)")
    print(f"  variant: secondary indexes built after the load (as rebuild() does)   {base['late_index_seconds']:8.2f} s")
    print()
    print(f"Correctness: {check['events']:,} events, random catch-up steps and batch sizes and a rebuild with "
          f"batch_size=777 vs rebuild(): {'IDENTICAL' if check['ok'] else 'DIFFERENT ' + str(check['variants'])}")
    if app:
        print()
        print("Append throughput (fresh log, synchronous=FULL: one fsync'd commit per append call)")
        a, b = app["single"], app["batch"]
        print(f"  append_one x {a['events']:,}          {a['seconds']:7.2f} s  {a['eps']:>10,.0f} events/s")
        print(f"  append, {app['batch']['events'] // b['batch_size']} batches of {b['batch_size']:,}   "
              f"{b['seconds']:7.2f} s  {b['eps']:>10,.0f} events/s")
    print()
    peak = max(r["maxrss_mb"] for r in replays.values())
    flat = max(r["maxrss_mb"] for r in replays.values()) - min(r["maxrss_mb"] for r in replays.values())
    per_size = ", ".join(f"{s:,}: {replays[s]['maxrss_mb']:.0f} MB" for s in sizes)
    print("Targets")
    print(f"  replay >= 150,000 events/s   {big['eps']:>10,.0f}      {'OK' if big['eps'] >= 150_000 else 'MISSED'}")
    print(f"  ratio vs executemany <= 2x   {ratio:>10.2f}x     {'OK' if ratio <= 2 else 'MISSED'}"
          f"   (vs inserts+ANALYZE: {big['seconds'] / (base['seconds'] + base['analyze_seconds']):.2f}x; "
          f"vs load-then-index: {big['seconds'] / base['late_index_seconds']:.2f}x)")
    print(f"  (ratio by CPU time, less sensitive to other load on the machine: "
          f"{big['cpu_seconds'] / base['cpu_seconds']:.2f}x)")
    print(f"  peak RSS < 300 MB            {peak:>7.0f} MB     {'OK' if peak < 300 else 'MISSED'}")
    print(f"  RSS flat across sizes        spread {flat:.0f} MB "
          f"({per_size})")
    return 0 if check["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
