"""Shutdown benchmark: how long `observatory watch` takes to exit after SIGTERM while it is OCRing.

    .venv/bin/python benchmarks/shutdown.py [--runs 3] [--images 12] [--load 2] [--samples DIR]

Each run starts a real daemon on a fresh home, drops `--images` sample screenshots into
its inbox, waits until the OCR pool is busy (the first result is in the log and more are
pending), sends SIGTERM and measures until the process has exited. `--load N` keeps N
busy-looping Python processes running throughout (a loaded machine; 0 for none).
Prints measured figures only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples" / "wos"


def results_and_pending(db: Path) -> tuple[int, int]:
    if not db.exists():
        return 0, 0
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5) as conn:
            done = conn.execute("SELECT COUNT(*) FROM events WHERE type IN ('ScoresExtracted', 'ExtractionFailed')").fetchone()[0]
            ingested = conn.execute("SELECT COUNT(*) FROM events WHERE type = 'ScreenshotIngested'").fetchone()[0]
    except sqlite3.Error:
        return 0, 0
    return done, ingested - done


def one_run(images: list[Path], env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds from SIGTERM to exit, results before SIGTERM, results after)."""
    with tempfile.TemporaryDirectory(prefix="obs-shutdown-") as tmp:
        home = Path(tmp)
        inbox = home / "watch_dir" / "HEI"
        inbox.mkdir(parents=True)
        run_env = {**env, "OBSERVATORY_HOME": str(home)}
        with open(home / "watch.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "observatory", "watch"], env=run_env, cwd=home,
                                    stdout=subprocess.DEVNULL, stderr=log)
        try:
            for img in images:
                shutil.copyfile(img, inbox / img.name)
            db = home / "events" / "events.db"
            deadline = time.monotonic() + 600
            while True:
                done, pending = results_and_pending(db)
                if done >= 1 and pending >= 2:
                    break
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the daemon never got busy: {(home / 'watch.log').read_text()[-2000:]}")
                time.sleep(0.05)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=600)
            seconds = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if proc.returncode != 0:
            raise RuntimeError(f"exit code {proc.returncode}: {(home / 'watch.log').read_text()[-2000:]}")
        after, _ = results_and_pending(db)
        return seconds, done, after


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--load", type=int, default=2, help="busy-looping processes kept running (0: an idle machine)")
    ap.add_argument("--samples", type=Path, default=SAMPLES)
    ap.add_argument("--workers", type=int, default=None, help="OBSERVATORY_WORKERS (default: number of cores)")
    args = ap.parse_args()
    images = sorted(args.samples.glob("*.jpg"))[: args.images]
    if not images:
        sys.exit(f"no sample screenshots in {args.samples}")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OBSERVATORY_STABILITY_SECONDS": "0.1",
           "OBSERVATORY_OCR_ENGINE": "tesseract", "OBSERVATORY_LOG_LEVEL": "INFO"}
    env.pop("OPENAI_API_KEY", None)
    if args.workers:
        env["OBSERVATORY_WORKERS"] = str(args.workers)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        times = []
        for i in range(args.runs):
            seconds, before, after = one_run(images, env)
            times.append(seconds)
            print(f"run {i + 1}: exit {seconds:.2f} s after SIGTERM (results in the log: {before} at SIGTERM, {after} at exit)",
                  flush=True)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    print(f"{len(images)} images, {os.cpu_count()} cores, load {args.load} busy process(es): "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
