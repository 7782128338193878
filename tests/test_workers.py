"""`observatory worker` processes sharing one log: every screenshot gets exactly one result, whoever dies.

Real processes throughout: an ingesting node (`observatory watch` with OCR left to the
workers), `observatory worker` processes with real OCR, signals as a service manager or
the OOM killer sends them. Every process is killed at the end, whatever happened.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from observatory.eventlog import EventStore
from observatory.eventlog.claims import Claim, open_claims
from observatory.process.leased import MAX_ATTEMPTS, LeasedWorker
from observatory.settings import load_settings
from paths import BEAR
from polling import wait_for
from screens import distinct_screens
from stores import ingest_bytes

RESULTS = ("ScoresExtracted", "ExtractionFailed")


@pytest.fixture
def spawn(home):
    """Start `observatory …` processes (each its own process group); all are killed at the end."""
    started: list[subprocess.Popen] = []

    def start(*args: str, **env: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "observatory", *args], env={**os.environ, **env},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, home, monkeypatch) -> str:
    """The shared log: the SQLite file in the home, or a fresh database on the real PostgreSQL server."""
    if request.param == "postgresql":
        monkeypatch.setenv("OBSERVATORY_DATABASE_URL", request.getfixturevalue("pg_url"))
    return request.param


def sql(home: Path, query: str) -> list[tuple]:
    """Rows of a query on the log's database, whichever it is; [] while its tables are not made yet."""
    url = os.environ.get("OBSERVATORY_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            try:
                return conn.execute(query).fetchall()
            except psycopg.errors.UndefinedTable:
                return []
    db = home / "events" / "events.db"
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(query).fetchall()
    except sqlite3.OperationalError:  # the claims table not made yet
        return []
    finally:
        conn.close()


def results_per_screenshot(home: Path) -> dict[str, int]:
    return dict(sql(home, f"SELECT stream_id, COUNT(*) FROM events WHERE type IN {RESULTS!r} GROUP BY stream_id"))


def stop(proc: subprocess.Popen) -> str:
    """SIGTERM, as a service manager stops it; its stderr once it has exited (cleanly: code 0)."""
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    return err


@pytest.mark.slow
def test_three_workers_and_an_ingesting_node_give_60_screenshots_one_result_each(backend, home, samples_dir, spawn,
                                                                                  tmp_path):
    node = spawn("watch", OBSERVATORY_LOCAL_OCR="false", OBSERVATORY_STABILITY_SECONDS="0.3")
    wait_for(lambda: sql(home, "SELECT COUNT(*) FROM events") or node.poll() is not None, 60, what="the log")
    assert node.poll() is None, node.communicate()[1][-3000:]
    workers = [spawn("worker", "--concurrency", "1") for _ in range(3)]

    inbox = home / "watch_dir" / "HEI"
    inbox.mkdir(parents=True, exist_ok=True)
    for f in distinct_screens(samples_dir, tmp_path / "made", 60):
        shutil.move(f, inbox / f.name)

    def all_read() -> bool:
        assert all(p.poll() is None for p in [node, *workers]), "a process exited early"
        return len(results_per_screenshot(home)) == 60

    wait_for(all_read, 240, interval=0.5, what="60 results")
    projected = home / "projections" / "observatory.db"

    def node_follows() -> bool:  # the node did no OCR: its projection follows what the workers appended
        conn = sqlite3.connect(projected, timeout=30)
        try:
            return conn.execute("SELECT COUNT(*) FROM screenshots WHERE status = 'extracted'").fetchone()[0] == 60
        finally:
            conn.close()

    wait_for(node_follows, 60, interval=0.5, what="the node's projection to show 60 extracted", tolerate=(sqlite3.Error,))
    logs = [stop(w) for w in workers]
    assert "OCR: left to `observatory worker` processes" in stop(node)

    assert sorted(set(results_per_screenshot(home).values())) == [1]
    assert sql(home, "SELECT COUNT(*) FROM events WHERE type = 'ScreenshotIngested'") == [(60,)]
    reads = [int(log.rsplit("read ", 1)[1].split()[0]) for log in logs]
    assert sum(reads) == 60 and all(n > 0 for n in reads), reads  # shared out, none read twice
    assert sql(home, "SELECT COUNT(*) FROM ocr_claims WHERE NOT done") == [(0,)]


def claimed_by_someone(home: Path) -> list[tuple]:
    return sql(home, "SELECT request_key, worker, attempts FROM ocr_claims WHERE worker IS NOT NULL AND NOT done")


@pytest.fixture
def one_big_screenshot(home, samples_dir, backend):
    """A full-size sample in the log, not yet read (seconds of OCR: time to catch a worker in the middle)."""
    inbox = home / "drop" / "HEI"
    inbox.mkdir(parents=True)
    shutil.copy(samples_dir / BEAR, inbox / BEAR)
    done = subprocess.run([sys.executable, "-m", "observatory", "ingest", "--no-process", str(home / "drop")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
def test_a_worker_killed_mid_read_loses_its_lease_and_another_finishes(backend, home, spawn, one_big_screenshot):
    lease = {"OBSERVATORY_CLAIM_LEASE_SECONDS": "3"}
    doomed = spawn("worker", "--concurrency", "1", **lease)
    held = wait_for(lambda: claimed_by_someone(home), 60, interval=0.02, what="the first worker's claim")
    os.killpg(doomed.pid, signal.SIGKILL)  # the OOM killer: no clean-up, no release
    doomed.communicate(timeout=30)
    assert results_per_screenshot(home) == {}, "killed mid-read: no result yet"
    assert claimed_by_someone(home) == held  # the dead worker's lease stands until it expires
    status = json.loads(subprocess.run([sys.executable, "-m", "observatory", "status", "--json"],
                                       capture_output=True, text=True, timeout=120).stdout)
    assert status["queue_depth"] == 1 and status["workers"]["in_hand"] == 1

    heir = spawn("worker", "--concurrency", "1", "--max", "1", **lease)
    _, err = heir.communicate(timeout=180)
    assert heir.returncode == 0, err[-3000:]
    assert "taken over from an expired lease (attempt 2" in err
    assert list(results_per_screenshot(home).values()) == [1]
    assert sql(home, "SELECT attempts, done FROM ocr_claims") == [(2, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sigterm_gives_the_lease_back_at_once(home, spawn, one_big_screenshot):
    lease = {"OBSERVATORY_CLAIM_LEASE_SECONDS": "600"}  # nobody could take it over by expiry within the test
    first = spawn("worker", "--concurrency", "1", **lease)
    wait_for(lambda: claimed_by_someone(home), 60, interval=0.02, what="the first worker's claim")
    err = stop(first)
    if results_per_screenshot(home):  # the read finished within the stop's grace: recorded, nothing to give back
        assert "gave back 0 lease(s)" in err
        assert sql(home, "SELECT done FROM ocr_claims") == [(1,)]
        return
    assert "gave back 1 lease(s)" in err
    assert claimed_by_someone(home) == []
    second = spawn("worker", "--concurrency", "1", "--max", "1", **lease)
    _, err = second.communicate(timeout=180)
    assert second.returncode == 0, err[-3000:]
    assert list(results_per_screenshot(home).values()) == [1]
    assert sql(home, "SELECT attempts, done FROM ocr_claims") == [(2, 1)]


def test_a_screenshot_that_keeps_killing_its_workers_is_recorded_as_failed_not_taken_for_ever(home):
    settings = load_settings()
    with EventStore(settings.events_db) as store:
        sha = ingest_bytes(store, settings.events_dir, b"an image whose OCR kills the process", "poison.jpg")
        blob = store.stream(f"screenshot-{sha}")[0].payload["blob_path"]
        with open_claims(store, lease_seconds=60) as board:
            board.offer([Claim(sha, blob)])
            board.conn.execute("UPDATE ocr_claims SET attempts = ?", (MAX_ATTEMPTS,))  # five workers took it and died
            tally = LeasedWorker(settings, store, board, concurrency=1, once=True).run(threading.Event())
            assert [(r.attempts, r.done) for r in board.rows()] == [(MAX_ATTEMPTS + 1, True)]
        results = [e for e in store.stream(f"screenshot-{sha}") if e.type in RESULTS]
    assert (tally.read, tally.failed) == (1, 1)
    assert [(e.type, e.payload["stage"]) for e in results] == [("ExtractionFailed", "internal")]
    assert results[0].payload["reason"].startswith(f"gave up after {MAX_ATTEMPTS} attempts")
