"""Projections: rebuilt from the log, deterministic, crash-safe checkpoints, live readers never break."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import classified, duplicate, extracted, failed, ingested, rejected, sha
from observatory.eventlog import EventStore
from observatory.project import all_projectors, catch_up, open_db
from observatory.project.framework import CHECKPOINTS
from observatory.project.rebuild import rebuild

TABLES = ("screenshots", "extracted_rows", "rejected_files", CHECKPOINTS)


def dump(path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        # the facts, the checkpoints, and every domain table (a screenshot only ingested adds its own rows)
        domain = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if not t.startswith(("_", "sqlite_")) and t not in TABLES]
        return {t: sorted(conn.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in (*TABLES, *domain)}
    finally:
        conn.close()


def test_screenshot_lifecycle_is_projected(tmp_path):
    store = EventStore(tmp_path / "events.db")
    store.append([ingested(1), classified(1), extracted(1, n_rows=4), ingested(2), failed(2, "no text found")])
    store.append([duplicate(1, "HEI/copy of it.jpg"), rejected("HEI/empty.png")])
    db = open_db(tmp_path / "p.db")
    assert catch_up(store, db, all_projectors()) == 7
    shots = {r["id"]: r for r in db["screenshots"].rows}
    one, two = shots[sha(1)], shots[sha(2)]
    assert (one["status"], one["kind"], one["confidence"], one["row_count"]) == ("extracted", "bear_damage", 0.93, 4)
    assert one["sightings"] == 2 and "copy of it" in one["sighting_paths"]
    assert (two["status"], two["error"]) == ("failed", "extract: no text found")
    rows = list(db.query("SELECT rank, name, json_extract(data, '$.damage') AS damage FROM extracted_rows ORDER BY rank"))
    assert rows[0] == {"rank": 1, "name": "[HEI]Player0", "damage": 4_000_000}
    assert [r["code"] for r in db["rejected_files"].rows] == ["empty"]
    # declared keys and indexes
    assert db["screenshots"].pks == ["id"]
    assert db["extracted_rows"].pks == ["screenshot_id", "row_index"]
    assert db["extracted_rows"].foreign_keys[0].other_table == "screenshots"
    assert any(ix.columns == ["community", "captured_at"] for ix in db["screenshots"].indexes)


def test_newest_extraction_wins(tmp_path):
    store = EventStore(tmp_path / "events.db")
    store.append([ingested(1), classified(1), extracted(1, n_rows=5)])
    db = open_db(tmp_path / "p.db")
    catch_up(store, db, all_projectors())
    store.append([extracted(1, n_rows=2, version="t2", request="reprocess-t2")])
    catch_up(store, db, all_projectors())
    assert db["extracted_rows"].count == 2
    assert db["screenshots"].get(sha(1))["engine_version"] == "t2"


def test_catch_up_is_idempotent_and_resumes_from_checkpoint(tmp_path):
    store = EventStore(tmp_path / "events.db")
    store.append([ingested(i) for i in range(10)])
    db = open_db(tmp_path / "p.db")
    assert catch_up(store, db, all_projectors()) == 10
    assert catch_up(store, db, all_projectors()) == 0
    store.append([classified(3)])
    assert catch_up(store, db, all_projectors()) == 1
    assert db.execute(f"SELECT seq FROM [{CHECKPOINTS}]").fetchone()[0] == 11


def test_a_crash_mid_batch_applies_nothing_of_that_batch(tmp_path):
    """The checkpoint commits with the rows: a failure inside a batch rolls back both."""
    store = EventStore(tmp_path / "events.db")
    store.append([ingested(1), classified(1)])
    db = open_db(tmp_path / "p.db")
    projectors = all_projectors()

    class Boom(type(projectors[0])):
        def apply(self, db, events):  # type: ignore[override]
            super().apply(db, events)
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        catch_up(store, db, [Boom()])
    assert db["screenshots"].count == 0
    assert db.execute(f"SELECT COUNT(*) FROM [{CHECKPOINTS}]").fetchone()[0] == 0
    catch_up(store, db, projectors)
    assert db["screenshots"].get(sha(1))["status"] == "classified"


def test_projections_refuse_a_different_log(tmp_path):
    from observatory.project.framework import LogMismatch

    a = EventStore(tmp_path / "a.db")
    a.append([ingested(1)])
    b = EventStore(tmp_path / "b.db")
    b.append([ingested(1)])
    db = open_db(tmp_path / "p.db")
    catch_up(a, db, all_projectors())
    with pytest.raises(LogMismatch, match="replay"):
        catch_up(b, db, all_projectors())


# --- determinism -----------------------------------------------------------------

def _event_lists():
    """Random but causal logs: a screenshot's first event is its ingest."""
    step = st.tuples(
        st.sampled_from(["ingest", "classify", "extract", "fail", "dup", "reject", "reingest_nokey"]),
        st.integers(0, 6),
        st.integers(0, 4),
    )
    return st.lists(step, min_size=1, max_size=60)


