"""The test builders write what the product writes: same streams, keys and payloads as a real ingest.

Every other test builds its log with `builders`; if the product renames a stream or a
key, these fail first, naming the builder that drifted.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

import builders
from observatory.eventlog import EventStore, Pending
from stores import run


def png(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (seed, 10, 77)).save(buf, "PNG")
    return buf.getvalue()


def stored(home: Path) -> list:
    with EventStore(home / "events" / "events.db", readonly=True) as store:
        return list(store.read())


def envelope(e) -> tuple:  # type: ignore[no-untyped-def]
    """What a builder must match of an event: type, stream, key, correlation and payload."""
    if isinstance(e, Pending):  # from a builder
        return e.event.type_name, e.stream_id, e.idempotency_key, e.correlation_id, e.event.payload()
    return e.type, e.stream_id, e.idempotency_key, e.metadata.get("correlation_id"), e.payload


def test_ingest_duplicate_and_refusal_builders_match_a_real_ingest(home: Path) -> None:
    inbox = home / "watch_dir" / "HEI"
    inbox.mkdir(parents=True)
    data = png(1)
    (inbox / "Screenshot_20251112_173538_Whiteout Survival.png").write_bytes(data)
    (inbox / "again.png").write_bytes(data)
    (inbox / "zero.png").write_bytes(b"")
    r = run("ingest", "--no-process", str(home / "watch_dir"))
    assert r.exit_code == 0, r.output
    by_type = {}
    for e in stored(home):
        by_type.setdefault(e.type, []).append(e)
    (ing,) = by_type["ScreenshotIngested"]
    (dup,) = by_type["DuplicateSighted"]
    (rej,) = by_type["IngestRejected"]
    p, d, x = ing.payload, dup.payload, rej.payload
    sha = p["sha256"]

    assert envelope(ing) == envelope(builders.ingested(
        sha, "HEI", path=p["original_path"], name=p["file_name"], byte_size=len(data), format="PNG", width=32, height=24,
        captured_at=p["captured_at"], captured_at_source=p["captured_at_source"]))
    assert p["blob_path"] == builders.blob_path(sha, "png")
    assert envelope(dup) == envelope(builders.duplicate(sha, d["original_path"]))
    assert envelope(rej) == envelope(builders.rejected(x["original_path"], x["fingerprint"], x["code"],
                                                       reason=x["reason"], byte_size=x["byte_size"]))
    assert rej.stream_id.startswith("rejected-")  # the product's refusal stream, not an invented "inbox-…" one


def test_ingest_and_the_processor_name_a_screenshot_stream_alike(home: Path) -> None:
    """`builders.screenshot_stream` asks the processor; ingest names the stream on its own: they must agree."""
    (home / "watch_dir" / "HEI").mkdir(parents=True)
    (home / "watch_dir" / "HEI" / "a.png").write_bytes(png(2))
    assert run("ingest", "--no-process", str(home / "watch_dir")).exit_code == 0
    (ing,) = stored(home)
    sha = ing.payload["sha256"]
    assert ing.stream_id == builders.screenshot_stream(sha)
    assert [p.stream_id for p in builders.reading(sha)] == [ing.stream_id] * 2
    assert builders.failed(sha).stream_id == ing.stream_id


def test_the_correction_builder_matches_what_observatory_correct_appends(hunt: Path) -> None:
    before = len(stored(hunt))
    r = run("correct", "retract", builders.FIRST[:10], "--reason", "a test", "--actor", "mia")
    assert r.exit_code == 0, r.output
    (ev,) = stored(hunt)[before:]
    built = builders.correction(ev.payload["correction"], actor="mia", reason="a test")
    assert (ev.type, ev.stream_id, ev.payload) == (built.event.type_name, built.stream_id, built.event.payload())


def test_a_reprocess_is_a_new_request_and_the_same_request_is_appended_once(tmp_path: Path) -> None:
    """The processor's keys make a repeated result a no-op; a reprocess (a new request) lands."""
    with EventStore(tmp_path / "events.db") as store:
        store.append([builders.ingested(1), *builders.reading(1)])
        assert store.append(builders.reading(1)) == []
        assert len(store.append(builders.reading(1, version="t2", request="reprocess-1"))) == 2
