"""The watch daemon with a real watchdog observer, fed the way real sync clients deliver files.

No sleeping-and-hoping: every check polls the event log against a deadline.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from watchdog.observers.api import BaseObserver, EventEmitter

from observatory.eventlog import EventStore
from observatory.settings import load_settings
from observatory.watch import Inbox, StabilityTracker
from observatory.watch import daemon as daemon_module
from observatory.watch.probe import Probe
from polling import wait_for


def png(seed: int, size: tuple[int, int] = (24, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (seed % 256, (seed // 256) % 256, 200)).save(buf, "PNG")
    return buf.getvalue()


def noisy_jpeg(size: tuple[int, int] = (300, 300)) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


class Log:
    """Read-only view of the event log for assertions (its own connection, like any reader)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self, type_: str | None = None) -> list:
        if not self.path.exists():
            return []
        with EventStore(self.path, readonly=True) as store:
            return [e for e in store.read() if type_ is None or e.type == type_]

    def paths(self, type_: str = "ScreenshotIngested") -> list[str]:
        return sorted(e.payload["original_path"] for e in self.all(type_))


@pytest.fixture
def env(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OBSERVATORY_STABILITY_SECONDS", "0.3")
    (home / "watch_dir").mkdir()
    return home


@pytest.fixture
def start(env: Path) -> Iterator[Callable[..., Inbox]]:
    started: list[Inbox] = []

    def _start(**kwargs) -> Inbox:  # noqa: ANN003
        inbox = Inbox(load_settings(), **kwargs)
        inbox.start()
        started.append(inbox)
        return inbox
    yield _start
    for inbox in started:
        inbox.stop()


@pytest.fixture
def log(env: Path) -> Log:
    return Log(env / "events" / "events.db")


def test_slow_chunked_write_is_taken_once_complete(env: Path, start, log: Log) -> None:
    start()
    data = noisy_jpeg()
    target = env / "watch_dir" / "HEI" / "slow.jpg"
    target.parent.mkdir()
    with open(target, "wb") as fh:
        for i in range(0, len(data), len(data) // 6 + 1):
            fh.write(data[i : i + len(data) // 6 + 1])
            fh.flush()
            time.sleep(0.05)
    (ev,) = wait_for(lambda: log.all("ScreenshotIngested"))
    assert ev.payload["byte_size"] == len(data) and ev.payload["community"] == "HEI"
    assert log.all("IngestRejected") == []


def test_write_to_temp_then_rename(env: Path, start, log: Log) -> None:
    start()
    inbox = env / "watch_dir"
    for i, tmp in enumerate([".syncthing.a.png.tmp", "b.png.part", "c.png.crdownload", ".d.png.XyZ12"]):
        (inbox / tmp).write_bytes(png(i))
        os.rename(inbox / tmp, inbox / f"shot{i}.png")
    wait_for(lambda: len(log.all("ScreenshotIngested")) == 4)
    assert log.paths() == ["shot0.png", "shot1.png", "shot2.png", "shot3.png"]
    assert len(log.all()) == 4  # the temp names produced nothing


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync not installed")
def test_rsync_delivery(env: Path, start, log: Log, tmp_path_factory) -> None:
    start()
    src = tmp_path_factory.mktemp("phone")
    for i in range(5):
        (src / f"IMG_2025111{i}_120000.png").write_bytes(png(10 + i))
    dest = env / "watch_dir" / "KOR"
    subprocess.run(["rsync", "-a", f"{src}/", f"{dest}/"], check=True)
    wait_for(lambda: len(log.all("ScreenshotIngested")) == 5)
    assert {e.payload["community"] for e in log.all()} == {"KOR"}
    assert {e.payload["captured_at_source"] for e in log.all()} == {"filename"}


def test_whole_folder_moved_in(env: Path, start, log: Log) -> None:
    start()
    staging = env / "staging" / "WOS"
    (staging / "deeper").mkdir(parents=True)
    for i in range(3):
        (staging / f"s{i}.png").write_bytes(png(20 + i))
    (staging / "deeper" / "s9.png").write_bytes(png(29))
    os.rename(staging, env / "watch_dir" / "WOS")
    wait_for(lambda: len(log.all("ScreenshotIngested")) == 4)
    assert log.paths() == ["WOS/deeper/s9.png", "WOS/s0.png", "WOS/s1.png", "WOS/s2.png"]


def test_same_file_dropped_twice_under_different_names(env: Path, start, log: Log) -> None:
    start()
    data = png(30)
    (env / "watch_dir" / "first.png").write_bytes(data)
    wait_for(lambda: log.all("ScreenshotIngested"))
    (env / "watch_dir" / "first (1).png").write_bytes(data)
    wait_for(lambda: log.all("DuplicateSighted"))
    assert [e.type for e in log.all()] == ["ScreenshotIngested", "DuplicateSighted"]


def test_burst_of_200_files(env: Path, start, log: Log) -> None:
    start()
    blobs = [png(1000 + i) for i in range(200)]
    for i, data in enumerate(blobs):
        (env / "watch_dir" / f"burst_{i:03}.png").write_bytes(data)
    wait_for(lambda: len(log.all("ScreenshotIngested")) == 200, timeout=40)
    assert len(log.all()) == 200
    assert len({e.payload["sha256"] for e in log.all()}) == 200


def test_startup_scan_and_restart_add_nothing(env: Path, start, log: Log) -> None:
    for i in range(3):
        (env / "watch_dir" / f"while_down_{i}.png").write_bytes(png(40 + i))
    (env / "watch_dir" / "junk.png").write_text("not an image")
    first = start()
    wait_for(lambda: len(log.all()) == 4)
    first.stop()
    second = start()
    wait_for(lambda: second.batches >= 1 and not len(second.tracker))
    assert [e.type for e in log.all()].count("ScreenshotIngested") == 3 and len(log.all()) == 4


def test_bad_input_does_not_stop_the_daemon_and_a_stalled_jpeg_is_retaken(env: Path, start, log: Log) -> None:
    start()
    inbox = env / "watch_dir"
    (inbox / "text.png").write_text("hello")
    (inbox / "empty.png").write_bytes(b"")
    os.mkfifo(inbox / "pipe.png")
    data = noisy_jpeg()
    (inbox / "stalled.jpg").write_bytes(data[: len(data) // 2])
    wait_for(lambda: len(log.all("IngestRejected")) == 4)
    assert {e.payload["file_name"]: e.payload["code"] for e in log.all()} == {
        "text.png": "not_an_image", "empty.png": "empty", "pipe.png": "not_a_file", "stalled.jpg": "corrupt"}
    with open(inbox / "stalled.jpg", "ab") as fh:  # the sync client resumes
        fh.write(data[len(data) // 2 :])
    (ev,) = wait_for(lambda: log.all("ScreenshotIngested"))
    assert ev.payload["byte_size"] == len(data)


def test_hook_receives_events_and_its_failure_is_survived(env: Path, start, log: Log) -> None:
    calls: list[list] = []

    def hook(events: list) -> None:
        calls.append(events)
        if len(calls) == 1:
            raise RuntimeError("OCR blew up")
    start(on_ingested=hook)
    (env / "watch_dir" / "a.png").write_bytes(png(50))
    wait_for(lambda: calls)
    (env / "watch_dir" / "b.png").write_bytes(png(51))
    wait_for(lambda: len(calls) == 2)
    assert [e.payload["file_name"] for batch in calls for e in batch] == ["a.png", "b.png"]


def test_polling_observer_setting(env: Path, start, log: Log, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSERVATORY_POLLING", "true")
    inbox = start()
    assert inbox.polling
    (env / "watch_dir" / "polled.png").write_bytes(png(60))
    wait_for(lambda: log.all("ScreenshotIngested"))


class _DeafEmitter(EventEmitter):
    """An emitter that accepts the watch and never reports anything (like many network mounts)."""

    def queue_events(self, timeout: float) -> None:
        time.sleep(timeout)


class _DeafObserver(BaseObserver):
    def __init__(self) -> None:
        super().__init__(_DeafEmitter)


def test_falls_back_to_polling_when_native_events_never_arrive(env: Path, start, log: Log, monkeypatch, caplog) -> None:
    monkeypatch.setattr(daemon_module, "Observer", _DeafObserver)
    with caplog.at_level(logging.WARNING):
        inbox = start(probe_timeout=0.3)
    assert inbox.polling
    assert any("falling back to the polling observer" in r.getMessage() for r in caplog.records)
    (env / "watch_dir" / "late.png").write_bytes(png(70))
    wait_for(lambda: log.all("ScreenshotIngested"))


def test_periodic_rescan_catches_events_that_never_fire(env: Path, start, log: Log, monkeypatch) -> None:
    monkeypatch.setenv("OBSERVATORY_RESCAN_SECONDS", "0.5")
    monkeypatch.setattr(daemon_module, "Observer", _DeafObserver)
    monkeypatch.setattr(Probe, "run", lambda self, timeout: True)  # the probe is fooled; only the rescan can help
    inbox = start()
    assert not inbox.polling
    (env / "watch_dir" / "silent.png").write_bytes(png(80))
    wait_for(lambda: log.all("ScreenshotIngested"))


def test_stability_tracker_waits_for_quiet_and_unchanged_stat() -> None:
    t = StabilityTracker(quiet=2.0)
    stats = {"a": (1, 1, 1)}
    t.touch("a", now=0.0, stat=(1, 1, 1))
    assert t.ready(1.9, stats.get) == [] and t.next_due(1.0) == pytest.approx(1.0)
    stats["a"] = (2, 2, 1)  # grew without an event
    assert t.ready(2.0, stats.get) == []  # restarts the quiet period
    assert t.ready(3.9, stats.get) == []
    assert t.ready(4.0, stats.get) == [("a", (2, 2, 1))]
    t.touch("b", 0.0, (1, 1, 2))
    assert t.ready(5.0, {}.get) == [] and len(t) == 0  # vanished files drop out
