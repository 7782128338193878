"""The OCR processor: log-driven, crash-safe, idempotent, with real Tesseract on a real sample."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from click.testing import CliRunner

from builders import blank_png
from observatory.cli import cli
from observatory.eventlog import EventStore
from observatory.process import Processor, pending_screenshots
from observatory.process.pipeline import project_now
from observatory.process.processor import Job, ingested_screenshots
from observatory.settings import load_settings
from paths import BEAR
from stores import ingest_bytes


@pytest.fixture
def env(home):
    settings = load_settings(workers=2)
    store = EventStore(settings.events_db)
    yield settings, store
    store.close()


@pytest.fixture
def bear_bytes(samples_dir) -> bytes:
    return (samples_dir / BEAR).read_bytes()


@pytest.mark.slow
def test_pending_screenshots_are_extracted_and_projected(env, bear_bytes):
    settings, store = env
    bear = ingest_bytes(store, settings.events_dir, bear_bytes, BEAR)
    other = ingest_bytes(store, settings.events_dir, blank_png(), "note.png")
    broken = ingest_bytes(store, settings.events_dir, b"\xff\xd8\xff\xe0 not really a jpeg", "broken.jpg")
    assert {j.sha256 for j in pending_screenshots(store)} == {bear, other, broken}

    with Processor(store, settings.events_dir, workers=2) as proc:
        outcomes = proc.process_pending()
    assert {o.sha256: o.ok for o in outcomes} == {bear: True, other: True, broken: False}
    assert pending_screenshots(store) == []

    by_type: dict[str, list] = {}
    for ev in store.read():
        by_type.setdefault(ev.type, []).append(ev)
    classified = {e.payload["sha256"]: e.payload for e in by_type["ScreenshotClassified"]}
    assert classified[bear]["kind"] == "bear_damage"
    assert classified[other]["kind"] == "unknown"
    for e in by_type["ScreenshotClassified"] + by_type["ScoresExtracted"] + by_type["ExtractionFailed"]:
        assert e.payload["engine"] == "rapidocr" and e.payload["engine_version"]
        assert e.metadata["correlation_id"] == e.payload["sha256"]
    (failure,) = by_type["ExtractionFailed"]
    assert failure.payload["stage"] == "decode" and failure.payload["reason"]

    extracted = {e.payload["sha256"]: e.payload for e in by_type["ScoresExtracted"]}
    rows = extracted[bear]["rows"]
    assert len(rows) >= 3 and set(rows[0]) == {"rank", "name", "damage"}

    project_now(settings, store)
    import sqlite3

    db = sqlite3.connect(settings.projections_db)
    status = dict(db.execute("SELECT id, status FROM screenshots"))
    assert status == {bear: "extracted", other: "extracted", broken: "failed"}
    assert db.execute("SELECT COUNT(*) FROM extracted_rows WHERE screenshot_id = ?", [bear]).fetchone()[0] == len(rows)


@pytest.mark.slow
def test_a_result_is_recorded_once_even_when_two_processors_race(env):
    settings, store = env
    sha = ingest_bytes(store, settings.events_dir, blank_png("race"), "race.png")
    jobs = pending_screenshots(store)
    with Processor(store, settings.events_dir) as a, Processor(EventStore(settings.events_db), settings.events_dir) as b:
        first = a.run(jobs)
        second = b.run(jobs)  # a second worker that picked the same job before the first recorded it
    assert first[0].appended and not second[0].appended
    results = [e for e in store.read() if e.type in ("ScoresExtracted", "ExtractionFailed")]
    assert len(results) == 1 and results[0].payload["sha256"] == sha


@pytest.mark.slow
def test_after_a_crash_between_ocr_and_append_nothing_is_skipped(env):
    """A screenshot whose result never reached the log is still pending after a restart."""
    settings, store = env
    a = ingest_bytes(store, settings.events_dir, blank_png("a"), "a.png")
    b = ingest_bytes(store, settings.events_dir, blank_png("b"), "b.png")
    with Processor(store, settings.events_dir) as proc:
        proc.run([j for j in pending_screenshots(store) if j.sha256 == a])  # "crash" before b
    assert [j.sha256 for j in pending_screenshots(store)] == [b]
    with Processor(store, settings.events_dir) as proc:
        proc.process_pending()
    counts: dict[str, int] = {}
    for e in store.read(types=["ScoresExtracted"]):
        counts[e.payload["sha256"]] = counts.get(e.payload["sha256"], 0) + 1
    assert counts == {a: 1, b: 1}


def test_reprocess_appends_a_newer_result_and_forced_kind(env):
    settings, store = env
    sha = ingest_bytes(store, settings.events_dir, blank_png("x"), "x.png")
    with Processor(store, settings.events_dir) as proc:
        proc.process_pending()
        proc.reprocess(ingested_screenshots(store, screenshot=sha[:10]), kind="contribution")
    kinds = [e.payload["kind"] for e in store.read(types=["ScreenshotClassified"])]
    assert kinds == ["unknown", "contribution"]
    project_now(settings, store)
    import sqlite3

    assert sqlite3.connect(settings.projections_db).execute("SELECT kind FROM screenshots").fetchone() == ("contribution",)


def test_missing_blob_is_a_clear_failure(env):
    settings, store = env
    sha = ingest_bytes(store, settings.events_dir, blank_png("gone"), "gone.png")
    next(settings.blobs_dir.rglob(f"{sha}.*")).unlink()
    with Processor(store, settings.events_dir) as proc:
        (outcome,) = proc.process_pending()
    assert not outcome.ok and "missing" in (outcome.error or "")


@pytest.mark.slow
def test_extract_command_is_a_dry_run_with_the_json_contract(home, samples_dir, tmp_path):
    img = tmp_path / "drop" / BEAR
    img.parent.mkdir()
    shutil.copy(samples_dir / BEAR, img)
    result = CliRunner().invoke(cli, ["extract", "--json", str(img)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (obj,) = json.loads(result.stdout)
    assert {"file", "sha256", "kind", "confidence", "meta", "rows", "dropped_rows", "warnings"} <= set(obj)
    assert obj["kind"] == "bear_damage" and obj["meta"]["trap_id"] == 1
    assert obj["sha256"] == hashlib.sha256(img.read_bytes()).hexdigest()
    label = json.loads((samples_dir / BEAR.replace(".jpg", ".json")).read_text())
    assert all(set(row) == set(label["rows"][0]) - {"uncertain", "name_plain"} for row in obj["rows"])
    assert not (home / "events").exists() and not (home / "projections").exists()  # wrote nothing


def test_reprocess_needs_a_selection(home):
    result = CliRunner().invoke(cli, ["reprocess"])
    assert result.exit_code == 2 and "--all" in result.output


def test_unknown_job_kind_is_rejected_by_extract_command(home, tmp_path):
    img = tmp_path / "a.png"
    img.write_bytes(blank_png())
    result = CliRunner().invoke(cli, ["extract", "--kind", "nope", str(img)])
    assert result.exit_code == 2 and "unknown kind" in result.output


def test_job_is_a_value_object():
    assert Job("a", "b") == Job("a", "b", None, "initial")


@pytest.mark.slow
def test_ingest_command_processes_and_projects_what_it_ingested(home, samples_dir, tmp_path):
    drop = tmp_path / "phone"
    drop.mkdir()
    shutil.copy(samples_dir / BEAR, drop / BEAR)
    result = CliRunner().invoke(cli, ["ingest", "--community", "HEI", str(drop)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Ingested 1" in result.output and "Extracted 1 screenshot(s)" in result.output
    import sqlite3

    db = sqlite3.connect(home / "projections" / "observatory.db")
    assert db.execute("SELECT community, status, kind FROM screenshots").fetchall() == [("HEI", "extracted", "bear_damage")]
    assert db.execute("SELECT COUNT(*) FROM extracted_rows").fetchone()[0] >= 3


def test_process_command_ocrs_what_ingest_left_pending(home, tmp_path):
    img = tmp_path / "note.png"
    img.write_bytes(blank_png("later"))
    assert CliRunner().invoke(cli, ["ingest", "--no-process", str(img)]).exit_code == 0
    first = CliRunner().invoke(cli, ["process"], catch_exceptions=False)
    assert first.exit_code == 0 and "Extracted 1 screenshot(s)" in first.output
    again = CliRunner().invoke(cli, ["process"], catch_exceptions=False)
    assert "Extracted 0 screenshot(s)" in again.output
    import sqlite3

    db = sqlite3.connect(home / "projections" / "observatory.db")
    assert db.execute("SELECT status, kind FROM screenshots").fetchall() == [("extracted", "unknown")]


@pytest.mark.slow
def test_a_burst_settles_the_domain_tables_at_its_end_when_settling_is_slow(env, bear_bytes):
    """The daemon's loop: rows of each chunk appear at once, hunts and players when the burst is read."""
    import sqlite3
    import time

    from observatory.process.background import BackgroundPipeline
    from observatory.process.pipeline import processor_for

    settings, store = env
    for i in range(4):  # one chunk of unreadable screens (two workers: chunks of four), then the bear ranking
        ingest_bytes(store, settings.events_dir, blank_png(f"not a game screen {i}"), f"blank-{i}.png")
    ingest_bytes(store, settings.events_dir, bear_bytes, BEAR)
    pipeline = BackgroundPipeline(settings)
    # as if the domain tables had just taken an hour to settle: nothing mid-burst is worth another
    pipeline._settled_at, pipeline._settle_seconds = time.monotonic(), 3600.0
    with processor_for(settings, store) as processor:
        pipeline._cycle(store, processor)
    assert pipeline.settles == 1
    conn = sqlite3.connect(settings.projections_db)
    assert conn.execute("SELECT COUNT(*) FROM screenshots WHERE status IN ('extracted', 'failed')").fetchone() == (5,)
    assert conn.execute("SELECT COUNT(*) FROM _domain_dirty").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM bear_scores").fetchone()[0] >= 5
    conn.close()