def _materialise(steps):
    seen: set[int] = set()
    out = []
    for n, (op, i, k) in enumerate(steps):
        if op == "reject":
            out.append(rejected(f"HEI/bad{i}.png", fingerprint=f"{k}:{k}"))
            continue
        if i not in seen or op == "ingest":
            out.append(ingested(i))
            seen.add(i)
            if op == "ingest":
                continue
        if op == "classify":
            out.append(classified(i, confidence=k / 4, request=f"reprocess-{n}"))
        elif op == "extract":
            out.append(extracted(i, n_rows=k, version=f"v{n}", base=n, request=f"reprocess-{n}"))
        elif op == "fail":
            out.append(failed(i, f"reason {n}", request=f"reprocess-{n}"))
        elif op == "dup":
            out.append(duplicate(i, f"HEI/copy{n}.jpg"))
        elif op == "reingest_nokey":
            out.append(ingested(i, key=False))
    return out


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_event_lists(), st.lists(st.integers(1, 9), min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_incremental_catch_up_in_any_batches_equals_full_replay(tmp_path_factory, steps, sizes, rnd):
    d = tmp_path_factory.mktemp("det")
    store = EventStore(d / "events.db")
    pending = _materialise(steps)
    # append in random chunks, catching up between appends with varying batch sizes
    db = open_db(d / "incremental.db")
    k = 0
    while k < len(pending):
        n = rnd.randint(1, 6)
        store.append(pending[k : k + n])
        k += n
        catch_up(store, db, all_projectors(), batch_size=sizes[k % len(sizes)])
    db.conn.close()
    rebuild(store, d / "full.db", all_projectors(), batch_size=1000)
    rebuild(store, d / "again.db", all_projectors(), batch_size=3)
    full = dump(d / "full.db")
    assert dump(d / "incremental.db") == full
    assert dump(d / "again.db") == full
    store.close()


def test_replay_of_the_same_log_twice_is_identical(tmp_path):
    store = EventStore(tmp_path / "events.db")
    store.append(_materialise([("extract", i % 5, i % 4) for i in range(30)] + [("dup", 1, 0), ("reject", 2, 2)]))
    target = tmp_path / "p.db"
    rebuild(store, target, all_projectors())
    first = dump(target)
    rebuild(store, target, all_projectors())
    assert dump(target) == first


# --- live readers ----------------------------------------------------------------

@pytest.mark.slow  # three rebuilds of 300 screenshots under a reader
def test_a_connected_reader_sees_the_rebuild_without_reconnecting_and_never_errors(tmp_path):
    store = EventStore(tmp_path / "events.db")
    store.append([ingested(i) for i in range(200)] + [extracted(i, n_rows=10) for i in range(200)])
    target = tmp_path / "p.db"
    rebuild(store, target, all_projectors())
    reader = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True, check_same_thread=False)
    assert reader.execute("SELECT COUNT(*) FROM screenshots").fetchone()[0] == 200

    errors: list[Exception] = []
    counts: list[int] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            try:
                counts.append(reader.execute("SELECT COUNT(*) FROM extracted_rows").fetchone()[0])
            except Exception as exc:  # noqa: BLE001 - any error is the failure under test
                errors.append(exc)

    t = threading.Thread(target=read_loop)
    t.start()
    try:
        store.append([ingested(i) for i in range(200, 300)] + [extracted(i, n_rows=10) for i in range(200, 300)])
        for _ in range(3):
            rebuild(store, target, all_projectors())
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert set(counts) <= {2000, 3000}  # old snapshot or new, never half
    assert reader.execute("SELECT COUNT(*) FROM screenshots").fetchone()[0] == 300


