"""Engine selection in the real pipeline: OpenAI via the stub, Tesseract fallback and auto mode on real samples."""

from __future__ import annotations

import json

import openai
import pytest
from click.testing import CliRunner
from builders import blank_png, output_contract
from openai_stub import USAGE, StubOpenAI, completion, error, label_answer

from observatory.cli import cli
from observatory.eventlog import EventStore
from observatory.process.engines import plan_for
from observatory.process.pipeline import process_and_project
from observatory.process.processor import pending_screenshots
from observatory.settings import SettingsError, load_settings
from paths import BEAR
from stores import ingest_bytes

KEY = "sk-test-secret-0123456789"
NOTE_ANSWER = {"page": {"kind": "unknown", "confidence": 0.9, "meta": {"what": "a note saying hello world"}}}


@pytest.fixture
def bear(samples_dir):
    path = samples_dir / BEAR
    return path.read_bytes(), output_contract(json.loads(path.with_suffix(".json").read_text()))


def run_pipeline(settings, store):
    return process_and_project(settings, store, pending_screenshots(store))


def results(store: EventStore) -> dict[str, dict]:
    """sha -> the ScoresExtracted event (payload and metadata)."""
    return {e.payload["sha256"]: e for e in store.read(types=["ScoresExtracted"])}


@pytest.fixture
def client_spy(monkeypatch):
    """Counts constructions of the real openai client class (it still runs as usual)."""
    made: list[dict] = []
    real_init = openai.OpenAI.__init__

    def init(self, *args, **kwargs):
        made.append(kwargs)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(openai.OpenAI, "__init__", init)
    return made


def openai_settings(stub: StubOpenAI, engine: str = "openai", **extra):
    return load_settings(ocr_engine=engine, openai_api_key=KEY, openai_base_url=stub.base_url, workers=2,
                         openai_rpm=1000, **extra)


def test_openai_engine_records_rows_model_and_tokens(home, bear, client_spy, caplog):
    image, label = bear
    with StubOpenAI(completion(label_answer(label))) as stub:
        settings = openai_settings(stub)
        with EventStore(settings.events_db) as store:
            sha = ingest_bytes(store, settings.events_dir, image, BEAR)
            outcomes = run_pipeline(settings, store)
            ev = results(store)[sha]
            classified = next(store.read(types=["ScreenshotClassified"]))
    assert [o.ok for o in outcomes] == [True]
    assert ev.payload["engine"] == "openai" and ev.payload["engine_version"] == "1.0+gpt-4o-mini"
    assert ev.payload["rows"] == label["rows"] and ev.payload["meta"] == label["meta"]
    for meta in (ev.metadata, classified.metadata):
        assert meta["openai"] == {"model": "gpt-4o-mini-2024-07-18", "usage": USAGE, "attempts": 1}
        assert meta["correlation_id"] == sha  # the envelope's own keys are still there
    assert len(client_spy) == 1 and client_spy[0]["max_retries"] == 0
    assert KEY not in caplog.text and KEY not in settings.events_db.read_bytes().decode("latin-1")


@pytest.mark.slow
def test_persistent_failure_falls_back_to_the_local_reader(home, bear):
    image, label = bear
    with StubOpenAI(error(500)) as stub:
        settings = openai_settings(stub, openai_max_retries=1)
        with EventStore(settings.events_db) as store:
            sha = ingest_bytes(store, settings.events_dir, image, BEAR)
            run_pipeline(settings, store)
            ev = results(store)[sha]
    assert len(stub.seen) == 2  # one try, one retry
    assert ev.payload["engine"] == "rapidocr" and ev.payload["kind"] == "bear_damage"
    assert len(ev.payload["rows"]) == len(label["rows"])  # the local reader really read the screenshot
    assert any("openai still failing after 2 attempt(s): HTTP 500; kept the rapidocr reading" in w
               for w in ev.payload["warnings"])
    assert ev.metadata["openai"]["fallback"] == "rapidocr" and ev.metadata["openai"]["attempts"] == 2


@pytest.mark.slow
def test_auto_asks_openai_only_for_low_confidence_screenshots(home, bear):
    image, _ = bear
    with StubOpenAI(completion(NOTE_ANSWER)) as stub:
        settings = openai_settings(stub, engine="auto", auto_threshold=0.6)
        with EventStore(settings.events_db) as store:
            sure = ingest_bytes(store, settings.events_dir, image, BEAR)
            doubtful = ingest_bytes(store, settings.events_dir, blank_png(), "note.png")
            run_pipeline(settings, store)
            by_sha = results(store)
    assert len(stub.seen) == 1
    assert stub.seen[0].body["messages"][1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert by_sha[sure].payload["engine"] == "rapidocr" and "openai" not in by_sha[sure].metadata
    assert by_sha[doubtful].payload["engine"] == "openai"
    assert by_sha[doubtful].payload["meta"] == {"what": "a note saying hello world"}
    assert by_sha[doubtful].metadata["openai"]["asked_because"] == "tesseract confidence 0.00 < auto threshold 0.60"


def test_without_a_key_everything_runs_on_tesseract_and_no_client_is_made(home, client_spy, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_OCR_ENGINE", "auto")
    monkeypatch.setenv("OBSERVATORY_WORKERS", "1")
    settings = load_settings()
    assert settings.openai_api_key is None
    with EventStore(settings.events_db) as store:
        sha = ingest_bytes(store, settings.events_dir, blank_png(), "note.png")
    result = CliRunner().invoke(cli, ["process"])
    assert result.exit_code == 0, result.output
    with EventStore(settings.events_db) as store:
        assert results(store)[sha].payload["engine"] == "rapidocr"
    assert client_spy == []


def test_openai_without_a_key_stops_start_up_with_one_line(home, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_OCR_ENGINE", "openai")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert "OPENAI_API_KEY" in str(exc.value) and "\n" not in str(exc.value)
    result = CliRunner().invoke(cli, ["process"])
    assert result.exit_code == 2 and "invalid setting OBSERVATORY_OPENAI_API_KEY" in result.output


def test_every_processor_of_a_process_shares_one_limiter(home):
    settings = load_settings(ocr_engine="auto", openai_api_key=KEY, openai_base_url="http://127.0.0.1:9/v1")
    a, b = plan_for(settings), plan_for(settings)
    assert a.vision is b.vision and a.vision.limiter is b.vision.limiter
    assert a.vision.limiter.rate == settings.openai_rpm and a.vision.limiter.period == 60.0
    assert plan_for(load_settings(ocr_engine="auto")).vision is None
