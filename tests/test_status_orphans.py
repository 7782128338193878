"""Orphan blobs (bytes with no ScreenshotIngested, whose file left the inbox) stay visible in `observatory status`."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from observatory.cli import cli
from observatory.ingest.blobs import BlobStore
from observatory.settings import load_settings
from observatory.watch import Inbox
from polling import wait_for


def noisy_png(seed: int) -> bytes:
    rng = random.Random(seed)
    buf = io.BytesIO()
    Image.frombytes("L", (64, 64), rng.randbytes(64 * 64)).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def status_json() -> dict:
    result = CliRunner().invoke(cli, ["status", "--json"])
    return json.loads(result.output)


@pytest.mark.slow
def test_orphans_are_listed_by_status_after_the_daemon_logged_them(home: Path, caplog) -> None:
    settings = load_settings()
    blobs = BlobStore(settings.blobs_dir, settings.events_dir)
    settings.watch_dir.mkdir(parents=True)
    kept = noisy_png(1)
    (settings.watch_dir / "kept.png").write_bytes(kept)
    lost = [noisy_png(n) for n in (2, 3)]
    an_hour_ago = time.time() - 3600
    for data in (kept, *lost):  # what a kill between blob write and append leaves, an hour ago
        path = settings.events_dir / blobs.put(hashlib.sha256(data).hexdigest(), "png", data)
        os.utime(path, (an_hour_ago, an_hour_ago))
    lost_shas = sorted(hashlib.sha256(d).hexdigest() for d in lost)

    with caplog.at_level(logging.WARNING):  # the daemon re-adopts what is still in the inbox and reports the rest once
        with Inbox(settings):
            wait_for(lambda: sum("no source file" in r.getMessage() for r in caplog.records) == 2, timeout=30)

    s = status_json()
    assert s["orphan_blobs"]["count"] == 2
    assert [o["sha256"] for o in s["orphan_blobs"]["first"]] == [sha[:12] for sha in lost_shas]
    text = CliRunner().invoke(cli, ["status"]).output
    assert "2 orphan blob(s)" in text and lost_shas[0][:12] in text and lost_shas[1][:12] in text

    # What the README says to do: ingest the file again to keep it (or delete it).
    orphan = next(p for p in settings.blobs_dir.rglob("*.png") if p.name.startswith(lost_shas[0]))
    result = CliRunner().invoke(cli, ["ingest", "--no-process", "--community", "HEI", str(orphan)])
    assert result.exit_code == 0 and "Ingested 1" in result.output, result.output
    orphan_two = next(p for p in settings.blobs_dir.rglob("*.png") if p.name.startswith(lost_shas[1]))
    orphan_two.unlink()
    assert status_json()["orphan_blobs"] == {"count": 0, "first": []}
    assert orphan.exists()  # the blob is the ingested screenshot's blob now


def test_a_blob_just_written_is_an_ingest_in_progress_not_an_orphan(home: Path) -> None:
    settings = load_settings()
    blobs = BlobStore(settings.blobs_dir, settings.events_dir)
    young, old = noisy_png(4), noisy_png(5)
    blobs.put(hashlib.sha256(young).hexdigest(), "png", young)  # its event may be being appended right now
    path = settings.events_dir / blobs.put(hashlib.sha256(old).hexdigest(), "png", old)
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    s = status_json()  # no log at all yet: every settled blob is an orphan
    assert s["orphan_blobs"]["count"] == 1 and s["orphan_blobs"]["first"][0]["sha256"] == hashlib.sha256(old).hexdigest()[:12]