def test_rebuild_of_a_missing_projection_creates_it(tmp_path):
    store = EventStore(tmp_path / "events.db")
    store.append([ingested(1)])
    target = tmp_path / "projections" / "observatory.db"
    assert rebuild(store, target, all_projectors()) == 1
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not list(target.parent.glob(".*rebuild*"))


def test_a_repeated_ingest_event_inside_a_batch_keeps_log_order(tmp_path):
    """Regression: changes before and after a (key-less) repeated ingest must apply in log order."""
    store = EventStore(tmp_path / "events.db")
    store.append([ingested(1)])
    db = open_db(tmp_path / "incremental.db")
    catch_up(store, db, all_projectors())
    store.append([classified(1), ingested(1, key=False), extracted(1, n_rows=2), failed(1, "later failure")])
    catch_up(store, db, all_projectors(), batch_size=1000)  # the whole second append in one batch
    db.conn.close()
    rebuild(store, tmp_path / "single_events.db", all_projectors(), batch_size=1)
    assert dump(tmp_path / "incremental.db") == dump(tmp_path / "single_events.db")
    assert sqlite3.connect(tmp_path / "incremental.db").execute("SELECT status FROM screenshots").fetchone() == ("failed",)


def test_connections_that_create_the_projections_at_once_all_succeed(tmp_path):
    """`observatory run` starts the pipeline and Datasette together; both may make the first schema."""
    from observatory.project.framework import ensure_schema

    for attempt in range(5):
        path = tmp_path / f"race-{attempt}.db"
        start, errors = threading.Barrier(6), []

        def create() -> None:
            try:
                start.wait(timeout=30)
                db = open_db(path)  # switching a new file to WAL races too
                try:
                    ensure_schema(db, all_projectors())
                finally:
                    db.conn.close()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=create) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        conn = sqlite3.connect(path)
        assert conn.execute("SELECT COUNT(*) FROM _projection_meta WHERE key = 'schema_version'").fetchone() == (1,)
        conn.close()


def test_two_processes_catching_up_at_once_never_apply_an_event_twice(tmp_path):
    """The web app (a correction) and the daemon both bring one projections file up to date: one of them read its
    checkpoints just before the other applied the same events. Counted facts (a screenshot dropped again) stay right."""
    store = EventStore(tmp_path / "events.db")
    store.append([ingested(1), classified(1), extracted(1, n_rows=3)])
    store.append([duplicate(1, "HEI/again.jpg"), duplicate(1, "HEI/and again.jpg")])
    open_db(tmp_path / "p.db").conn.close()  # the file exists, empty, as a daemon leaves it

    class Slow(EventStore):
        """Yields its first page only after the other connection has applied everything."""

        def read_pages(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            for i, page in enumerate(super().read_pages(*args, **kwargs)):
                if i == 0:
                    other = open_db(tmp_path / "p.db")
                    catch_up(EventStore(tmp_path / "events.db", readonly=True), other, all_projectors())
                    other.conn.close()
                yield page

    slow = open_db(tmp_path / "p.db")
    catch_up(Slow(tmp_path / "events.db", readonly=True), slow, all_projectors())
    assert slow["screenshots"].get(sha(1))["sightings"] == 3  # ingested once, dropped again twice
    rebuild(store, tmp_path / "replayed.db", all_projectors())
    assert dump(tmp_path / "p.db") == dump(tmp_path / "replayed.db")
