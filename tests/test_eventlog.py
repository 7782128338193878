"""The event log: append-only for real, idempotent, ordered, tamper-evident, upcasting."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import classified, extracted, ingested, screenshot_stream, sha
from stores import tamper
from observatory.eventlog import ConcurrencyError, EventStore, Pending, ScreenshotIngested
from observatory.eventlog.store import GENESIS_HASH


@pytest.fixture
def store(tmp_path):
    s = EventStore(tmp_path / "events.db")
    yield s
    s.close()


def test_log_is_wal_with_full_sync(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_append_assigns_monotonic_seq_stream_versions_and_utc_times(store):
    done = store.append([ingested(1), classified(1), extracted(1), ingested(2)])
    assert [e.seq for e in done] == [1, 2, 3, 4]
    assert [e.stream_version for e in done] == [1, 2, 3, 1]
    for e in done:
        assert e.recorded_at.endswith("+00:00") and e.occurred_at.endswith("+00:00")
        assert e.metadata["software_version"]
        assert e.metadata["actor"]
    assert done[0].metadata["correlation_id"] == sha(1)


def test_update_and_delete_are_refused_by_the_database(store):
    store.append([ingested(1)])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE events SET payload = '{}'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM events")
    assert store.count() == 1


def test_store_api_has_no_way_to_change_a_row():
    mutators = [n for n in dir(EventStore) if any(w in n.lower() for w in ("update", "delete", "remove", "edit", "truncate"))]
    assert mutators == []


def test_same_fact_twice_is_a_no_op(store):
    assert len(store.append([ingested(1)])) == 1
    assert store.append([ingested(1)]) == []
    assert store.append_one(ingested(1).event, screenshot_stream(1), idempotency_key=ingested(1).idempotency_key) is None
    # within one batch too
    assert len(store.append([ingested(2), ingested(2)])) == 1
    assert store.count() == 2


def test_batch_is_atomic(store):
    store.append([ingested(1)])
    bad = Pending(classified(2).event, screenshot_stream(2), expected_version=5)
    with pytest.raises(ConcurrencyError):
        store.append([ingested(3), bad])
    assert store.count() == 1  # ingested(3) was rolled back with the failed batch
    assert store.verify().ok


def test_racing_writers_on_one_stream_conflict_instead_of_interleaving(tmp_path):
    path = tmp_path / "events.db"
    EventStore(path).append([ingested(1)])
    results: list[str] = []

    def writer() -> None:
        s = EventStore(path)
        try:
            s.append([Pending(classified(1).event, screenshot_stream(1), expected_version=1)])
            results.append("ok")
        except ConcurrencyError:
            results.append("conflict")
        finally:
            s.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 3 + ["ok"]
    versions = [e.stream_version for e in EventStore(path).stream(screenshot_stream(1))]
    assert versions == [1, 2]


def test_processes_opening_a_new_log_at_once_all_get_it(tmp_path):
    """A fresh home: `observatory run`'s inbox and pipeline open events.db at the same moment."""
    for attempt in range(10):
        path = tmp_path / f"events-{attempt}.db"
        start, errors = threading.Barrier(4), []

        def opener(i: int) -> None:
            try:
                start.wait(timeout=30)
                with EventStore(path) as s:
                    s.append([ingested(i)])
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=opener, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with EventStore(path) as s:
            assert s.last_seq() == 4
            assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_read_streams_in_pages_and_filters(store):
    store.append([ingested(i) for i in range(25)] + [classified(i) for i in range(5)])
    pages = list(store.read_pages(0, page=10))
    assert [len(p) for p in pages] == [10, 10, 10]
    assert [e.seq for e in store.read(27)] == [28, 29, 30]
    assert {e.type for e in store.read(types=["ScreenshotClassified"])} == {"ScreenshotClassified"}
    assert len(list(store.read(types=["ScreenshotClassified"]))) == 5


def test_verify_finds_the_first_tampered_row(tmp_path):
    path = tmp_path / "events.db"
    s = EventStore(path)
    s.append([ingested(i) for i in range(10)])
    assert s.verify().ok and s.verify().checked == 10
    s.close()
    tamper(path, "UPDATE events SET payload = json_set(payload, '$.byte_size', 1) WHERE seq = 7")
    result = EventStore(path).verify()
    assert not result.ok
    assert result.first_broken_seq == 7
    assert result.checked == 6


def test_verify_finds_a_deleted_row(tmp_path):
    path = tmp_path / "events.db"
    EventStore(path).append([ingested(i) for i in range(5)])
    tamper(path, "DELETE FROM events WHERE seq = 3")
    result = EventStore(path).verify()
    assert (result.ok, result.first_broken_seq) == (False, 3)


def test_stored_v1_payload_loads_as_current_model(tmp_path):
    """A row written by an older Observatory (schema v1) is upcast on read, not rewritten."""
    path = tmp_path / "events.db"
    s = EventStore(path)
    v1 = {
        "sha256": "ab" * 32,
        "path": "HEI/Screenshot_20251112_173538_Whiteout Survival.jpg",
        "byte_size": 938720,
        "format": "JPEG",
        "width": 1080,
        "height": 2340,
        "captured_at": "2025-11-12T17:35:38+00:00",
        "blob_path": "blobs/ab/abab.jpg",
    }
    row = (1, "00000000-0000-0000-0000-000000000001", "ScreenshotIngested", 1, "screenshot-abab", 1,
           "2025-11-12T17:40:00+00:00", "2025-11-12T17:40:00+00:00", json.dumps(v1), "{}", None)
    from observatory.eventlog.chain import link

    chained = link(GENESIS_HASH, row, seq=1, keyed_from=s.keyed_from(), key=s.require_key())
    s.conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (*row, chained))
    (ev,) = list(s.read())
    assert ev.schema_version == 1
    model = ev.event
    assert isinstance(model, ScreenshotIngested)
    assert model.original_path == v1["path"]
    assert model.file_name == "Screenshot_20251112_173538_Whiteout Survival.jpg"
    assert model.community == "default"
    assert s.verify().ok  # the stored row itself is untouched


def test_payload_from_newer_software_is_a_clear_error(store):
    from observatory.eventlog.upcasting import upcast

    with pytest.raises(LookupError, match="newer"):
        upcast("ScreenshotIngested", 99, {})


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=15), min_size=1, max_size=40), st.integers(min_value=1, max_value=7))
def test_ingesting_in_any_order_and_batching_gives_one_event_per_screenshot(tmp_path_factory, ids, batch):
    store = EventStore(tmp_path_factory.mktemp("log") / "events.db")
    pending = [ingested(i) for i in ids]
    for k in range(0, len(pending), batch):
        store.append(pending[k : k + batch])
    store.append(pending)  # and everything once more
    got = [e.payload["sha256"] for e in store.read()]
    assert sorted(got) == sorted({sha(i) for i in ids})
    assert store.verify().ok
    store.close()
