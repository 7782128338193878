"""`observatory status`, the health file, and the nightly projections check, on real SQLite files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from click.testing import CliRunner

from builders import classified, extracted, failed, ingested, rejected
from stores import tamper
from observatory.cli import cli
from observatory.eventlog import EventStore
from observatory.health.consistency import nightly_check
from observatory.health.files import write_json_atomic
from observatory.process.pipeline import project_now
from observatory.health.outcomes import JobResult, record_outcome
from observatory.settings import load_settings
from polling import wait_for


def _status(*args):
    result = CliRunner().invoke(cli, ["status", *args])
    return result.exit_code, result.output


def _populate(settings):
    with EventStore(settings.events_db) as store:
        store.append([ingested(1), classified(1), extracted(1, n_rows=3)])
        store.append([ingested(2), failed(2, reason="blurred")])
        store.append([ingested(3)])  # waiting for OCR
        store.append([rejected("HEI/notes.png", code="not_an_image")])
        project_now(settings, store)
    blob = settings.blobs_dir / "ab" / ("ab" * 32 + ".jpg")
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"x" * 1000)


def test_empty_home_is_healthy(home):
    code, out = _status()
    assert code == 0, out
    assert "healthy" in out and "Last ingest: never" in out


def test_status_reports_counts_queue_failures_and_disk(home):
    settings = load_settings()
    _populate(settings)
    code, out = _status("--json")
    assert code == 0, out
    s = json.loads(out)
    counts = {(c["kind"], c["status"]): c["count"] for c in s["screenshots"]["counts"]}
    assert counts == {("bear_damage", "extracted"): 1, ("-", "failed"): 1, ("-", "ingested"): 1}
    assert s["queue_depth"] == 1
    assert s["screenshots"]["failures"][0]["error"] == "extract: blurred"
    assert s["screenshots"]["rejections"][0]["code"] == "not_an_image"
    assert s["blobs"] == {"files": 1, "bytes": 1000}
    assert s["last_ingest"] and s["last_ingest"].endswith("+00:00")
    assert {j["name"] for j in s["jobs"]} >= {"backup", "verify", "stale_check"}
    code, text = _status()
    assert "Queue: 1 screenshot(s) waiting for OCR" in text and "extract: blurred" in text


def test_unhealthy_when_a_job_failed_or_ingest_is_stale(home, monkeypatch):
    settings = load_settings()
    _populate(settings)
    record_outcome(settings, "backup", JobResult(False, "OSError: disk full"), started=None, seconds=0.1)
    code, out = _status()
    assert code == 1
    assert "UNHEALTHY" in out and "job backup failed" in out and "disk full" in out
    record_outcome(settings, "backup", JobResult(True, "ok"), started=None, seconds=0.1)
    assert _status()[0] == 0
    monkeypatch.setenv("OBSERVATORY_STALE_AFTER", "1s")
    out = wait_for(lambda: (lambda r: r[1] if r[0] == 1 else None)(_status()), 10, what="stale status")
    assert "stale: nothing ingested for" in out


def test_a_daemon_that_died_without_stopping_is_a_problem(home):
    settings = load_settings()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_json_atomic(settings.projections_dir / "health.json",
                      {"status": "ok", "pid": gone.pid, "updated_at": "2025-01-01T00:00:00+00:00"})
    code, out = _status()
    assert code == 1 and f"pid {gone.pid}) exited without a clean stop" in out
    write_json_atomic(settings.projections_dir / "health.json", {"status": "stopped", "pid": gone.pid})
    assert _status()[0] == 0


def test_nightly_check_finds_projection_drift_by_table_and_a_broken_chain(home):
    settings = load_settings()
    _populate(settings)
    report = nightly_check(settings)
    assert report.ok, report.summary()
    assert "screenshots" in report.compared_tables and "_checkpoints" not in report.compared_tables
    with sqlite3.connect(settings.projections_db) as conn:
        conn.execute("UPDATE extracted_rows SET name = 'Mallory' WHERE row_index = 0")
    report = nightly_check(settings)
    assert not report.ok
    assert [d.table for d in report.differences] == ["extracted_rows"]
    assert report.differences[0].only_live == 1 and report.differences[0].only_rebuilt == 1
    tamper(settings.events_db, "UPDATE events SET payload = replace(payload, 'HEI', 'XXX') WHERE seq = 1")
    report = nightly_check(settings)
    assert not report.ok and "BROKEN at sequence 1" in report.summary()


def test_nightly_check_compares_at_the_live_checkpoint_while_the_log_moves_on(home):
    settings = load_settings()
    _populate(settings)
    with EventStore(settings.events_db) as store:
        store.append([ingested(9), classified(9), extracted(9)])  # not projected yet
    assert nightly_check(settings).ok
