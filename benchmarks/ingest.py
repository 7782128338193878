"""Inbox benchmark: drop-to-event latency of a real watcher, and `observatory ingest` throughput.

    .venv/bin/python benchmarks/ingest.py [--files 200] [--jpegs 1000] [--stability 0.3]

Latency: files are dropped one at a time (written under a temp name, renamed in, as
sync clients do) into a running `Inbox`; latency = event recorded_at - drop time -
stability_seconds, i.e. what the daemon adds on top of the deliberate quiet period.
Throughput: `observatory ingest DIR` as a subprocess (start-up and projection
included) over ~1 MB noisy JPEGs. Prints measured figures only.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def small_png(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (seed % 256, seed // 256 % 256, 99)).save(buf, "PNG")
    return buf.getvalue()


def latency(n: int, stability: float) -> None:
    from observatory.eventlog import EventStore
    from observatory.settings import load_settings
    from observatory.watch import Inbox

    home = Path(tempfile.mkdtemp(prefix="obs-bench-watch-"))
    try:
        settings = load_settings(home=home, stability_seconds=stability)
        inbox = Inbox(settings)
        inbox.start()
        dropped: dict[str, float] = {}
        for i in range(n):
            tmp = settings.watch_dir / f".incoming-{i}.tmp"
            tmp.write_bytes(small_png(i))
            name = f"bench_{i:04}.png"
            os.rename(tmp, settings.watch_dir / name)
            dropped[name] = time.time()
            time.sleep(0.02)
        deadline = time.monotonic() + 60 + n * 0.1
        with EventStore(settings.events_db, readonly=True) as store:
            while store.count() < n and time.monotonic() < deadline:
                time.sleep(0.05)
            events = list(store.read(types=["ScreenshotIngested"]))
        inbox.stop()
        lat = sorted(
            datetime.fromisoformat(e.recorded_at).timestamp() - dropped[e.payload["file_name"]] - stability for e in events
        )
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        print(f"watch latency over {len(lat)}/{n} files (stability {stability}s subtracted): "
              f"median {statistics.median(lat):.3f} s, p95 {p95:.3f} s, max {lat[-1]:.3f} s")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def make_jpegs(folder: Path, n: int) -> int:
    """n distinct ~1 MB JPEGs: a few noisy bases, each copy made unique by a JPEG comment segment."""
    bases = []
    for seed in range(8):
        buf = io.BytesIO()
        Image.effect_noise((1300, 1300), 40 + seed).convert("RGB").save(buf, "JPEG", quality=90)
        bases.append(buf.getvalue())
    total = 0
    for i in range(n):
        base = bases[i % len(bases)]
        comment = f"observatory benchmark {i}".encode()
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        data = base[:2] + segment + base[2:]
        (folder / f"IMG_20251112_{i:06}.jpg").write_bytes(data)
        total += len(data)
    return total


def throughput(n: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="obs-bench-ingest-"))
    try:
        src = home / "drop"
        src.mkdir()
        total = make_jpegs(src, n)
        env = {**os.environ, "OBSERVATORY_HOME": str(home), "PYTHONPATH": str(REPO), "OBSERVATORY_LOG_LEVEL": "WARNING"}
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "observatory", "ingest", "--no-process", str(src)], env=env, cwd=home,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:]
        print(f"ingest throughput (--no-process: ingest only, OCR not included): {n} JPEGs, {total / n / 1e6:.2f} MB average, {elapsed:.2f} s wall "
              f"= {n / elapsed:.1f} files/s ({total / elapsed / 1e6:.1f} MB/s); exit {proc.returncode}; {summary}")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--jpegs", type=int, default=1000)
    ap.add_argument("--stability", type=float, default=0.3)
    args = ap.parse_args()
    print(f"cpus {os.cpu_count()}, python {sys.version.split()[0]}")
    latency(args.files, args.stability)
    throughput(args.jpegs)


if __name__ == "__main__":
    main()
