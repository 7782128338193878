"""Names no reader can read are doubtful, never stored garbled (issue 12: one player per person).

On recorded readings (the reader answers from the words it is given) plus the real second reader,
Tesseract, on the image: a name with a hole where the reader skipped glyphs, or with look-alike letters
it guessed, is asked of Tesseract; when Tesseract does not read the same name the row's name is
doubtful, with both readings. A row whose name region holds glyphs but no reading has a letter is kept
as a doubtful row (for review), not dropped as if the row were not there.
"""
from __future__ import annotations

from PIL import Image, ImageDraw

from observatory.extract import DEFINITIONS
from observatory.extract.names import lookalike_guess, name_hole
from observatory.extract.ocr import Word
from observatory.extract.pipeline import extract_page
from recorded_readings import NAMES, RecordedReader, bear_ranking

W, H = 1080, 2340
VALUES = [9_000_000, 8_000_000, 7_000_000, 6_000_000, 5_000_000]


def ranking(name_words: list[Word]) -> list[Word]:
    """A five-row Trap 1 ranking whose third row's name is read as `name_words` (at y 1120)."""
    words = [w for w in bear_ranking(VALUES, [1, 2, 3, 4, 5]) if not w.text.endswith(NAMES[2])]
    return words + name_words


def run(words: list[Word], image: Image.Image | None = None) -> dict:
    im = image or Image.new("RGB", (W, H), "white")
    return extract_page(im, "bear_damage", DEFINITIONS, RecordedReader(words=words))


def doubts(res: dict) -> dict[int, dict[str, str]]:
    return {r["rank"]: r["doubt_reasons"] for r in res["rows"] if r.get("doubtful")}


def test_a_hole_between_the_letters_of_a_name_is_missing_letters():
    # `[HEI]G  E  T` of `[HEI]Ɠɨᴙʅ༄ɨɴᴛᴇᴙᴙᴜpᴛᴇḋ`: 4 glyph heights between G and E
    holes = [Word("[HEI]G", 400, 0, 120, 30, 66), Word("E", 640, 0, 20, 30, 66), Word("T", 700, 0, 20, 30, 66)]
    assert "4.0 glyph heights unread between '[HEI]G' and 'E'" in name_hole(holes)
    spaced = [Word(ch, 400 + 40 * i, 0, 22, 30, 99) for i, ch in enumerate("DADDY")]  # D A D D Y
    assert name_hole(spaced) is None
    ornaments = [Word("[HEI]", 400, 0, 90, 30, 99), Word("BAZOOKA", 560, 0, 160, 30, 99)]  # [HEI]๛∘ঃBAZOOKA
    assert name_hole(ornaments) is None


def test_latin_mixed_with_look_alike_letters_in_one_word_is_a_guess():
    assert "Greek look-alikes (ελ) in 'SmiεÇλb'" in lookalike_guess("SmiεÇλb")
    assert lookalike_guess("[HEI]ΛLЦKΛЯD") is not None
    for name in ("Ivan Петров", "Петров", "xOsaツKŠA", "BrįåńThëbårbãrø", "[HEI]Valorin", "必須認真"):
        assert lookalike_guess(name) is None, name


def test_a_name_read_with_a_hole_is_doubtful_with_both_readings():
    res = run(ranking([Word("[HEI]G", 400, 1120, 120, 30, 66), Word("E", 640, 1120, 20, 30, 66),
                       Word("T", 700, 1120, 20, 30, 66)]))
    assert [r["rank"] for r in res["rows"]] == [1, 2, 3, 4, 5]
    reasons = doubts(res)
    assert list(reasons) == [3] and list(reasons[3]) == ["name"]
    assert "glyph heights unread between '[HEI]G' and 'E'" in reasons[3]["name"]
    assert "tesseract reads ''" in reasons[3]["name"]  # the second reader sees no such name on the image


def test_a_name_of_guessed_look_alikes_is_doubtful_unless_the_second_reader_agrees():
    res = run(ranking([Word("[HEI]SmiεÇλb", 400, 1120, 220, 30, 82)]))
    assert list(doubts(res)) == [3]
    assert "look-alikes (ελ)" in doubts(res)[3]["name"]


def test_a_plain_name_asks_no_second_reader_and_stays_sure():
    res = run(ranking([Word(f"[HEI]{NAMES[2]}", 400, 1120, 220, 30, 70)]))
    assert doubts(res) == {}


def test_a_whole_row_whose_name_no_reader_can_read_is_kept_doubtful_not_dropped():
    # the reader saw only the tag's brackets of `[HEI]ΛLЦKΛЯD ◢◤`; the glyphs are on the image
    im = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(im)
    for x in range(400, 620, 30):
        draw.polygon([(x, 1145), (x + 12, 1120), (x + 24, 1145)], fill="black")  # triangles: no letters
    res = run(ranking([Word("[]", 400, 1120, 30, 30, 80)]), im)
    row = next(r for r in res["rows"] if r["rank"] == 3)
    assert row["name"] is None and row["damage"] == 7_000_000 and row["doubtful"] == ["name"]
    assert "no reader could read the name" in row["doubt_reasons"]["name"]
    assert not res["dropped_rows"]


def test_a_row_with_nothing_where_its_name_would_be_is_still_dropped():
    res = run(ranking([]))  # nothing on the (blank) image where the third name would be
    assert [r["rank"] for r in res["rows"]] == [1, 2, 4, 5]
    assert [d["reason"] for d in res["dropped_rows"]] == ["row cut off or covered: name not visible"]
