"""The event store's queries: what the stages ask of the log, answered with upcast, typed events.

Each runs on a real SQLite log; rows written by an older schema version are inserted
as an older Observatory wrote them (raw, chained) and must come back upcast.
"""

from __future__ import annotations

import json

import pytest

from builders import correction, extracted, failed, ingested, screenshot_stream, sha
from observatory.eventlog import CorrectionApplied, EventStore, Pending, ScreenshotIngested
from observatory.eventlog.chain import link
from observatory.eventlog.models import Reclassify, Retract, Revert
from observatory.eventlog.upcasting import UPCASTERS

RESULTS = ("ScoresExtracted", "ExtractionFailed")


@pytest.fixture
def store(tmp_path):
    s = EventStore(tmp_path / "events.db")
    yield s
    s.close()


def _insert_raw(store: EventStore, type_: str, version: int, stream: str, payload: dict) -> None:
    """Append a row as an older Observatory stored it: its own payload shape, its own schema version."""
    seq, prev = store.head()
    seq += 1
    row = (seq, f"00000000-0000-0000-0000-{seq:012d}", type_, version, stream, len(store.stream(stream)) + 1,
           "2025-11-12T17:40:00+00:00", "2025-11-12T17:40:00+00:00", json.dumps(payload), "{}", None)
    store.conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       (*row, link(prev, row, seq=seq, keyed_from=store.keyed_from(), key=store.require_key())))


def _v1_ingest(store: EventStore, i: int) -> None:
    s = sha(i)
    _insert_raw(store, "ScreenshotIngested", 1, screenshot_stream(s), {
        "sha256": s, "path": f"HEI/Screenshot_{i}.jpg", "byte_size": 10, "format": "JPEG", "width": 1080,
        "height": 2340, "captured_at": "2025-11-12T17:35:38+00:00", "blob_path": f"blobs/{s[:2]}/{s}.jpg"})


def _fix(fix, actor: str = "ana") -> Pending:
    return correction(fix.model_dump(), actor=actor, reason="seen in game")


def test_unanswered_lists_ingests_without_a_result_oldest_first_and_upcasts_old_ones(store):
    _v1_ingest(store, 1)
    store.append([ingested(2), ingested(3), ingested(4)])
    store.append([extracted(2), failed(3)])
    waiting = store.unanswered("ScreenshotIngested", RESULTS)
    assert [e.payload["sha256"] for e in waiting] == [sha(1), sha(4)]
    old = waiting[0].event
    assert isinstance(old, ScreenshotIngested)
    assert (waiting[0].schema_version, old.original_path, old.community) == (1, "HEI/Screenshot_1.jpg", "default")
    store.append([extracted(1)])
    assert [e.payload["sha256"] for e in store.unanswered("ScreenshotIngested", RESULTS)] == [sha(4)]


def test_latest_and_earliest_by_type_and_stream(store):
    assert store.latest(["ScreenshotIngested"]) is None
    _v1_ingest(store, 1)
    store.append([ingested(2), extracted(1, version="t1"), failed(1), extracted(2)])
    stream = screenshot_stream(1)
    newest = store.latest(RESULTS, stream_id=stream)
    assert newest is not None and newest.type == "ExtractionFailed" and newest.event.reason == "blurred"
    first = store.earliest(["ScreenshotIngested"], stream_id=stream)
    assert first is not None and first.event.file_name == "Screenshot_1.jpg"  # filled in by the upcaster
    assert store.latest(["ScreenshotIngested"]).payload["sha256"] == sha(2)
    assert store.earliest(RESULTS, stream_id=screenshot_stream(9)) is None


def test_corrections_filters_by_kind_in_log_order(store):
    done = store.append([_fix(Reclassify(screenshot_id=sha(1), new_kind="bear_overview")),
                         _fix(Retract(screenshot_id=sha(2)))])
    store.append([_fix(Revert(correction_id=done[0].event_id.replace("-", "")[:12]))])
    assert [e.event.correction.kind for e in store.corrections()] == ["reclassify", "retract", "revert"]
    picked = store.corrections(["reclassify", "revert"])
    assert [e.event.correction.kind for e in picked] == ["reclassify", "revert"]
    assert [e.seq for e in picked] == [1, 3]
    assert store.corrections(["note"]) == []


def test_corrections_finds_a_kind_an_older_version_stored_elsewhere(store, monkeypatch):
    """A kind that only the upcaster reveals is still found: old rows are not filtered by their raw payload."""
    monkeypatch.setattr(CorrectionApplied, "schema_version", 2)

    def v1_to_v2(p: dict) -> dict:  # v1 (imagined) kept the correction under `fix`
        p["correction"] = p.pop("fix")
        return p

    monkeypatch.setitem(UPCASTERS, ("CorrectionApplied", 1), v1_to_v2)
    _insert_raw(store, "CorrectionApplied", 1, "corrections", {
        "fix": {"kind": "reclassify", "screenshot_id": sha(1), "new_kind": "alliance_members"},
        "actor": "ana", "reason": "old"})
    _insert_raw(store, "CorrectionApplied", 2, "corrections", {
        "correction": {"kind": "retract", "screenshot_id": sha(2)}, "actor": "ana", "reason": "new"})
    (found,) = store.corrections(["reclassify"])
    assert found.schema_version == 1
    assert found.event.correction.new_kind == "alliance_members"
    assert [e.event.correction.kind for e in store.corrections(["retract"])] == ["retract"]
    assert store.verify().ok
