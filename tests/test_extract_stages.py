"""The stages after reading, on recorded readings: a change to locate, resolve or validate is tested
in milliseconds, with no OCR model run (the reader answers from the words it is given)."""
from __future__ import annotations

from PIL import Image

from observatory.extract import DEFINITIONS
from observatory.extract.ocr import Word
from observatory.extract.pipeline import extract_page
from recorded_readings import H, NAMES, W, RecordedReader, bear_ranking


def run(words: list[Word]) -> dict:
    return extract_page(Image.new("RGB", (W, H), "white"), "bear_damage", DEFINITIONS, RecordedReader(words=words))


def test_medals_without_a_digit_get_their_rank_from_the_sequence():
    values = [9_000_000, 8_000_000, 7_000_000, 6_000_000, 5_000_000]
    res = run(bear_ranking(values, [None, None, None, 4, 5]))
    assert [(r["rank"], r["name"], r["damage"]) for r in res["rows"]] == [
        (i + 1, f"[HEI]{NAMES[i]}", v) for i, v in enumerate(values)]
    assert not any(r.get("doubtful") for r in res["rows"])


def test_a_misread_rank_is_repaired_from_its_neighbours():
    values = [9_000_000, 8_000_000, 7_000_000, 6_000_000, 5_000_000]
    res = run(bear_ranking(values, [1, 2, 8, 4, 5]))  # '3' read as '8'
    assert [r["rank"] for r in res["rows"]] == [1, 2, 3, 4, 5]


def test_a_value_that_breaks_the_ranking_is_doubtful_with_the_reason():
    values = [9_000_000, 8_000_000, 97_000_000, 6_000_000, 5_000_000]  # an icon read as a leading 9
    res = run(bear_ranking(values, [1, 2, 3, 4, 5]))
    doubtful = [r for r in res["rows"] if r.get("doubtful")]
    assert [r["rank"] for r in doubtful] == [3]
    assert doubtful[0]["doubtful"] == ["damage"]
    assert "breaks the ranking's order (above it 8,000,000 and below it 6,000,000)" in doubtful[0]["doubt_reasons"]["damage"]
    assert all(not r.get("doubtful") for r in res["rows"] if r["rank"] != 3)


def test_a_last_row_repeating_a_name_above_is_the_capturers_pinned_row():
    words = bear_ranking([9_000_000, 8_000_000, 7_000_000, 6_000_000], [1, 2, 3, 4])
    words += [Word("[HEI]Stevie", 400, 1540, 220, 30, 99), Word("Damage Points: 8,000,000", 400, 1595, 460, 28, 99),
              Word("2", 100, 1560, 30, 35, 99)]
    res = run(words)
    assert [r["name"] for r in res["rows"]] == [f"[HEI]{n}" for n in NAMES[:4]]
    assert [d["reason"] for d in res["dropped_rows"]] == ["pinned self-row repeats a row above"]
