"""What the projections leave on disk: no files of killed rebuilds, no ever-growing WAL.

Real `observatory` subprocesses, SIGKILLed mid-rebuild, on a real log; real SQLite readers.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from builders import classified, extracted, ingested
from observatory.eventlog import EventStore
from polling import free_port, wait_for

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = 4000  # ~12,000 events: a replay takes seconds, long enough to be killed in the middle


def observatory(home: Path, *args: str, **kw) -> subprocess.Popen:  # noqa: ANN003
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "observatory", *args], env=env, cwd=home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def big_log(home: Path, screenshots: int = SCREENSHOTS) -> None:
    store = EventStore(home / "events" / "events.db")
    batch: list = []
    for i in range(screenshots):
        batch += [ingested(i), classified(i), extracted(i, n_rows=20)]
        if len(batch) >= 3000:
            store.append(batch)
            batch = []
    store.append(batch)
    store.close()


def scratch_of(home: Path, pid: int) -> Path:
    return home / "projections" / f".observatory.db.rebuild-{pid}"


def wal_size(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def killed_replay(home: Path) -> Path:
    """A home whose `observatory replay` was SIGKILLed mid-rebuild: its private file is left behind."""
    big_log(home)
    proc = observatory(home, "replay")
    left = scratch_of(home, proc.pid)
    wait_for(lambda: left.exists() and left.stat().st_size > 0 or proc.poll() is not None, 60,
             interval=0.005, what="the replay to start writing its rebuild file")
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the replay finished before it could be killed; make the log bigger"
    assert left.stat().st_size > 0
    return left


@pytest.fixture
def live_process():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("command", [["project"], ["replay"]])
def test_the_next_command_removes_what_a_killed_replay_left_and_keeps_a_live_ones(home, killed_replay, live_process,
                                                                               command):
    size = killed_replay.stat().st_size
    live = scratch_of(home, live_process)
    live.write_bytes(b"a rebuild still running")
    planted_dead = scratch_of(home, dead_pid())
    planted_dead.write_bytes(b"x" * 1234)

    proc = observatory(home, *command)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err

    assert not killed_replay.exists() and not planted_dead.exists()
    assert live.read_bytes() == b"a rebuild still running"
    removed = [line for line in err.splitlines() if "removed" in line and ".rebuild-" in line]
    assert len(removed) == 2, err
    assert any(f"{killed_replay} ({size} bytes)" in line for line in removed), removed
    assert any(f"{planted_dead} (1234 bytes)" in line for line in removed), removed
    assert sorted(p.name for p in (home / "projections").iterdir() if ".rebuild-" in p.name) == [live.name]


@pytest.mark.slow
def test_serve_removes_rebuild_files_of_dead_processes(home, live_process):
    assert observatory(home, "project").wait(60) == 0
    dead = scratch_of(home, dead_pid())
    dead.write_bytes(b"x" * 4096)
    live = scratch_of(home, live_process)
    live.write_bytes(b"alive")
    proc = observatory(home, "serve", "--port", str(free_port()))
    try:
        wait_for(lambda: not dead.exists() or proc.poll() is not None, 30, what="serve to remove the dead rebuild file")
        assert proc.poll() is None
        assert live.read_bytes() == b"alive"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert f"removed {dead} (4096 bytes)" in err


def test_a_killed_rebuild_not_yet_reaped_by_its_parent_counts_as_dead(home):
    from observatory.project import open_db

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        child.send_signal(signal.SIGKILL)
        status = Path(f"/proc/{child.pid}/status")
        wait_for(lambda: "zombie" in status.read_text().lower(), 10, what="the child to be a zombie")
        left = scratch_of(home, child.pid)
        left.parent.mkdir(parents=True)
        left.write_bytes(b"x")
        open_db(home / "projections" / "observatory.db").conn.close()
        assert not left.exists()
    finally:
        child.wait()


# --- the WAL stays bounded beside readers that never stop ----------------------------------------------


class Readers:
    """Threads that query the projections without pause, each on its own read-only connection, as Datasette does."""

    def __init__(self, db: Path, n: int = 6) -> None:
        self.db, self.stop, self.errors, self.queries = db, threading.Event(), [], 0
        self.threads = [threading.Thread(target=self._loop) for _ in range(n)]

    def _loop(self) -> None:
        conn = sqlite3.connect(f"{self.db.as_uri()}?mode=ro", uri=True)
        try:
            while not self.stop.is_set():
                try:
                    conn.execute("SELECT kind, COUNT(*), SUM(length(data)) FROM extracted_rows GROUP BY kind").fetchall()
                    self.queries += 1
                except sqlite3.Error as exc:
                    self.errors.append(exc)
        finally:
            conn.close()

    def __enter__(self) -> "Readers":
        for t in self.threads:
            t.start()
        wait_for(lambda: self.queries > 20, 30, what="the readers to be reading")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


@pytest.mark.slow
def test_publish_with_a_reader_open_leaves_no_wal(tmp_path):
    from observatory.project import all_projectors
    from observatory.project.rebuild import rebuild
    big_log(tmp_path / "home", 300)
    store = EventStore(tmp_path / "home" / "events" / "events.db")
    target = tmp_path / "p.db"
    rebuild(store, target, all_projectors())
    reader = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)
    assert reader.execute("SELECT COUNT(*) FROM extracted_rows").fetchone() == (6000,)
    rebuild(store, target, all_projectors())  # published over the live file, through its WAL
    assert wal_size(target) == 0
    assert reader.execute("SELECT COUNT(*) FROM extracted_rows").fetchone() == (6000,)
    reader.close()
    store.close()


@pytest.mark.slow
def test_replays_and_catch_ups_under_constant_reading_keep_the_wal_bounded(tmp_path):
    from observatory.project import all_projectors, catch_up, open_db
    from observatory.project.rebuild import rebuild
    from observatory.sqlite_wal import AUTOCHECKPOINT_PAGES

    home = tmp_path / "home"
    big_log(home, 600)
    store = EventStore(home / "events" / "events.db")
    target = tmp_path / "p.db"
    rebuild(store, target, all_projectors())
    db_size = target.stat().st_size
    after_publish, after_catch_up = [], []
    with Readers(target) as readers:
        for round_ in range(3):
            rebuild(store, target, all_projectors())
            after_publish.append(wal_size(target))
            first = 10_000 + round_ * 100
            store.append([p for i in range(first, first + 100) for p in (ingested(i), classified(i), extracted(i, 20))])
            db = open_db(target)
            catch_up(store, db, all_projectors(), batch_size=50)
            db.conn.close()
            after_catch_up.append(wal_size(target))
    assert readers.errors == [] and readers.queries > 0
    assert after_publish == [0, 0, 0], f"WAL after each publish: {after_publish} (database: {db_size} bytes)"
    page = sqlite3.connect(target).execute("PRAGMA page_size").fetchone()[0]
    assert max(after_catch_up) <= AUTOCHECKPOINT_PAGES * page, f"WAL after each catch-up: {after_catch_up}"
    store.close()
