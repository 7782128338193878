"""Online backups and restore: real SQLite files, verified hash chains, the CLI as a user runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from click.testing import CliRunner

from builders import extracted, ingested
from stores import tamper
from observatory.backup.online import list_backups
from observatory.cli import cli
from observatory.eventlog import EventStore, key_source
from observatory.health.files import write_json_atomic
from observatory.process.pipeline import project_now
from observatory.settings import load_settings


def _log(home, n):
    settings = load_settings()
    with EventStore(settings.events_db) as store:
        for i in range(n):
            store.append([ingested(i), extracted(i)])
    return settings


def _screenshots(settings):
    with sqlite3.connect(settings.projections_db) as conn:
        return conn.execute("SELECT COUNT(*) FROM screenshots").fetchone()[0]


def test_backup_while_a_writer_holds_the_log_open_and_keep_the_newest(home, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_BACKUP_KEEP", "2")
    settings = _log(home, 3)
    writer = EventStore(settings.events_db)  # an open writer, as in a running daemon
    runner = CliRunner()
    for i in range(3):
        writer.append([ingested(100 + i)])
        result = runner.invoke(cli, ["backup"])
        assert result.exit_code == 0, result.output
        assert "hash chain verified" in result.output
    writer.close()
    backups = list_backups(load_settings())
    assert len(backups) == 2
    assert all(p.name.startswith("events-") and "Z" in p.name for p in backups)
    with EventStore(backups[-1], readonly=True, key=key_source(settings)) as b:  # a backup checks with the log's key
        assert b.count() == 3 * 2 + 3 and b.verify().ok
    assert not os.path.exists(f"{backups[-1]}-wal")  # one self-contained file


def test_restore_replaces_the_log_keeps_the_old_one_and_passes_verify(home):
    settings = _log(home, 4)
    runner = CliRunner()
    assert runner.invoke(cli, ["backup"]).exit_code == 0
    backup = list_backups(settings)[-1]
    with EventStore(settings.events_db) as store:
        store.append([ingested(50), ingested(51)])
        project_now(settings, store)
    assert _screenshots(settings) == 6

    result = runner.invoke(cli, ["restore", backup.name])
    assert result.exit_code == 0, result.output
    assert "Restored 8 events" in result.output
    before = list(settings.events_dir.glob("events.db.*.before-restore"))
    assert len(before) == 1
    with EventStore(before[0], readonly=True) as old:
        assert old.count() == 10
    verify = runner.invoke(cli, ["verify"])
    assert verify.exit_code == 0 and "OK: 8 events" in verify.output
    assert _screenshots(settings) == 4  # projections rebuilt from the restored log


def test_restore_refuses_a_tampered_backup_and_leaves_the_log_alone(home):
    settings = _log(home, 3)
    assert CliRunner().invoke(cli, ["backup"]).exit_code == 0
    backup = list_backups(settings)[-1]
    tamper(backup, "UPDATE events SET payload = replace(payload, 'HEI', 'XXX') WHERE seq = 2")
    result = CliRunner().invoke(cli, ["restore", str(backup)])
    assert result.exit_code == 1
    assert "hash chain is broken at sequence 2" in result.output
    with EventStore(settings.events_db, readonly=True) as store:
        assert store.count() == 6
    assert not list(settings.events_dir.glob("*.before-restore"))


def test_restore_refuses_while_a_daemon_runs_and_rejects_non_logs(home):
    settings = _log(home, 1)
    assert CliRunner().invoke(cli, ["backup"]).exit_code == 0
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_json_atomic(settings.projections_dir / "health.json", {"status": "ok", "pid": other.pid})
        result = CliRunner().invoke(cli, ["restore", str(list_backups(settings)[-1])])
        assert result.exit_code == 1 and f"daemon is running (pid {other.pid})" in result.output
    finally:
        other.kill()
        other.wait()
    junk = home / "notes.db"
    junk.write_text("not a database")
    result = CliRunner().invoke(cli, ["restore", str(junk)])
    assert result.exit_code == 1 and "not a readable event log" in result.output
    result = CliRunner().invoke(cli, ["restore", "events-nope.db"])
    assert result.exit_code == 1 and "no such backup" in result.output
