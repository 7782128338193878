"""An OCR worker's answer is a typed Reading (the events that will record it), also across the pool."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from observatory.eventlog import ExtractionFailed, ScoresExtracted, ScreenshotClassified
from observatory.process.engines import tesseract_confidence, with_fallback
from observatory.process.reading import Reading
from observatory.process.worker import init_worker, run_extraction

EXTRACTION = {"kind": "bear_damage", "confidence": 0.9, "meta": {"trap_id": 1},
              "rows": [{"rank": 1, "name": "[HEI]Valorin", "damage": 3553763918}], "row_confidence": [0.5],
              "dropped_rows": [], "warnings": [], "evidence": ["Damage Ranking"], "engine": "tesseract",
              "engine_version": "2.0+5.3"}


def test_a_worker_in_a_real_pool_answers_with_a_typed_failure(tmp_path):
    with ProcessPoolExecutor(max_workers=1, initializer=init_worker) as pool:
        reading = pool.submit(run_extraction, "ab" * 32, str(tmp_path / "gone.jpg"), "bear_damage", "tesseract").result()
    assert isinstance(reading, Reading) and not reading.ok
    assert isinstance(reading.failed, ExtractionFailed)
    assert (reading.failed.stage, reading.failed.requested_kind) == ("decode", "bear_damage")
    assert "No such file" in reading.failed.reason


def test_a_read_is_the_two_events_that_record_it():
    reading = Reading.read("cd" * 32, EXTRACTION, None)
    assert isinstance(reading.classified, ScreenshotClassified) and isinstance(reading.scores, ScoresExtracted)
    assert (reading.classified.confidence, reading.scores.rows[0]["damage"]) == (0.9, 3553763918)
    assert tesseract_confidence(reading) == 0.5  # capped by the rows' mean confidence


def test_a_failed_openai_read_keeps_tesseracts_reading_with_a_warning():
    local = Reading.read("cd" * 32, EXTRACTION, None)
    vision = Reading("cd" * 32, vision_error="openai: 429 too many requests", metadata={"openai": {"model": "m"}})
    kept = with_fallback(local, vision)
    assert kept.scores.rows == local.scores.rows
    assert kept.scores.warnings == ["openai: 429 too many requests; kept the tesseract reading"]
    assert kept.metadata["openai"] == {"model": "m", "error": "openai: 429 too many requests", "fallback": "tesseract"}
    assert local.scores.warnings == []  # the earlier reading is not changed
