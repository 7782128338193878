"""The OpenAI vision engine: the real `openai` client against a stub server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from builders import output_contract
from openai_stub import USAGE, StubOpenAI, completion, error, label_answer

from observatory.extract import KINDS
from observatory.extract.vision import Backoff, VisionConfig, VisionEngine, VisionFailed
from observatory.extract.vision.schema import PAGES
from paths import BEAR

FAST = Backoff(base=0.02, cap=0.1)


@pytest.fixture
def bear(samples_dir: Path) -> tuple[bytes, dict]:
    return (samples_dir / BEAR).read_bytes(), output_contract(json.loads((samples_dir / BEAR).with_suffix(".json").read_text()))


def tiny_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 32), "white").save(buf, "PNG")
    return buf.getvalue()


def engine(stub: StubOpenAI, **overrides) -> VisionEngine:
    cfg = {"api_key": "sk-test-not-a-real-key", "base_url": stub.base_url, "rpm": 1000, "timeout": 5.0,
           "max_retries": 3, "period": 1.0, **overrides}
    return VisionEngine(VisionConfig(**cfg), backoff=FAST)


def test_every_answer_kind_is_a_known_kind():
    assert set(PAGES) <= set(KINDS)


def test_a_canned_answer_becomes_the_labelled_rows_with_model_and_tokens(bear):
    image, label = bear
    with StubOpenAI(completion(label_answer(label))) as stub:
        res = engine(stub).extract(image)
    x = res.extraction
    assert (x.kind, x.meta, x.rows) == ("bear_damage", label["meta"], label["rows"])
    assert x.engine == "openai" and x.engine_version == "1.0+gpt-4o-mini"
    assert len(x.row_confidence) == len(x.rows) and x.warnings == []
    assert res.metadata == {"model": "gpt-4o-mini-2024-07-18", "usage": USAGE, "attempts": 1}
    # what went over the wire: the model, a strict JSON schema, and the screenshot as a base64 data URL
    sent = stub.seen[0].body
    assert sent["model"] == "gpt-4o-mini"
    assert sent["response_format"]["type"] == "json_schema" and sent["response_format"]["json_schema"]["strict"]
    image_part = sent["messages"][1]["content"][1]["image_url"]["url"]
    assert image_part.startswith("data:image/jpeg;base64,/9j/")


def test_partial_and_pinned_rows_are_kept_apart_from_scores(bear):
    image, label = bear
    answer = label_answer(label)
    answer["page"]["rows"][-1]["visibility"] = "pinned_self"
    with StubOpenAI(completion(answer)) as stub:
        x = engine(stub).extract(image).extraction
    assert x.rows == label["rows"][:-1]
    assert x.dropped_rows == [{"row": label["rows"][-1], "reason": "pinned self-row"}]


def test_a_forced_kind_asks_for_that_kind_only(bear):
    image, label = bear
    with StubOpenAI(completion(label_answer(label)["page"])) as stub:
        x = engine(stub).extract(image, kind="bear_damage").extraction
        schema = stub.seen[0].body["response_format"]["json_schema"]["schema"]
    assert x.rows == label["rows"]
    assert schema["properties"]["kind"]["const"] == "bear_damage"


@pytest.mark.parametrize("garbage, expected", [
    ({"page": {"kind": "bear_damage", "confidence": 0.9, "meta": {"trap_id": 1},
               "rows": [{"rank": 1, "name": "Valorin", "damage": "six billion", "visibility": "full", "confidence": 1}]}},
     "page.bear_damage.rows.0.damage"),
    ({"page": {"kind": "chief_profile", "confidence": 0.9, "meta": {}, "rows": []}}, "chief_profile"),
    ("I cannot help with that", "answer does not fit"),
])
def test_a_malformed_answer_is_a_clear_failure_not_rows(bear, garbage, expected):
    with StubOpenAI(completion(garbage)) as stub:
        with pytest.raises(VisionFailed) as exc:
            engine(stub).extract(bear[0])
    assert expected in exc.value.reason and "permanent error" in exc.value.reason
    assert len(stub.seen) == 1  # not retried: the same question gets the same answer
    assert exc.value.metadata["usage"] == USAGE  # the tokens were still spent


def test_429_storm_honours_retry_after(bear):
    image, label = bear
    with StubOpenAI(completion(label_answer(label))) as stub:
        stub.script = [error(429, {"Retry-After": "0.3"}), error(429, {"Retry-After": "0.2"}),
                       error(429, {"retry-after-ms": "250"})]
        res = engine(stub).extract(image)
        t = stub.arrivals()
    assert res.extraction.rows == label["rows"] and res.metadata["attempts"] == 4
    gaps = [b - a for a, b in zip(t, t[1:])]
    assert gaps[0] >= 0.3 and gaps[1] >= 0.2 and gaps[2] >= 0.25, gaps


def test_server_errors_then_success(bear):
    image, label = bear
    with StubOpenAI(completion(label_answer(label))) as stub:
        stub.script = [error(500), error(503)]
        res = engine(stub).extract(image)
    assert res.extraction.rows == label["rows"] and res.metadata["attempts"] == 3


def test_slow_answers_time_out_and_are_retried(bear):
    image, label = bear
    with StubOpenAI(completion(label_answer(label))) as stub:
        stub.script = [replace(completion(label_answer(label)), delay=3.0)]
        res = engine(stub, timeout=0.3).extract(image)
    assert res.extraction.rows == label["rows"] and res.metadata["attempts"] == 2
    assert len(stub.seen) == 2


def test_persistent_failure_gives_up_after_the_retries(bear):
    with StubOpenAI(error(502)) as stub:
        with pytest.raises(VisionFailed) as exc:
            engine(stub, max_retries=2).extract(bear[0])
    assert len(stub.seen) == 3 and exc.value.metadata["attempts"] == 3
    assert "still failing after 3 attempt(s): HTTP 502" in exc.value.reason


def test_client_errors_are_not_retried(bear):
    with StubOpenAI(error(401)) as stub:
        with pytest.raises(VisionFailed) as exc:
            engine(stub).extract(bear[0])
    assert len(stub.seen) == 1 and "HTTP 401" in exc.value.reason


@pytest.mark.slow
def test_the_rate_and_concurrency_limits_hold_under_load(bear):
    """Many threads, one engine: the stub never sees more than `concurrency` at once or `rpm` per period."""
    _, label = bear
    image = tiny_png()  # a small body keeps the gap between a slot's start and the stub's clock small
    rpm, period, concurrency = 4, 2.0, 2
    slow = replace(completion(label_answer(label)), delay=0.1)
    with StubOpenAI(slow) as warm_up:  # the first request of a process imports half of the client: not measured
        engine(warm_up).extract(image)
    with StubOpenAI(slow) as stub:
        stub.script = [error(500), error(429, {"Retry-After": "0.1"})]  # retries count against the limit too
        eng = engine(stub, rpm=rpm, concurrency=concurrency, period=period)
        errors: list[BaseException] = []

        def one() -> None:
            try:
                eng.extract(image)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        t = sorted(stub.arrivals())
    assert errors == [] and len(t) == 10
    assert stub.max_in_flight == concurrency
    # arrival lags the limiter's start by a request's latency, which a loaded machine stretches: allow 20%
    # of the period (a broken limiter starts a window's requests together, gaps near 0)
    for i in range(len(t) - rpm):
        assert t[i + rpm] - t[i] >= period * 0.8, (i, t)
    assert eng.limiter.rate == rpm
