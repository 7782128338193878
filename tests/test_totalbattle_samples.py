"""Total Battle, added as data only (observatory/games/totalbattle/): the real reader on the real labelled crops.

The floors sit a little under what `benchmarks/accuracy.py --samples ../shared/samples/totalbattle` measures.
"""
from __future__ import annotations


import pytest

from observatory.extract.scoring import Summary, score_image
from sample_sets import SHARED, extracted, labelled

pytestmark = pytest.mark.slow  # OCR over the whole sample set
RECALL, PRECISION = 0.97, 0.99


@pytest.fixture(scope="module")
def results() -> list[tuple[dict, dict]]:
    labels = labelled("totalbattle")
    if not labels:
        pytest.skip(f"no labelled samples in {SHARED / 'totalbattle'}")
    return list(extracted(labels).values())


def test_every_crop_is_an_event_ranking_read_to_the_floor(results):
    sm = Summary()
    for r, lab in results:
        assert r["kind"] == lab["kind"] == "tb_event_ranking", lab["file"]
        sm.add(score_image(r["kind"], r["meta"], r["rows"], lab))
    assert sm.recall >= RECALL, f"recall {sm.recall:.3f}"
    assert sm.precision >= PRECISION, f"precision {sm.precision:.3f}"


def test_the_crown_level_after_a_name_is_not_part_of_it(results):
    """`[K98] Sador` with a crown showing 13 is Sador, while `Karodor 2` and `Tango12` keep their digits."""
    names = {row["name"] for r, _ in results for row in r["rows"]}
    assert {"Sador", "Elki", "Triple X", "Moony", "Karodor 2", "Tango12"} <= names
    assert not any(n.endswith((" 13", " 237", " 15", "X25")) for n in names)


def test_tag_power_and_points_are_typed_and_the_list_order_is_the_ranking(results):
    for r, lab in results:
        assert all(isinstance(row["power"], int) and isinstance(row["points"], int) for row in r["rows"]), lab["file"]
        assert all(row["tag"] and row["tag"].startswith("K") for row in r["rows"]), lab["file"]
        points = [row["points"] for row in r["rows"]]
        assert points == sorted(points, reverse=True), lab["file"]


def test_a_first_row_that_stands_clear_of_the_border_is_not_called_cut_off(results):
    first = [r["rows"][0] for r, _ in results if r["rows"]]
    assert not any(row.get("partial") for row in first)


def test_a_korean_name_the_neural_reader_lacks_is_read_by_tesseracts_hangul_model(results):
    """PP-OCRv6 has no Hangul (`EOS 이오스` -> `EOS 0`); an unsure name is read again by Tesseract's kor model."""
    names = {row["name"] for r, _ in results for row in r["rows"]}
    assert "EOS 이오스" in names and "EOS 0" not in names


def test_a_capital_i_the_first_reader_read_as_small_l_is_settled_by_the_second_reader(results):
    names = {row["name"] for r, _ in results for row in r["rows"]}
    assert "Ijebu Man" in names and "ljebu Man" not in names
