"""Scale-out benchmark: screenshots per second with 1 and 2 `observatory worker` processes, and projection lag.

    .venv/bin/python benchmarks/scale_out.py [--images 16] [--workers 1,2] [--runs 1] [--backends sqlite,postgresql]

For each backend of the log (SQLite in the home; PostgreSQL on a durable server this
script starts with initdb + pg_ctl on 127.0.0.1, a fresh database per run), each run
makes a fresh home, ingests `--images` real
sample screenshots with `observatory ingest --no-process`, starts an ingesting/serving
node (`observatory watch` with OBSERVATORY_LOCAL_OCR=false) and K workers
(`observatory worker --concurrency 1 --once`, one OCR process each) at once, and waits
for every result. Figures per K:
- wall: from starting the workers to the last result (process start-up and model loading included);
- warm rate: screenshots/s between the K-th result and the last (every worker busy, none starting);
- ratio: warm rate against the 1-worker run of the same invocation;
- lag: seconds from a result's append (its recorded_at) to its row showing `extracted` in the
  node's projection (median, p95, max), i.e. how far the serving node trails the workers;
- CPU: the workers' CPU seconds per screenshot (their OCR processes included) and the node's
  CPU seconds over the run: with the same CPU per screenshot at 1 and 2 workers, a ratio
  short of 2 is cores taken by other processes, not the workers getting in each other's way.
Prints measured figures only, with the load average before and after: other processes
on the machine take CPU from the workers, so read the ratio with the load beside it.
Ratios are against the 1-worker figure of the same backend in the same invocation.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples" / "wos"
sys.path.insert(0, str(REPO))

from observatory.eventlog import open_log  # noqa: E402
from observatory.settings import load_settings  # noqa: E402

RESULTS = ("ScoresExtracted", "ExtractionFailed")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def results(home: Path, env: dict[str, str]) -> list[tuple[str, float]]:
    """(screenshot id, append time) of every result in the home's log, in log order, through the product's store."""
    settings = load_settings(home=home, database_url=env.get("OBSERVATORY_DATABASE_URL"))
    store = open_log(settings, readonly=True)
    try:
        return [(e.payload["sha256"], datetime.fromisoformat(e.recorded_at).timestamp())
                for e in store.read(types=RESULTS)]
    finally:
        store.close()


def extracted_in_projection(db: Path) -> set[str]:
    if not db.exists():
        return set()
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5) as conn:
            return {r[0] for r in conn.execute("SELECT id FROM screenshots WHERE status IN ('extracted', 'failed')")}
    except sqlite3.Error:
        return set()


def reap(proc: subprocess.Popen, cpu: dict[int, float], *, block: bool = False) -> bool:
    """Whether `proc` has exited; when it has, its CPU seconds (its OCR processes', which it waited for, included)."""
    if proc.returncode is not None:
        return True
    pid, status, usage = os.wait4(proc.pid, 0 if block else os.WNOHANG)
    if pid == 0:
        return False
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu[proc.pid] = usage.ru_utime + usage.ru_stime
    return True


def one_run(images: list[Path], k: int, env: dict[str, str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="obs-scale-") as tmp:
        home = Path(tmp)
        run_env = {**env, "OBSERVATORY_HOME": str(home), "OBSERVATORY_LOCAL_OCR": "false", "OBSERVATORY_LOG_LEVEL": "WARNING"}
        done = subprocess.run([sys.executable, "-m", "observatory", "ingest", "--no-process", "--community", "BENCH",
                               *map(str, images)], env=run_env, cwd=home, capture_output=True, text=True)
        if done.returncode != 0 or f"Ingested {len(images)}," not in done.stdout:
            raise SystemExit(f"ingest failed: {done.stdout[-500:]} {done.stderr[-1500:]}")
        procs: list[subprocess.Popen] = []
        cpu: dict[int, float] = {}
        logs = open(home / "procs.log", "w")
        try:
            node = subprocess.Popen([sys.executable, "-m", "observatory", "watch"], env=run_env, cwd=home,
                                    stdout=subprocess.DEVNULL, stderr=logs, start_new_session=True)
            procs.append(node)
            projection = home / "projections" / "observatory.db"  # made by the ingest above
            started = time.time()
            for _ in range(k):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "observatory", "worker", "--concurrency", "1", "--once"], env=run_env,
                    cwd=home, stdout=subprocess.DEVNULL, stderr=logs, start_new_session=True))
            seen: dict[str, float] = {}
            deadline = time.monotonic() + 1800
            while len(seen) < len(images):
                if time.monotonic() > deadline or all([reap(p, cpu) for p in procs[1:]]) and \
                        len(results(home, run_env)) < len(images):
                    raise SystemExit(f"workers stopped or timed out before every result; see {home}/procs.log")
                now = time.time()
                for sha in extracted_in_projection(projection) - seen.keys():
                    seen[sha] = now
                time.sleep(0.05)
            for p in procs[1:]:
                reap(p, cpu, block=True)
            found = results(home, run_env)
        finally:
            for p in procs:
                if p.returncode is None:
                    os.killpg(p.pid, signal.SIGTERM)
                    deadline = time.monotonic() + 60
                    while not reap(p, cpu) and time.monotonic() < deadline:
                        time.sleep(0.05)
                    if p.returncode is None:
                        os.killpg(p.pid, signal.SIGKILL)
                        reap(p, cpu, block=True)
            logs.close()
        if len(found) != len(images) or len({sha for sha, _ in found}) != len(images):
            raise SystemExit(f"expected one result per screenshot, got {len(found)} for {len(images)}")
        times = sorted(t for _, t in found)
        lags = sorted(seen[sha] - t for sha, t in found if sha in seen)
        return {
            "wall": times[-1] - started,
            "warm_rate": (len(times) - k) / (times[-1] - times[k - 1]) if len(times) > k else float("nan"),
            "lag_median": statistics.median(lags),
            "lag_p95": lags[min(len(lags) - 1, int(0.95 * len(lags)))],
            "lag_max": lags[-1],
            "worker_cpu_per_shot": sum(cpu.get(p.pid, 0.0) for p in procs[1:]) / len(images),
            "node_cpu": cpu.get(procs[0].pid, float("nan")),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--workers", default="1,2", help="worker counts to measure, comma-separated (the first is the baseline)")
    ap.add_argument("--runs", type=int, default=1, help="runs per worker count (the median is printed)")
    ap.add_argument("--samples", type=Path, default=SAMPLES)
    have_pg = (REPO / "tests" / "pg_server.py").exists()
    ap.add_argument("--backends", default="sqlite,postgresql" if have_pg else "sqlite",
                    help="logs to measure on, comma-separated: sqlite, postgresql")
    args = ap.parse_args()
    images = sorted(args.samples.glob("*.jpg"))[: args.images]
    if len(images) < args.images:
        raise SystemExit(f"only {len(images)} images in {args.samples}")
    print(f"scale_out: {len(images)} screenshots, {os.cpu_count()} cores, load before {load()}")
    for backend in args.backends.split(","):
        server = None
        if backend == "postgresql":
            sys.path.insert(0, str(REPO / "tests"))
            from pg_server import OWNER, PgServer

            server = PgServer(durable=True).start()
        try:
            baseline = None
            for k in [int(x) for x in args.workers.split(",")]:
                runs = []
                for _ in range(args.runs):
                    env = {k_: v for k_, v in os.environ.items() if k_ != "OBSERVATORY_DATABASE_URL"}
                    if server is not None:
                        env["OBSERVATORY_DATABASE_URL"] = server.url(OWNER, server.new_database())
                    runs.append(one_run(images, k, env))
                med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
                baseline = baseline or med["warm_rate"]
                print(f"  {backend} log, {k} worker(s): wall {med['wall']:.1f} s ({len(images) / med['wall']:.2f}/s), "
                      f"warm rate {med['warm_rate']:.2f} screenshots/s, ratio {med['warm_rate'] / baseline:.2f}x; "
                      f"projection lag median {med['lag_median']:.2f} s, p95 {med['lag_p95']:.2f} s, "
                      f"max {med['lag_max']:.2f} s; workers' CPU {med['worker_cpu_per_shot']:.2f} s per screenshot, "
                      f"node's CPU {med['node_cpu']:.1f} s", flush=True)
        finally:
            if server is not None:
                server.stop()
    print(f"  load after {load()}")


if __name__ == "__main__":
    main()
