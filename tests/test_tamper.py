"""Tamper evidence of the event log: each attack of issue 13 is caught by the real `observatory` commands.

The attacker works on the real SQLite file with raw SQL, as anyone who can write
`events.db` could, and (unless the test is about the triggers) puts the guard
triggers back afterwards so that only the attack under test is visible.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from builders import extracted, ingested
from observatory.backup.online import backup_head, list_backups
from observatory.eventlog import EventStore, key_source
from observatory.eventlog.chain import GENESIS_HASH, row_hash
from observatory.eventlog.store import TRIGGERS
from observatory.health.consistency import nightly_check
from observatory.settings import load_settings
from polling import wait_for

QUIET = {f"OBSERVATORY_SCHEDULE_{j}": "off" for j in ("RESCAN", "STALE_CHECK", "RETENTION", "BACKUP", "VERIFY")}

# The log as Observatory wrote it before keying: same table, sha256 chain, no log_meta.
OLD_SCHEMA = """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, schema_version INTEGER NOT NULL,
    stream_id TEXT NOT NULL, stream_version INTEGER NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
    payload TEXT NOT NULL, metadata TEXT NOT NULL, idempotency_key TEXT UNIQUE, hash TEXT NOT NULL,
    UNIQUE (stream_id, stream_version));
CREATE INDEX events_type ON events (type, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
"""


def obs(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in the test's home (OBSERVATORY_HOME from the `home` fixture)."""
    return subprocess.run([sys.executable, "-m", "observatory", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **QUIET, **(env or {})})


def make_log(n: int) -> Path:
    """A log of n screenshots (ingested + extracted each), written by the product's own store."""
    settings = load_settings()
    with EventStore(settings.events_db) as store:
        for i in range(n):
            store.append([ingested(i), extracted(i)])
    return settings.events_db


def attack(db: Path, *statements: str, leave_dropped: bool = False) -> None:
    """Raw SQL past the guards; the event triggers are put back afterwards unless `leave_dropped`."""
    with closing(sqlite3.connect(db)) as raw:
        raw.execute("DROP TRIGGER IF EXISTS events_no_update")
        raw.execute("DROP TRIGGER IF EXISTS events_no_delete")
        for sql in statements:
            raw.execute(sql)
        if not leave_dropped:  # a careful attacker covers their tracks
            raw.execute(TRIGGERS["events_no_update"])
            raw.execute(TRIGGERS["events_no_delete"])
        raw.commit()


def rechain_unkeyed(db: Path, start: int) -> None:
    """Recompute every hash from `start` on with the product's own (unkeyed) hash function."""
    with closing(sqlite3.connect(db)) as raw:
        cols = [r[1] for r in raw.execute("PRAGMA table_info(events)") if r[1] != "hash"]
        prev = raw.execute("SELECT hash FROM events WHERE seq = ?", (start - 1,)).fetchone()
        prev_hash = prev[0] if prev else GENESIS_HASH
        rows = raw.execute(f"SELECT {', '.join(cols)} FROM events WHERE seq >= ? ORDER BY seq", (start,)).fetchall()
        fixed = []
        for row in rows:
            prev_hash = row_hash(prev_hash, row)
            fixed.append((prev_hash, row[0]))
    attack(db, *[f"UPDATE events SET hash = '{h}' WHERE seq = {s}" for h, s in fixed])


def triggers(db: Path) -> set[str]:
    with closing(sqlite3.connect(db)) as raw:
        return {n for (n,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def anchor(home: Path) -> dict:
    return json.loads((home / "events" / "anchor.json").read_text())


# --- 1. the last event deleted ---------------------------------------------------------


@pytest.mark.slow
def test_deleting_the_last_event_is_a_log_that_ends_before_its_anchored_head(home):
    db = make_log(9)  # 18 events
    ok = obs("verify")
    assert ok.returncode == 0, ok.stderr
    attack(db, "DELETE FROM events WHERE seq = 18")
    bad = obs("verify")
    assert bad.returncode == 1, bad.stdout
    assert "the log ends before the anchored head (sequence 18)" in bad.stderr
    assert "intact" not in bad.stdout
    assert anchor(home)["seq"] == 18  # a failed check never moves the anchor back


# --- 2. a payload edited and the chain recomputed without the key -----------------------


@pytest.mark.slow
def test_an_edit_rechained_with_the_unkeyed_hash_function_fails_verify_and_the_nightly_job(home):
    db = make_log(9)
    attack(db, "UPDATE events SET payload = replace(payload, 'HEI', 'XXX') WHERE seq = 5")
    rechain_unkeyed(db, 5)
    bad = obs("verify")  # no anchor yet: the key alone catches it
    assert bad.returncode == 1, bad.stdout
    assert "BROKEN at sequence 5" in bad.stderr and "keyed hash (HMAC) mismatch" in bad.stderr
    report = nightly_check(load_settings())
    assert not report.ok
    assert "BROKEN at sequence 5" in report.summary() and "match a rebuild" not in report.summary()


@pytest.mark.slow
@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1, max_value=12), data=st.data())
def test_any_row_rewritten_without_the_key_is_the_first_broken_one(tmp_path_factory, n, data):
    folder = tmp_path_factory.mktemp("log")
    db = folder / "events.db"
    with EventStore(db) as store:
        store.append([ingested(i) for i in range(n)])
    k = data.draw(st.integers(min_value=1, max_value=n), label="rewritten seq")
    attack(db, f"UPDATE events SET payload = json_set(payload, '$.byte_size', 1) WHERE seq = {k}")
    rechain_unkeyed(db, k)
    with EventStore(db, readonly=True) as store:
        result = store.verify()
    assert (result.ok, result.first_broken_seq) == (False, k)


def test_declaring_the_log_unkeyed_and_rechaining_it_all_is_caught(home):
    db = make_log(3)
    attack(db, "DROP TABLE log_meta")
    rechain_unkeyed(db, 1)
    bad = obs("verify")
    assert bad.returncode == 1
    assert "no record of its keying" in bad.stderr


# --- 3. the triggers dropped -------------------------------------------------------------


@pytest.mark.slow
def test_dropped_triggers_are_named_stay_dropped_on_reopen_and_are_repaired_on_purpose(home):
    db = make_log(2)
    attack(db, leave_dropped=True)  # drop the guards, change nothing else
    verify = obs("verify")
    assert verify.returncode == 1
    assert "events_no_update" in verify.stderr and "events_no_delete" in verify.stderr
    status = obs("status")
    assert status.returncode == 1 and "UNHEALTHY" in status.stdout
    assert "events_no_update" in status.stdout and "events_no_delete" in status.stdout

    EventStore(db).close()  # reopening the log, as the daemon does on start
    assert obs("project").returncode == 0  # and a command that writes
    assert not triggers(db) & {"events_no_update", "events_no_delete"}

    dry = obs("repair-triggers", "--dry-run")
    assert dry.returncode == 0 and "Would re-create: events_no_update, events_no_delete" in dry.stdout
    repaired = obs("repair-triggers", "--reason", "found dropped by the audit")
    assert repaired.returncode == 0, repaired.stderr
    assert {"events_no_update", "events_no_delete"} <= triggers(db)
    events = [json.loads(line) for line in obs("events", "--type", "LogRepaired", "--json").stdout.splitlines()]
    assert [(e["payload"]["names"], e["payload"]["reason"]) for e in events] == [
        (["events_no_update", "events_no_delete"], "found dropped by the audit")]
    assert obs("verify").returncode == 0
    assert obs("repair-triggers").stdout.startswith("Nothing to repair")  # idempotent: no second event
    assert len(obs("events", "--type", "LogRepaired").stdout.splitlines()) == 1


def test_a_new_log_gets_its_triggers(home):
    db = make_log(1)
    assert {"events_no_update", "events_no_delete", "log_meta_no_update", "log_meta_no_delete"} <= triggers(db)


# --- 4. status sees a broken chain without waiting for the nightly job -----------------------


@pytest.mark.slow
def test_status_is_unhealthy_on_a_broken_chain_checked_from_the_anchor(home):
    db = make_log(3)
    first = obs("status", "--json")
    assert first.returncode == 0, first.stdout
    with EventStore(db) as store:  # more events after the anchor, then one of them is edited in place
        store.append([ingested(10), extracted(10)])
    attack(db, "UPDATE events SET payload = replace(payload, 'HEI', 'XXX') WHERE seq = 7")
    bad = obs("status", "--json")
    assert bad.returncode == 1
    s = json.loads(bad.stdout)
    assert s["healthy"] is False
    assert any("hash chain broken at sequence 7" in p for p in s["problems"])
    assert s["event_log"]["first_broken_seq"] == 7 and s["event_log"]["anchored_seq"] == 6


@pytest.mark.slow
def test_status_catches_a_rechained_log_before_the_anchor(home):
    db = make_log(3)
    assert obs("status").returncode == 0  # anchors sequence 6
    attack(db, "UPDATE events SET payload = replace(payload, 'HEI', 'XXX') WHERE seq = 2")
    rechain_unkeyed(db, 2)
    bad = obs("status")
    assert bad.returncode == 1
    assert "anchored head (sequence 6) no longer has its anchored hash" in bad.stdout


# --- 5. replay, watch and run refuse a broken chain ------------------------------------------


@pytest.mark.slow
def test_replay_refuses_a_broken_chain_in_one_line_unless_accepted(home):
    db = make_log(3)
    attack(db, "UPDATE events SET payload = replace(payload, 'HEI', 'XXX') WHERE seq = 4")
    refused = obs("replay")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken at sequence 4" in lines[0] and "--accept-broken-chain" in lines[0]
    assert not (home / "projections" / "observatory.db").exists()
    accepted = obs("replay", "--accept-broken-chain")
    assert accepted.returncode == 0, accepted.stderr
    assert "Replayed 6 events" in accepted.stdout and "broken at sequence 4" in accepted.stderr


@pytest.mark.slow
def test_watch_and_run_refuse_a_broken_chain_unless_accepted(home):
    db = make_log(2)
    assert obs("verify").returncode == 0
    attack(db, "DELETE FROM events WHERE seq = 4")
    for command in ("watch", "run"):
        refused = obs(command)
        assert refused.returncode == 1, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "broken at sequence 4" in lines[0], refused.stderr
        assert "ends before the anchored head (sequence 4)" in lines[0]

    env = {**os.environ, **QUIET, "OBSERVATORY_WORKERS": "1", "OBSERVATORY_OCR_ENGINE": "tesseract"}
    proc = subprocess.Popen([sys.executable, "-m", "observatory", "watch", "--accept-broken-chain"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen: list[str] = []

        def started() -> bool:
            line = proc.stderr.readline()  # type: ignore[union-attr]
            seen.append(line)
            return "Observatory is running." in line or proc.poll() is not None

        wait_for(started, 60, what="watch's banner")
        assert proc.poll() is None, "".join(seen)
        assert any("building projections anyway" in line for line in seen)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


# --- the head in every backup --------------------------------------------------------------


@pytest.mark.slow
def test_a_backup_carries_the_head_and_one_cut_short_is_refused(home):
    db = make_log(3)
    made = obs("backup")
    assert made.returncode == 0, made.stderr
    settings = load_settings()
    (backup,) = list_backups(settings)
    with EventStore(db, readonly=True) as live:
        head = live.head()
    assert backup_head(backup) == head == (6, anchor(home)["hash"])
    attack(backup, "DELETE FROM events WHERE seq = 6")
    refused = obs("restore", backup.name)
    assert refused.returncode == 1
    assert "ends before the head its backup recorded (sequence 6)" in refused.stderr


@pytest.mark.slow
def test_restore_moves_the_anchor_back_to_the_restored_head(home):
    db = make_log(2)
    assert obs("backup").returncode == 0
    with EventStore(db) as store:
        store.append([ingested(7), ingested(8)])
    assert obs("verify").returncode == 0 and anchor(home)["seq"] == 6
    restored = obs("restore", list_backups(load_settings())[-1].name)
    assert restored.returncode == 0, restored.stderr
    assert anchor(home)["seq"] == 4
    assert obs("verify").returncode == 0


# --- the key ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_key_file_is_made_0600_and_the_key_is_never_printed(home):
    assert obs("project").returncode == 0  # the first start on a fresh home
    key_file = home / "events" / "log.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    shown = obs("config")
    assert "OBSERVATORY_LOG_KEY " in shown.stdout and "unset" in shown.stdout.split("OBSERVATORY_LOG_KEY ")[1].split("\n")[0]
    for args in (("verify",), ("status", "--json"), ("config", "--json"), ("events",)):
        out = obs(*args)
        assert key not in out.stdout + out.stderr
    wrong = obs("project", env={"OBSERVATORY_LOG_KEY": "another-key-of-enough-length"})
    assert wrong.returncode == 2 and "is not the key of the event log" in wrong.stderr
    assert "another-key-of-enough-length" not in wrong.stderr


@pytest.mark.slow
def test_a_key_from_the_setting_makes_no_file_and_shows_as_set(home):
    secret = "s3cret-value-for-the-log-chain"
    env = {"OBSERVATORY_LOG_KEY": secret}
    assert obs("project", env=env).returncode == 0
    assert not (home / "events" / "log.key").exists()
    with EventStore(home / "events" / "events.db", key=key_source(load_settings(log_key=secret))) as store:
        store.append([ingested(1)])
    ok = obs("verify", env=env)
    assert ok.returncode == 0 and "keyed (HMAC-SHA256) from sequence 1" in ok.stdout
    assert obs("verify").returncode == 1  # without the key the keyed events cannot be checked
    shown = obs("config", env=env).stdout
    assert secret not in shown and "set" in shown.split("OBSERVATORY_LOG_KEY ")[1].split("\n")[0]
    short = obs("config", env={"OBSERVATORY_LOG_KEY": "short"})
    assert short.returncode == 2 and "OBSERVATORY_LOG_KEY" in short.stderr and "'short'" not in short.stderr


@pytest.mark.slow
def test_a_log_written_before_keying_still_verifies_and_is_keyed_from_the_next_event(home):
    db = home / "events" / "events.db"
    db.parent.mkdir()
    prev = GENESIS_HASH
    with closing(sqlite3.connect(db)) as raw:
        raw.executescript(OLD_SCHEMA)
        for seq in (1, 2, 3):
            row = (seq, f"00000000-0000-0000-0000-00000000000{seq}", "DuplicateSighted", 1, "screenshot-ab", seq,
                   "2025-11-12T17:40:00+00:00", "2025-11-12T17:40:00+00:00",
                   json.dumps({"sha256": "ab" * 32, "community": "HEI", "original_path": f"HEI/{seq}.png",
                               "file_name": f"{seq}.png"}), "{}", None)
            prev = row_hash(prev, row)
            raw.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (*row, prev))
        raw.commit()
    old = obs("verify")
    assert old.returncode == 0, old.stderr
    assert "OK: 3 events" in old.stdout and "unkeyed (sha256): protected by the anchor only" in old.stdout
    with EventStore(db) as store:  # the first open by this version keys the chain from the next event on
        assert store.keyed_from() == 4
        store.append([ingested(1)])
    new = obs("verify")
    assert new.returncode == 0, new.stderr
    assert "OK: 4 events" in new.stdout and "keyed (HMAC-SHA256) from sequence 4" in new.stdout
    # The unkeyed rows are protected by the anchor only: rewriting them and their chain is caught there.
    attack(db, "UPDATE events SET payload = replace(payload, 'HEI', 'XXX') WHERE seq = 2")
    rechain_unkeyed(db, 2)
    bad = obs("verify")
    assert bad.returncode == 1
    assert "keyed hash (HMAC) mismatch" in bad.stderr  # row 4 is keyed and chains from the rewritten row 3
    assert "anchored head (sequence 4) no longer has its anchored hash" in bad.stderr
