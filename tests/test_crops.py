"""Every value traceable to its pixels: extraction records where it read each field, the web cuts that region."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from builders import shot
from datasette_client import make_datasette
from observatory.eventlog import ScoresExtracted, open_log
from observatory.eventlog.upcasting import upcast
from observatory.extract import extract
from observatory.process.pipeline import project_now
from observatory.serve.crops import BAND, FIELD, WHOLE
from observatory.settings import load_settings
from review_scenario import NAME, ROWS, SID, Browser, draw_blob


def test_old_extractions_are_read_with_no_boxes():
    v1 = {"sha256": "ab" * 32, "kind": "bear_damage", "meta": {}, "rows": [{"rank": 1, "name": "A", "damage": 5}],
          "row_confidence": [0.9], "engine": "tesseract", "engine_version": "old"}
    lifted = ScoresExtracted.model_validate(upcast("ScoresExtracted", 1, dict(v1)))
    assert lifted.row_fields == [] and lifted.rows == v1["rows"] and ScoresExtracted.schema_version == 2


@pytest.mark.slow  # real OCR of a sample
def test_extraction_records_each_fields_box_reader_and_confidence(samples_dir):
    image = samples_dir / "Screenshot_20251111_194047_Whiteout Survival.jpg"  # an alliance power ranking
    got = extract(image)
    assert got.rows and len(got.row_fields) == len(got.rows)
    with Image.open(image) as img:
        width, height = img.size
    for row, where in zip(got.rows, got.row_fields):
        band = where["row"]["box"]
        for field in row:
            left, top, right, bottom = where[field]["box"]
            assert 0 <= left < right <= width and 0 <= top < bottom <= height, (field, where[field])
            assert band[1] - 2 <= (top + bottom) / 2 <= band[3] + 2  # inside its row
            assert where[field]["reader"] == got.engine
            conf = where[field]["confidence"]
            assert conf is None or 0 <= conf <= 1
    # rows go down the screen, and so do their boxes
    tops = [w["power"]["box"][1] for w in got.row_fields]
    assert tops == sorted(tops)


def seed_with_boxes(home) -> None:  # type: ignore[no-untyped-def]
    events = shot(NAME, "bear_damage", ROWS, {"trap_id": 1})
    boxes = [{"row": {"box": [0, 400 + 200 * i, 1080, 560 + 200 * i], "reader": "rapidocr", "confidence": None},
              "damage": {"box": [600, 450 + 200 * i, 900, 500 + 200 * i], "reader": "rapidocr", "confidence": 0.91}}
             for i in range(len(ROWS))]
    del boxes[2]["damage"]  # the doubtful row's damage has only its band
    events = [dataclasses.replace(p, event=p.event.model_copy(update={"row_fields": boxes}))
              if isinstance(p.event, ScoresExtracted) else p for p in events]
    with open_log(load_settings()) as store:
        store.append(events)
        project_now(load_settings(), store)
    draw_blob(home, SID)


def test_the_crop_is_the_box_the_value_was_read_from_else_its_row(home):
    seed_with_boxes(home)
    web = Browser(make_datasette(load_settings()))
    resp = web.get(f"/-/crop/{SID}/rank:1/damage")
    assert resp.status_code == 200 and resp.headers["x-observatory-crop"] == FIELD
    with Image.open(io.BytesIO(resp.content)) as img:
        assert img.size == (300 + 16, 50 + 16)  # the box with its margin, at full resolution
    resp = web.get(f"/-/crop/{SID}/rank:3/damage")
    assert resp.headers["x-observatory-crop"] == BAND
    with Image.open(io.BytesIO(resp.content)) as img:
        assert img.size == (540, round((160 + 16) * 540 / 1080))  # the band, full width scaled to 540
    assert web.get(f"/-/crop/{SID}/rank:9/damage").headers["x-observatory-crop"] == WHOLE
    page = web.get("/-/review?reason=doubtful").text
    assert f"/-/crop/{SID}/rank%3A3/damage" in page and f"<figcaption>{BAND}</figcaption>" in page.replace("&#39;", "'")


def test_an_unmatched_name_shows_the_row_it_was_read_on(home):
    seed_with_boxes(home)
    web = Browser(make_datasette(load_settings()))
    page = web.get("/-/review?reason=unmatched_name").text.replace("&#39;", "'")
    assert f"/-/crop/{SID}/name%3AStevie/name" in page and f"<figcaption>{BAND}</figcaption>" in page
    assert web.get(f"/-/crop/{SID}/name%3AStevie/name").headers["x-observatory-crop"] == BAND
