"""The event log keeps the same promises on SQLite and on a real PostgreSQL server.

The contract (append, read, idempotency, expected versions, upcasting, verify, tamper
detection) runs against both backends; then what only PostgreSQL has to prove: the
guards hold for its owner (triggers) and for the application's role (no rights), two
processes appending at once never fork the chain, appends reach a follower, and a log
migrated SQLite -> PostgreSQL -> SQLite keeps its hashes and replays to the same tables.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import classified, correction, extracted, ingested, screenshot_stream, sha, trap1_hunt
from paths import REPO
from pg_server import APPENDER, OWNER
from polling import wait_for
from stores import dump, run, tamper
from observatory.eventlog import ConcurrencyError, EventStore, KeySource, LogUnavailable, Pending
from observatory.eventlog.chain import GENESIS_HASH, link
from observatory.eventlog.migrate import copy, plan
from observatory.project import all_projectors
from observatory.project.rebuild import rebuild
from observatory.settings import SettingsError, load_settings, redact_url

KEY = KeySource(secret="k" * 32)


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path) -> str | Path:
    return tmp_path / "events.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def store(location):
    s = EventStore(location, key=KEY)
    yield s
    s.close()


# --- the contract, on both ------------------------------------------------------------------------

def test_append_read_and_envelope(store):
    done = store.append([ingested(1), classified(1), extracted(1), ingested(2)])
    assert [e.seq for e in done] == [1, 2, 3, 4]
    assert [e.stream_version for e in done] == [1, 2, 3, 1]
    assert [e.as_dict() for e in store.read()] == [e.as_dict() for e in done]
    assert (store.count(), store.last_seq(), store.head()) == (4, 4, (4, done[-1].hash))
    assert store.hash_at(2) == done[1].hash and store.hash_at(0) == GENESIS_HASH
    assert [e.seq for e in store.stream(screenshot_stream(1))] == [1, 2, 3]
    assert store.find_key(ingested(2).idempotency_key).seq == 4
    assert store.latest(["ScreenshotIngested"]).seq == 4 and store.earliest(["ScreenshotIngested"]).seq == 1
    assert [e.payload["sha256"] for e in store.unanswered("ScreenshotIngested", ["ScoresExtracted"])] == [sha(2)]
    assert store.stored_field("ScreenshotIngested", "sha256") == {sha(1), sha(2)}
    assert store.event_id_at(1) == done[0].event_id


def test_pages_filters_and_corrections(store):
    store.append([ingested(i) for i in range(25)] + [classified(i) for i in range(5)])
    store.append([correction({"kind": "retract", "screenshot_id": sha(1)}),
                  correction({"kind": "reclassify", "screenshot_id": sha(2), "new_kind": "members"})])
    assert [len(p) for p in store.read_pages(0, page=10)] == [10, 10, 10, 2]
    assert [e.seq for e in store.read(27, until=29)] == [28, 29]
    assert len(list(store.read(types=["ScreenshotClassified"]))) == 5
    assert [e.payload["correction"]["kind"] for e in store.corrections(["reclassify"])] == ["reclassify"]
    assert len(store.corrections(after=31)) == 1


def test_same_fact_twice_is_one_event(store):
    assert len(store.append([ingested(1)])) == 1
    assert store.append([ingested(1)]) == []
    assert len(store.append([ingested(2), ingested(2)])) == 1
    assert store.count() == 2


def test_expected_version_conflicts_and_the_batch_rolls_back(store):
    store.append([ingested(1)])
    with pytest.raises(ConcurrencyError):
        store.append([ingested(3), Pending(classified(1).event, screenshot_stream(1), expected_version=5)])
    assert store.count() == 1 and store.verify().ok
    assert store.append([Pending(classified(1).event, screenshot_stream(1), expected_version=1)])[0].stream_version == 2


def test_an_old_row_is_upcast_on_read_and_still_verifies(store):
    v1 = {"sha256": "ab" * 32, "path": "HEI/Screenshot_20251112_173538_Whiteout Survival.jpg", "byte_size": 1,
          "format": "JPEG", "width": 1, "height": 1, "captured_at": "2025-11-12T17:35:38+00:00", "blob_path": "b"}
    row = (1, "00000000-0000-0000-0000-000000000001", "ScreenshotIngested", 1, "screenshot-abab", 1,
           "2025-11-12T17:40:00+00:00", "2025-11-12T17:40:00+00:00", json.dumps(v1), "{}", None)
    store.copy_in([(*row, link(GENESIS_HASH, row, seq=1, keyed_from=store.keyed_from(), key=store.require_key()))])
    (ev,) = list(store.read())
    assert ev.schema_version == 1 and ev.event.community == "default" and ev.event.original_path == v1["path"]
    assert store.verify().ok


def test_verify_finds_the_first_altered_row(store, location):
    store.append([ingested(i) for i in range(10)])
    assert store.verify().ok and store.verify().checked == 10
    if store.kind == "sqlite":
        tamper(location, "UPDATE events SET payload = json_set(payload, '$.byte_size', 1) WHERE seq = 7")
    else:  # the owner switches the guard off first, as an attacker holding the owner's password would
        store.conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
        store.conn.execute("UPDATE events SET payload = replace(payload, '\"byte_size\":', '\"byte_size\":1') WHERE seq = 7")
    result = store.verify()
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 7, 6)


def test_the_database_refuses_update_and_delete(store):
    store.append([ingested(1)])
    for sql in ("UPDATE events SET payload = '{}'", "DELETE FROM events", "DELETE FROM log_meta"):
        with pytest.raises(Exception, match="append-only"):
            store.conn.execute(sql)  # behind the API, as someone holding the database would
    assert store.count() == 1 and store.verify().ok and store.missing_triggers() == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["ingest", "classify"])), min_size=1, max_size=6),
                min_size=1, max_size=5))
def test_both_backends_store_the_same_facts_for_any_batches(tmp_path_factory, pg_server, batches):
    """Duplicates, several streams, batches of any shape: the same rows in the same order, both chains whole."""
    logs = [EventStore(tmp_path_factory.mktemp("log") / "events.db", key=KEY),
            EventStore(pg_server.url(OWNER, pg_server.new_database()), key=KEY)]
    for s in logs:
        for batch in batches:
            s.append([ingested(i) if what == "ingest" else classified(i) for i, what in batch])
    facts = [[(e.seq, e.type, e.stream_id, e.stream_version, e.idempotency_key, e.payload) for e in s.read()]
             for s in logs]
    assert facts[0] == facts[1] and all(s.verify().ok for s in logs)
    for s in logs:
        s.close()


# --- PostgreSQL only -------------------------------------------------------------------------------

def test_postgres_guards_hold_for_the_owner_and_the_app_role_has_no_rights(pg_url):
    owner = EventStore(pg_url, key=KEY)
    owner.append([ingested(1)])
    for sql in ("UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events", "TRUNCATE log_meta",
                "UPDATE log_meta SET value = '9'"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            owner.conn.execute(sql)
    owner.backend.grant_appender(APPENDER)
    app = EventStore(pg_url.replace(owner.conn.info.user, APPENDER, 1), key=KEY)
    assert app.append([ingested(2)])[0].seq == 2  # it may append ...
    for sql in ("UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events", "DELETE FROM log_meta"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            app.conn.execute(sql)  # ... and nothing else, not even with the triggers out of the way:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
        app.conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
    assert app.verify().ok and app.count() == 2
    app.close()
    owner.close()


def test_postgres_dropped_guards_are_reported_and_repaired_on_purpose(pg_url):
    with EventStore(pg_url, key=KEY) as s:
        s.append([ingested(1)])
        s.conn.execute("DROP TRIGGER events_no_truncate ON events")
    with EventStore(pg_url, key=KEY) as s:  # opening does not paper over it
        assert s.missing_triggers() == ["events_no_truncate"]
        assert s.repair_triggers(actor="admin", reason="test") == ["events_no_truncate"]
        assert s.missing_triggers() == [] and s.latest(["LogRepaired"]).payload["names"] == ["events_no_truncate"]
        assert s.verify().ok


APPENDER_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from builders import ingested
from observatory.eventlog import EventStore, KeySource
store = EventStore(sys.argv[1], key=KeySource(secret="k" * 32))
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
for i in range(int(sys.argv[2]), int(sys.argv[2]) + 200):
    store.append([ingested(i)])
store.close()
"""


