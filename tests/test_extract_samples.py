"""Real Tesseract on the real labelled screenshots: accuracy floors per kind.

Each sample is extracted once per session (two worker processes).  The
floors sit a little under what the pipeline achieves so accuracy cannot
silently regress; no wall-clock assertions.
"""
from __future__ import annotations

import io
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from observatory.extract import ENGINE_NAME, KINDS, Extraction, ExtractionError, extract
from observatory.extract.scoring import Summary, score_image

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "wos"

# (min recall, min precision) per kind on the development samples
FLOORS = {
    "ac_signup": (0.94, 0.94),
    "alliance_members": (0.84, 0.91),
    "alliance_power": (0.95, 0.95),
    "bear_damage": (0.95, 0.95),
    "bear_overview": (0.95, 0.95),
    "contribution": (0.85, 0.87),
    "foundry_result": (0.55, 0.55),
    "foundry_signup": (0.87, 0.87),
}


def _extract(path: str) -> dict:
    return extract(path).model_dump()


@pytest.fixture(scope="session")
def sample_results() -> dict[str, tuple[dict, dict]]:
    if not SAMPLES.is_dir():
        pytest.skip(f"labelled samples not found at {SAMPLES}")
    labels = {str(j.with_suffix(".jpg")): json.loads(j.read_text(encoding="utf-8"))
              for j in sorted(SAMPLES.glob("*.json")) if j.with_suffix(".jpg").exists()}
    if not labels:
        pytest.skip(f"no labelled samples in {SAMPLES}")
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        results = dict(zip(labels, pool.map(_extract, labels)))
    return {p: (results[p], labels[p]) for p in labels}


def test_every_sample_is_classified(sample_results):
    wrong = {Path(p).name: (r["kind"], lab["kind"]) for p, (r, lab) in sample_results.items()
             if r["kind"] != lab["kind"]}
    assert not wrong, f"misclassified (got, want): {wrong}"


def test_results_follow_the_contract(sample_results):
    for r, _ in sample_results.values():
        ex = Extraction.model_validate(r)
        assert ex.engine == ENGINE_NAME and ex.kind in KINDS
        assert 0.0 <= ex.confidence <= 1.0
        assert len(ex.rows) == len(ex.row_confidence)
        assert all(0.0 <= c <= 1.0 for c in ex.row_confidence)
        assert all("reason" in d and "row" in d for d in ex.dropped_rows)


@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_accuracy_floor(sample_results, kind):
    sm = Summary()
    for r, lab in sample_results.values():
        if lab["kind"] == kind:
            sm.add(score_image(r["kind"], r["meta"], r["rows"], lab))
    if sm.images == 0:
        pytest.skip(f"no samples of {kind}")
    rec, prec = FLOORS[kind]
    assert sm.recall >= rec, f"{kind} recall {sm.recall:.3f} < {rec}"
    assert sm.precision >= prec, f"{kind} precision {sm.precision:.3f} < {prec}"


def test_unknown_screen_and_corrupt_bytes():
    im = Image.new("RGB", (1080, 2340), (240, 240, 240))
    d = ImageDraw.Draw(im)
    d.text((100, 300), "Hello world, this is not a game screen 12,345", fill=(0, 0, 0))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    res = extract(buf.getvalue())
    assert res.kind == "unknown"
    assert res.rows == [] and res.evidence
    with pytest.raises(ExtractionError) as ei:
        extract(b"\x00\x01 not an image at all")
    assert ei.value.stage == "decode"
    blank = io.BytesIO()
    Image.new("RGB", (200, 400), (255, 255, 255)).save(blank, format="JPEG")
    assert extract(blank.getvalue()).kind == "unknown"
