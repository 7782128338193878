"""Crash safety: SIGKILL the real daemon/CLI at random moments; after a restart every file is in the log exactly once."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

import builders
from observatory.eventlog import EventStore
from observatory.ingest.blobs import BlobStore
from observatory.settings import load_settings
from observatory.watch import Inbox
from polling import alive, children_of, wait_for

REPO = Path(__file__).resolve().parents[1]


def noisy_png(seed: int) -> bytes:
    random.seed(seed)
    img = Image.frombytes("L", (160, 160), random.randbytes(160 * 160)).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def ingested(home: Path) -> list:
    db = home / "events" / "events.db"
    if not db.exists():
        return []
    with EventStore(db, readonly=True) as store:
        return list(store.read(types=["ScreenshotIngested"]))


def spawn(home: Path, *args: str, stderr=subprocess.DEVNULL) -> subprocess.Popen:  # noqa: ANN001
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "OBSERVATORY_STABILITY_SECONDS": "0.1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "observatory", *args], env=env, cwd=home,
                            stdout=subprocess.DEVNULL, stderr=stderr)


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_duplicates_nothing(home: Path) -> None:
    rng = random.Random(20251112)
    inbox = home / "watch_dir"
    (inbox / "HEI").mkdir(parents=True)
    files: dict[str, bytes] = {}
    for it in range(5):
        for j in range(6):
            n = it * 6 + j
            data = noisy_png(n)
            rel = f"HEI/Screenshot_20251112_1735{n:02}.png" if n % 2 else f"shot_{n:02}.png"
            (inbox / rel).write_bytes(data)
            files[rel] = data
        proc = spawn(home, "watch") if it % 2 == 0 else spawn(home, "ingest", str(inbox))
        time.sleep(rng.uniform(0.3, 1.6))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)

    log_file = home / "watch.log"
    with open(log_file, "w") as out:
        proc = spawn(home, "watch", stderr=out)
        try:
            wait_for(lambda: "watching" in log_file.read_text(), timeout=30)
            wait_for(lambda: len(ingested(home)) >= len(files), timeout=30)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                wait_for(lambda: proc.poll() is not None, timeout=20, what="the daemon to exit after SIGTERM")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    err = log_file.read_text()
    assert proc.returncode == 0, err
    assert "stopped watching" in err

    events = ingested(home)
    assert sorted(e.payload["original_path"] for e in events) == sorted(files)
    with EventStore(home / "events" / "events.db", readonly=True) as store:
        assert store.verify().ok
        others = [e.type for e in store.read() if e.type in ("DuplicateSighted", "IngestRejected")]
        results: dict[str, int] = {}
        for e in store.read(types=["ScoresExtracted", "ExtractionFailed"]):
            results[e.payload["sha256"]] = results.get(e.payload["sha256"], 0) + 1
    assert others == []  # no duplicate sightings, no rejections of half-read files
    assert all(n == 1 for n in results.values())  # OCR interrupted by a kill is redone, never recorded twice
    shas = {e.payload["sha256"] for e in events}
    assert shas == {hashlib.sha256(d).hexdigest() for d in files.values()}
    blob_files = [p for p in (home / "events" / "blobs").rglob("*") if p.is_file()]
    assert sorted(p.name.split(".")[0] for p in blob_files) == sorted(shas)  # no orphan, no temp file
    for e in events:
        assert hashlib.sha256((home / "events" / e.payload["blob_path"]).read_bytes()).hexdigest() == e.payload["sha256"]


def test_blob_without_event_is_readopted_or_reported(home: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """The state a kill between blob write and append leaves behind, set up deterministically."""
    monkeypatch.setenv("OBSERVATORY_STABILITY_SECONDS", "0.1")
    settings = load_settings()
    blobs = BlobStore(settings.blobs_dir, settings.events_dir)
    kept, lost = noisy_png(1), noisy_png(2)
    settings.watch_dir.mkdir(parents=True)
    (settings.watch_dir / "kept.png").write_bytes(kept)
    for data in (kept, lost):
        blobs.put(hashlib.sha256(data).hexdigest(), "png", data)
    half = settings.blobs_dir / "ab" / ".tmp-interrupted"
    half.parent.mkdir(parents=True)
    half.write_bytes(b"partial")
    lost_sha = hashlib.sha256(lost).hexdigest()
    with caplog.at_level(logging.WARNING):
        inbox = Inbox(settings)
        inbox.start()
        try:
            wait_for(lambda: ingested(home), timeout=30)
            wait_for(lambda: any("no source file" in r.getMessage() for r in caplog.records), timeout=30)
        finally:
            inbox.stop()
    assert [e.payload["original_path"] for e in ingested(home)] == ["kept.png"]
    orphan_lines = [r for r in caplog.records if "no source file" in r.getMessage()]
    assert len(orphan_lines) == 1 and lost_sha in orphan_lines[0].getMessage()
    assert not half.exists()


@pytest.mark.slow
def test_ocr_workers_of_a_sigkilled_daemon_exit(home: Path, samples_dir: Path) -> None:
    """A killed daemon cannot stop its process pool; its workers must notice and go, not wait forever."""
    (home / "watch_dir" / "HEI").mkdir(parents=True)
    proc = spawn(home, "watch")
    try:
        for name in sorted(p.name for p in samples_dir.glob("*.jpg"))[:4]:
            (home / "watch_dir" / "HEI" / name).write_bytes((samples_dir / name).read_bytes())
        workers = wait_for(lambda: children_of(proc.pid), timeout=60, what="the OCR pool to start")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=20, what="the orphaned workers to exit")


def test_an_ocr_worker_ends_on_sigterm() -> None:
    """Service managers stop a whole cgroup with SIGTERM; a worker must not inherit the daemon's handler."""
    from concurrent.futures import ProcessPoolExecutor

    signal.signal(signal.SIGTERM, lambda *_: None)  # like the daemon's handler, which the fork copies
    try:
        from observatory.process.worker import init_worker

        with ProcessPoolExecutor(max_workers=1, initializer=init_worker) as pool:
            pid = pool.submit(os.getpid).result(timeout=30)
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not alive(pid), timeout=10, what="the worker to end on SIGTERM")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.slow
def test_sigterm_does_not_wait_for_ocr_in_hand(home: Path) -> None:
    """A service manager's stop must not wait on OCR: one screenshot can take many CPU-seconds on a loaded machine.

    Here the OCR in hand never ends (its blob is a FIFO we hold open and never write): the
    daemon must still exit promptly and cleanly, end its worker, and leave the screenshot
    without a result, so the next start reads it again.
    """
    settings = load_settings()
    sha = "f" * 64
    fifo = settings.events_dir / builders.blob_path(sha, "png")
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    with EventStore(settings.events_db) as store:
        store.append([builders.ingested(sha, "HEI", name="stuck.png", byte_size=100, format="PNG")])

    def worker_is_reading() -> int | None:
        try:  # succeeds only once a reader (the OCR worker) has the FIFO open; then its read blocks for good
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return None

    log_file = home / "watch.log"
    writer = None
    with open(log_file, "w") as out:
        proc = spawn(home, "watch", stderr=out)
    try:
        writer = wait_for(worker_is_reading, timeout=60, what="an OCR worker to be reading the screenshot")
        workers = children_of(proc.pid)
        assert workers
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: proc.poll() is not None, timeout=20, what="the daemon to exit after SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if writer is not None:
            os.close(writer)
    err = log_file.read_text()
    assert proc.returncode == 0, err
    assert "abandoned the OCR of 1 screenshot(s)" in err and "stopped" in err
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=10, what="the OCR workers to be gone")
    with EventStore(settings.events_db, readonly=True) as store:
        assert [e.type for e in store.read()] == ["ScreenshotIngested"]  # no result recorded: read again next start
