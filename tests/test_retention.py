"""Retention of originals in the inbox: only ingested, extracted, unchanged files are moved or deleted."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta, timezone

from PIL import Image

from builders import extracted, failed, ingested
from observatory.eventlog import EventStore
from observatory.ingest.ignore import IgnoreRules
from observatory.ingest.retention import apply_retention
from observatory.settings import load_settings
from observatory.watch import Inbox
from polling import wait_for


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (seed % 256, 10, 20)).save(buf, "PNG")
    return buf.getvalue()


def _drop(settings, rel: str, seed: int, *, result: str | None = "ok") -> str:
    data = _png(seed)
    path = settings.watch_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    batch = [ingested(sha, rel.split("/")[0], path=rel, name=path.name, byte_size=len(data), format="PNG", width=8,
                      height=8, captured_at_source="unknown")]
    if result == "ok":
        batch.append(extracted(sha, rows=[], meta={}, dropped_rows=[], engine="t", version="1"))
    elif result == "failed":
        batch.append(failed(sha, "blurred", engine="t", version="1"))
    with EventStore(settings.events_db) as store:
        store.append(batch)
    return sha


LATER = datetime.now(timezone.utc) + timedelta(days=8)


def test_move_keeps_the_community_folder_and_spares_failed_unread_changed_and_unknown_files(home, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_RETENTION", "move")
    settings = load_settings()
    _drop(settings, "HEI/good.png", 1)
    _drop(settings, "HEI/failed.png", 2, result="failed")
    _drop(settings, "HEI/unread.png", 3, result=None)
    _drop(settings, "HEI/changed.png", 4)
    (settings.watch_dir / "HEI" / "changed.png").write_bytes(_png(99))
    (settings.watch_dir / "HEI" / "rejected.txt").write_text("not an image")
    assert apply_retention(settings, datetime.now(timezone.utc)).moved == []  # not old enough yet
    report = apply_retention(settings, LATER)
    assert report.moved == ["HEI/good.png"] and report.kept_changed == ["HEI/changed.png"]
    assert (settings.watch_dir / ".processed" / "HEI" / "good.png").read_bytes() == _png(1)
    left = sorted(p.name for p in (settings.watch_dir / "HEI").iterdir())
    assert left == ["changed.png", "failed.png", "rejected.txt", "unread.png"]


def test_delete_and_keep(home, monkeypatch):
    _drop(load_settings(), "HEI/a.png", 5)
    monkeypatch.setenv("OBSERVATORY_RETENTION", "keep")
    assert apply_retention(load_settings(), LATER).summary() == "moved 0, deleted 0"
    monkeypatch.setenv("OBSERVATORY_RETENTION", "delete")
    report = apply_retention(load_settings(), LATER)
    assert report.deleted == ["HEI/a.png"] and not (home / "watch_dir" / "HEI" / "a.png").exists()


def test_the_inbox_ignores_the_processed_folder(home, monkeypatch):
    assert IgnoreRules().ignored((".processed", "HEI", "x.png"))
    assert IgnoreRules().ignored_dir((".processed",))
    monkeypatch.setenv("OBSERVATORY_POLLING", "true")
    monkeypatch.setenv("OBSERVATORY_STABILITY_SECONDS", "0.2")
    settings = load_settings()
    processed = settings.watch_dir / ".processed" / "HEI"
    processed.mkdir(parents=True)
    (processed / "old.png").write_bytes(_png(7))
    (settings.watch_dir / "HEI").mkdir()
    (settings.watch_dir / "HEI" / "new.png").write_bytes(_png(8))
    with Inbox(settings) as inbox:
        wait_for(lambda: inbox.store.count() >= 1, 20, what="the new file to be ingested")
        inbox.rescan()
        batches = inbox.batches
        wait_for(lambda: inbox._queue.empty() and not len(inbox.tracker), 10, what="the rescan to settle")
        paths = [e.payload["original_path"] for e in inbox.store.read()]
    assert paths == ["HEI/new.png"], (paths, batches)
