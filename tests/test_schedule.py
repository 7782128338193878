"""Scheduled jobs: settings to schedules, a real APScheduler with short intervals, the staleness webhook."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from builders import ingested
from observatory.cli import cli
from observatory.eventlog import EventStore
from observatory.health.files import read_json
from observatory.health.healthfile import read_health
from observatory.health.outcomes import JobResult, load_outcomes
from observatory.schedule.service import Operations
from observatory.durations import format_duration, parse_duration, parse_spec
from observatory.schedule.staleness import assess
from observatory.settings import load_settings
from polling import wait_for
from webhook_stub import WebhookStub

ALL_OFF = {f"schedule_{j}": "off" for j in ("rescan", "stale_check", "retention", "backup", "verify")}


@given(st.integers(min_value=1, max_value=10 * 86400))
def test_formatted_durations_parse_back_to_at_most_the_same_length(seconds):
    text = format_duration(seconds)
    assert 0 < parse_duration(text) <= seconds


@pytest.mark.parametrize("text, seconds", [("24h", 86400), ("90m", 5400), ("2d", 172800), ("3600", 3600), ("1h30m", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "", "-5", "0", "1h30", "5x"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_specs():
    assert parse_spec("off").kind == "off"
    assert parse_spec("every 10m").seconds == 600
    assert parse_spec("0 3 * * *").cron == "0 3 * * *"
    assert parse_spec("auto", auto_seconds=300).seconds == 300
    with pytest.raises(ValueError):
        parse_spec("daily")


def test_bad_schedule_setting_is_one_clear_line(home, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_SCHEDULE_BACKUP", "61 3 * * *")
    result = CliRunner().invoke(cli, ["schedule"])
    assert result.exit_code == 2
    assert "OBSERVATORY_SCHEDULE_BACKUP" in result.output


def test_schedule_lists_jobs_with_next_runs_from_settings(home, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_SCHEDULE_BACKUP", "0 3 * * *")
    monkeypatch.setenv("OBSERVATORY_SCHEDULE_VERIFY", "off")
    result = CliRunner().invoke(cli, ["schedule", "--json"])
    assert result.exit_code == 0, result.output
    jobs = {j["name"]: j for j in json.loads(result.output)}
    assert set(jobs) == {"rescan", "stale_check", "retention", "backup", "verify"}
    nxt = datetime.fromisoformat(jobs["backup"]["next_run"])
    assert (nxt.hour, nxt.minute, nxt.utcoffset()) == (3, 0, timedelta(0))
    assert jobs["verify"]["next_run"] is None
    assert jobs["retention"]["next_run"] is None and "RETENTION=keep" in jobs["retention"]["schedule"]
    rescan = datetime.fromisoformat(jobs["rescan"]["next_run"])
    assert timedelta(seconds=250) < rescan - datetime.now(timezone.utc) <= timedelta(seconds=300)
    text = CliRunner().invoke(cli, ["schedule"]).output
    assert "backup" in text and "cron 0 3 * * *" in text


def test_real_scheduler_runs_jobs_records_outcomes_and_waits_for_a_running_job_on_stop(home):
    settings = load_settings(**{**ALL_OFF, "schedule_backup": "every 0.3s", "health_seconds": 1})
    EventStore(settings.events_db).append([ingested(1)])
    entered, release = threading.Event(), threading.Event()

    def slow_verify(state):
        entered.set()
        release.wait(10)
        return JobResult(True, "slow job finished")

    ops = Operations(load_settings(**{**ALL_OFF, "schedule_backup": "every 0.3s", "schedule_verify": "every 0.2s",
                                      "health_seconds": 1}), overrides={"verify": slow_verify})
    ops.start()
    try:
        wait_for(lambda: len(list((home / "events" / "backups").glob("events-*.db"))) >= 2, 20, what="two backups")
        wait_for(lambda: load_outcomes(settings).get("backup", {}).get("ok"), 10, what="a recorded backup outcome")
        assert read_health(settings)["status"] in ("ok", "degraded")
        assert entered.wait(10)
    finally:
        threading.Timer(0.5, release.set).start()
        ops.stop()  # must wait for the slow job
    assert load_outcomes(settings)["verify"]["summary"] == "slow job finished"
    assert read_health(settings)["status"] == "stopped"


def test_assess_alerts_once_per_stale_period():
    now = datetime(2025, 11, 20, 12, tzinfo=timezone.utc)
    last = now - timedelta(hours=25)
    first = assess(now, last, 86400, None)
    assert first.stale and first.alert
    assert not assess(now, last, 86400, first.period).alert
    assert not assess(now, now - timedelta(hours=1), 86400, None).stale


@pytest.mark.slow
def test_stale_ingest_posts_the_webhook_with_retries_once_per_period(home, caplog):
    caplog.set_level(logging.INFO)
    with WebhookStub([500, 204]) as stub:
        settings = load_settings(**{**ALL_OFF, "schedule_stale_check": "every 0.3s", "stale_after": "1s",
                                    "alert_webhook_url": stub.url})
        EventStore(settings.events_db).append([ingested(1)])
        ops = Operations(settings)
        ops.start()
        try:
            wait_for(lambda: stub.statuses == [500, 204], 20, what="a failed then a delivered POST")
            wait_for(lambda: "already alerted" in (load_outcomes(settings).get("stale_check", {}).get("summary") or ""),
                     20, what="a later check that does not alert again")
        finally:
            ops.stop()
    assert len(stub.received) == 2
    assert "nothing ingested for" in stub.received[-1]["content"]
    assert any(r.levelno == logging.WARNING and "nothing ingested" in r.getMessage() for r in caplog.records)
    assert stub.url not in caplog.text and "secret-token" not in caplog.text
    result = CliRunner().invoke(cli, ["config"], env={"OBSERVATORY_ALERT_WEBHOOK_URL": stub.url})
    assert "secret-token" not in result.output


def test_rescan_job_asks_the_inbox(home):
    calls = []
    ops = Operations(load_settings(**{**ALL_OFF, "schedule_rescan": "every 0.2s"}), rescan=lambda: calls.append(1))
    ops.start()
    try:
        wait_for(lambda: len(calls) >= 2, 10, what="two scheduled rescans")
    finally:
        ops.stop()


@pytest.mark.slow
def test_watch_daemon_runs_the_scheduler_and_stops_it_on_sigterm(home):
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "OBSERVATORY_POLLING": "true", "OBSERVATORY_WORKERS": "1",
           "OBSERVATORY_SCHEDULE_BACKUP": "every 1s", "OBSERVATORY_HEALTH_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "observatory", "watch"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    health = home / "projections" / "health.json"
    try:
        wait_for(lambda: list((home / "events" / "backups").glob("events-*.db")), 30, what="a scheduled backup")
        running = wait_for(lambda: (lambda h: h if h and h.get("status") == "ok" else None)(read_json(health)), 10,
                           what="a fresh health file")
        assert running["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert "Jobs: rescan every 5m" in err and "scheduler stopped" in err
    assert read_json(health)["status"] == "stopped"