@pytest.mark.slow
def test_two_processes_appending_at_once_never_fork_the_chain(pg_url):
    EventStore(pg_url, key=KEY).close()  # the schema and the keying exist before the race
    script = APPENDER_SCRIPT.format(tests=str(REPO / "tests"))
    procs = [subprocess.Popen([sys.executable, "-c", script, pg_url, str(start)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for start in (0, 1000)]
    for p in procs:
        assert p.stdout.readline() == "ready\n"
    for p in procs:  # both start together
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        assert p.wait(timeout=120) == 0
    with EventStore(pg_url, key=KEY) as s:
        result = s.verify()
        assert (result.ok, result.checked) == (True, 400)
        writers = [e.payload["sha256"] for e in s.read()]
        assert len(set(writers)) == 400
        # they really interleaved: neither process's 200 events form one block
        first_200 = {e.payload["sha256"] for e in s.read(until=200)}
        assert first_200 != {sha(i) for i in range(200)}


def test_a_follower_wakes_on_an_append_from_another_connection(location):
    with EventStore(location, key=KEY) as writer, EventStore(location, key=KEY, readonly=True) as follower:
        writer.append([ingested(1)])
        woke: list[float] = []
        t = threading.Thread(target=lambda: woke.append(time.monotonic()) if follower.wait_for_append(1, 30) else None)
        started = time.monotonic()
        t.start()
        writer.append([ingested(2)])
        t.join(35)
        assert woke and woke[0] - started < 5  # the NOTIFY (or SQLite's polling) woke it, not the timeout
        assert follower.wait_for_append(2, 0.2) is False


def test_a_store_whose_session_the_server_dropped_opens_a_new_one(pg_url):
    with EventStore(pg_url, key=KEY) as s, psycopg.connect(pg_url, autocommit=True) as admin:
        s.append([ingested(1)])
        admin.execute("SELECT pg_terminate_backend(%s)", (s.backend.conn.info.backend_pid,))
        with pytest.raises(psycopg.OperationalError):
            s.append([ingested(2)])  # the call in flight fails ...
        assert s.append([ingested(2)])[0].seq == 2 and s.verify().ok  # ... the next one reconnects


def _projected(home: Path) -> int:
    db = home / "projections" / "observatory.db"
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM screenshots").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # the tables are not there yet
    finally:
        conn.close()


@pytest.mark.slow
def test_the_serving_node_projects_what_another_machine_appends(tmp_path, pg_url):
    env = {**os.environ, "OBSERVATORY_HOME": str(tmp_path), "OBSERVATORY_DATABASE_URL": pg_url,
           "OBSERVATORY_LOG_KEY": "k" * 32, "OBSERVATORY_WORKERS": "1"}
    with open(tmp_path / "watch.log", "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "observatory", "watch"], env=env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=out)
    try:
        wait_for(lambda: "watching" in (tmp_path / "watch.log").read_text(), timeout=60, what="the daemon to start")
        with EventStore(pg_url, key=KEY) as elsewhere:  # another machine's ingest, straight into the shared log
            elsewhere.append([ingested(1), ingested(2)])
        wait_for(lambda: _projected(tmp_path) == 2, timeout=30, what="the node to project the other machine's appends")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert not (tmp_path / "events" / "events.db").exists()


def test_an_unreachable_server_is_one_line():
    with pytest.raises(LogUnavailable, match=r"^cannot open the event log at postgresql://u:\*\*\*@127.0.0.1:1/db: "):
        EventStore("postgresql://u:secret@127.0.0.1:1/db", key=KEY)


# --- migration ---------------------------------------------------------------------------------------

def _hunt_log(path: Path) -> EventStore:
    s = EventStore(path, key=KEY)
    for batch in trap1_hunt():
        s.append(batch)
    return s


def test_a_migrated_log_keeps_its_hashes_and_replays_to_the_same_projections(tmp_path, pg_url):
    src = _hunt_log(tmp_path / "events.db")
    pg = EventStore(pg_url, key=KEY, keying=False)
    todo = plan(src, pg)
    assert (todo.events, todo.meta) == (src.count(), src.all_meta())
    assert copy(src, pg, todo) == src.count()
    back = EventStore(tmp_path / "back.db", key=KEY, keying=False)
    assert copy(pg, back, plan(pg, back)) == src.count()
    for s in (pg, back):
        assert [r for page in s.raw_pages() for r in page] == [r for page in src.raw_pages() for r in page]
        assert s.verify().ok and s.all_meta() == src.all_meta()
    assert plan(src, pg).events == 0 and copy(src, pg, plan(src, pg)) == 0  # idempotent
    src.append([ingested(99)])
    assert copy(src, pg, plan(src, pg)) == 1 and pg.head() == src.head()
    tables = {}
    for name, s in (("sqlite", src), ("postgresql", pg)):
        rebuild(s, tmp_path / f"{name}.db", all_projectors())
        tables[name] = dump(tmp_path / f"{name}.db")
    assert tables["sqlite"] == tables["postgresql"] and tables["sqlite"]["screenshots"]
    for s in (src, pg, back):
        s.close()


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "OBSERVATORY_HOME": str(home), "OBSERVATORY_LOG_KEY": "k" * 32, **env}
    return subprocess.run([sys.executable, "-m", "observatory", *args], cwd=home, env=full, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
def test_migrate_log_command(tmp_path, pg_url):
    _hunt_log(tmp_path / "events" / "events.db").close()
    dry = _cli(tmp_path, "migrate-log", "--to", pg_url, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would copy 15 events (sequences 1-15) and the keying record" in dry.stdout
    with EventStore(pg_url, key=KEY, readonly=True) as s:
        assert not s._has_table("events")  # the dry run wrote nothing
    done = _cli(tmp_path, "migrate-log", "--to", pg_url)
    assert done.returncode == 0, done.stderr
    assert "Copied 15 events" in done.stdout and "Verified both chains" in done.stderr
    again = _cli(tmp_path, "migrate-log", "--to", pg_url)
    assert again.returncode == 0 and "Copied 0 events" in again.stdout
    back = _cli(tmp_path, "migrate-log", "--to", f"sqlite:{tmp_path / 'back.db'}", OBSERVATORY_DATABASE_URL=pg_url)
    assert back.returncode == 0 and "Copied 15 events" in back.stdout
    verify = _cli(tmp_path, "verify", OBSERVATORY_DATABASE_URL=pg_url)
    assert verify.returncode == 0 and verify.stdout.startswith("OK: 15 events")
    for bad, why in (("mysql://h/db", "unsupported log location mysql://"),
                     ("postgresql://u:pw@127.0.0.1:1/db", "cannot open the event log at postgresql://u:***@127.0.0.1:1/db")):
        r = _cli(tmp_path, "migrate-log", "--to", bad)
        assert r.returncode == 2 and r.stderr.startswith(f"Error: {why}") and len(r.stderr.splitlines()) == 1
        assert "Traceback" not in r.stderr and "pw@" not in r.stderr


def test_a_fresh_shared_log_set_up_by_its_owner_is_appended_to_by_the_app_role(home, pg_url, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_LOG_KEY", "k" * 32)
    r = run("migrate-log", "--to", pg_url, "--app-role", APPENDER)  # no log here yet: just the tables and the grant
    assert r.exit_code == 0 and "Copied 0 events" in r.output and f"{APPENDER} may SELECT and INSERT only" in r.output
    app_url = pg_url.replace(OWNER, APPENDER, 1)
    monkeypatch.setenv("OBSERVATORY_DATABASE_URL", app_url)
    assert run("project").exit_code == 0
    with EventStore(app_url, key=KEY) as s:
        s.append([ingested(1)])  # the app role keys the log on first open and appends
        assert s.keyed_from() == 1
    r = run("verify")
    assert r.exit_code == 0 and r.output.startswith("OK: 1 events")
    assert not (home / "events" / "events.db").exists()  # nothing fell back to a SQLite file


@pytest.mark.parametrize("url", ["sqlite:x.db", "postgresql://h:notaport/db", "postgresql://h:5432"])
def test_a_database_url_that_names_no_postgresql_database_stops_start_up(url):
    with pytest.raises(SettingsError, match=r"^invalid setting OBSERVATORY_DATABASE_URL: .*expected postgresql://"):
        load_settings(database_url=url)
    assert "pw@" not in redact_url("postgresql://u:pw@h/db") and load_settings(database_url="postgres://h/db")
