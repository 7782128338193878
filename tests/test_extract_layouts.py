"""Generic layouts the engine reads for any game, on recorded readings (no OCR model runs): a total per
team the rows add up to, tied ranks, blocks of rows (teams) and their totals, a name's "(7)" mark,
columns side by side, and dense lists whose rows the page pass missed many of.

A toy game's kinds are declared inline: these are engine features, not one game's."""
from __future__ import annotations

import re

from hypothesis import assume, given, strategies as st
from PIL import Image

from observatory.extract.checks import check_rows
from observatory.extract.locate import layout_rows, row_pitch
from observatory.extract.models import Check, KindDefinition
from observatory.extract.ocr import Segment, Word
from observatory.extract.page import Page, build_lines, digit_box
from observatory.extract.pipeline import extract_page
from observatory.extract.readers import _fits
from recorded_readings import RecordedReader


def run(kind: dict, size: tuple[int, int], words: list[Word], crops: dict | None = None) -> dict:
    defn = KindDefinition.model_validate(kind)
    return extract_page(Image.new("RGB", size, "white"), defn.name, {defn.name: defn},
                        RecordedReader(words=words, crops=crops or {}))


# ---------------------------------------------------------------- sum_meta: a team's rows add up to its total

TEAM_SUM = [Check(type="sum_meta", field="score", group="team", meta="team{}_total")]


def test_rows_that_add_up_to_their_teams_total_raise_no_doubt():
    rows = [{"team": 1, "score": 10}, {"team": 1, "score": 5}, {"team": 2, "score": 7}]
    assert check_rows(TEAM_SUM, rows, {"team1_total": 15, "team2_total": 7}) == {}


def test_a_team_that_does_not_add_up_is_doubtful_as_a_whole_with_the_sum_and_the_total():
    rows = [{"team": 1, "score": 10}, {"team": 1, "score": 5}, {"team": 2, "score": 7}]
    doubts = check_rows(TEAM_SUM, rows, {"team1_total": 18, "team2_total": 7})
    assert set(doubts) == {0, 1}
    assert doubts[0]["score"] == "team 1's 2 rows add up to 15, not the screen's team1_total 18"


def test_a_missing_value_is_named_and_a_total_not_shown_checks_nothing():
    rows = [{"team": 1, "score": 10}, {"team": 1, "score": None}, {"team": 2, "score": 7}]
    doubts = check_rows(TEAM_SUM, rows, {"team1_total": 15})
    assert set(doubts) == {0, 1} and doubts[1]["score"].endswith("(a value is missing)")


def test_without_a_group_all_rows_add_up_to_the_one_total():
    check = [Check(type="sum_meta", field="points", meta="total")]
    rows = [{"points": 3}, {"points": 4}]
    assert check_rows(check, rows, {"total": 7}) == {}
    assert set(check_rows(check, rows, {"total": 8})) == {0, 1}


# ---------------------------------------------------------------- ties: 1, 2, 2, 4

RACE = {
    "name": "toy_race", "phrases": [],
    "rows": {"anchor": r"^(\d{1,5})$", "anchor_x": [0.86, 0.97], "band_up": 0.9, "band_down": 0.9,
             "sequence_field": "rank", "ties": True},
    "fields": [
        {"name": "rank", "type": "int", "source": "region", "x_range": [0.42, 0.505], "whitelist": "0123456789"},
        {"name": "name", "type": "name", "source": "same_line", "x_range": [0.52, 0.735], "required": True},
        {"name": "score", "type": "int", "source": "anchor"},
    ],
}
NAMES = ["Red", "Princess", "Kimberly", "Shelby", "Mituo", "Pauly P"]


def race(ranks: list[int]) -> list[Word]:
    words = []
    for i, (rank, name) in enumerate(zip(ranks, NAMES)):
        y = 64 + 52 * i
        words += [Word(str(rank), 575, y, 22, 25, 99), Word(name, 682, y + 2, 120, 20, 99),
                  Word(str(2000 - 10 * i), 1150, y + 1, 66, 23, 99)]
    return words


def test_a_tie_repeats_the_rank_and_the_next_rank_skips():
    res = run(RACE, (1280, 720), race([1, 2, 2, 4, 5, 6]))
    assert [(r["rank"], r["name"]) for r in res["rows"]] == list(zip([1, 2, 2, 4, 5, 6], NAMES))


def test_a_misread_rank_that_is_no_tie_is_still_repaired():
    res = run(RACE, (1280, 720), race([1, 2, 8, 4, 5, 6]))
    assert [r["rank"] for r in res["rows"]] == [1, 2, 3, 4, 5, 6]


def test_without_ties_a_repeated_rank_is_a_misread():
    no_ties = {**RACE, "rows": {**RACE["rows"], "ties": False}}
    res = run(no_ties, (1280, 720), race([1, 2, 2, 4, 5, 6]))
    assert [r["rank"] for r in res["rows"]] == [1, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------- blocks of rows (teams) and their totals

TABLE = {
    "name": "toy_war", "phrases": [],
    "meta": [{"name": "team1_total", "type": "block_total", "block": 1},
             {"name": "team2_total", "type": "block_total", "block": 2}],
    "rows": {"anchor": r"^(\d{1,3})$", "anchor_x": [0.5, 0.62], "band_up": 0.6, "band_down": 0.6, "block_gap": 1.25},
    "checks": [{"type": "sum_meta", "field": "score", "group": "team", "meta": "team{}_total"}],
    "fields": [
        {"name": "team", "type": "int", "source": "block"},
        {"name": "name", "type": "name", "source": "same_line", "x_range": [0.3, 0.56], "required": True},
        {"name": "score", "type": "int", "source": "anchor"},
    ],
}
TEAM1 = [("Dave", 107), ("Haru", 90), ("Corbs", 87), ("Wilbur", 82), ("Nick", 56), ("Cynical (5)", 27)]
TEAM2 = [("Toopa", 115), ("CrazyKG", 104), ("Raph", 81), ("Toshida", 77), ("Chadofy", 75), ("Nero", 39)]


def war_table(team1=TEAM1, team2=TEAM2, total1=449, total2=491) -> list[Word]:
    """Two blocks one above the other, a little further apart than their rows, each with its big total."""
    words = []
    y = 111
    for rows in (team1, team2):
        for name, score in rows:
            words += [Word(name, 700, y, 20 * len(name), 42, 99), Word(str(score), 970, y + 2, 52, 40, 99)]
            y += 75
        y += 35
    return words + [Word(str(total1), 1290, 250, 288, 126, 99), Word(str(total2), 1286, 760, 266, 127, 99)]


def test_two_blocks_are_two_teams_with_their_totals_and_a_total_is_no_row():
    res = run(TABLE, (1720, 1114), war_table())
    assert [(r["team"], r["score"]) for r in res["rows"]] == [(1, s) for _, s in TEAM1] + [(2, s) for _, s in TEAM2]
    assert res["meta"] == {"team1_total": 449, "team2_total": 491}
    assert not any(r.get("doubtful") for r in res["rows"])


def test_a_team_whose_rows_do_not_add_up_is_doubtful_with_the_reason():
    res = run(TABLE, (1720, 1114), war_table(total1=459))
    team1 = [r for r in res["rows"] if r["team"] == 1]
    assert all(r["doubtful"] == ["score"] for r in team1)
    assert team1[0]["doubt_reasons"]["score"] == "team 1's 6 rows add up to 449, not the screen's team1_total 459"
    assert not any(r.get("doubtful") for r in res["rows"] if r["team"] == 2)


def test_each_column_is_a_block():
    side = {**TABLE, "rows": {**TABLE["rows"], "anchor_x": [0.2, 0.9], "columns": [[0.0, 0.5], [0.5, 1.0]],
                              "block_gap": None},
            "fields": [TABLE["fields"][0], TABLE["fields"][2]]}
    words = []
    for i in range(6):
        y = 550 + 65 * i
        words += [Word(str(60 + i), 400, y, 40, 26, 99), Word(str(70 + i), 1300, y, 40, 26, 99)]
    words += [Word("375", 300, 350, 267, 99, 99), Word("435", 1171, 347, 271, 99, 99)]
    res = run(side, (1600, 1030), words)
    assert sorted((r["team"], r["score"]) for r in res["rows"]) == (
        [(1, 60 + i) for i in range(6)] + [(2, 70 + i) for i in range(6)])
    assert (res["meta"]["team1_total"], res["meta"]["team2_total"]) == (375, 435)


# ---------------------------------------------------------------- a name's "(7)": races a sub played

SUBS = {**TABLE, "fields": [TABLE["fields"][0],
                            {**TABLE["fields"][1],
                             "suffix": {"pattern": r"[\s·.]*[(\[{]\s*(\d{1,2})\s*[)\]}]?", "field": "races",
                                        "text": "name_text"}},
                            TABLE["fields"][2]]}


def test_a_sub_keeps_the_races_played_apart_from_the_name():
    res = run(SUBS, (1720, 1114), war_table())
    sub = next(r for r in res["rows"] if r["name"] == "Cynical")
    assert (sub["races"], sub["name_text"]) == (5, "Cynical (5)")
    assert all(r["races"] is None and r["name_text"] is None for r in res["rows"] if r["name"] != "Cynical")


def test_a_races_mark_the_page_pass_missed_is_read_from_the_pixels():
    """The page pass saw `Stickman` but not the detached `(7)` after it; the name's box read afresh has it."""
    team1 = [("Stickman", 44)] + TEAM1[1:]
    res = run(SUBS, (1720, 1114), war_table(team1, total1=44 + 90 + 87 + 82 + 56 + 27),
              crops={(760, 130): "Stickman (7)"})
    row = res["rows"][0]
    assert (row["name"], row["races"], row["name_text"]) == ("Stickman", 7, "Stickman (7)")


def test_another_name_in_the_fresh_read_gives_no_mark():
    res = run(SUBS, (1720, 1114), war_table(), crops={(760, 130): "Davey (7)"})
    assert res["rows"][0]["name"] == "Dave" and res["rows"][0]["races"] is None


# ---------------------------------------------------------------- columns side by side; layout evidence



TEAMS = {
    "name": "toy_teams", "phrases": [],
    "rows": {"anchor": r"^(\d{1,3})$", "anchor_x": [0.4, 0.86], "columns": [[0.0, 0.5], [0.5, 1.0]],
             "band_up": 0.6, "band_down": 0.6},
    "fields": [
        {"name": "team", "type": "int", "source": "block"},
        {"name": "name", "type": "name", "source": "same_line", "anchor_relative": True, "x_range": [-0.27, -0.01],
         "required": True},
        {"name": "score", "type": "int", "source": "anchor"},
    ],
}


def two_columns() -> list[Word]:
    words = []
    for i in range(6):
        y = 550 + 65 * i
        words += [Word(f"ΣND L{i}", 369, y, 140, 23, 99), Word(str(94 - i), 839, y - 1, 40, 26, 99),
                  Word(f"Boo R{i}", 1030, y, 145, 23, 99), Word(str(110 - i), 1500, y - 1, 40, 26, 99)]
    return words


def test_names_sit_the_same_distance_left_of_each_columns_scores():
    res = run(TEAMS, (1836, 1030), two_columns())
    assert sorted((r["team"], r["name"], r["score"]) for r in res["rows"]) == sorted(
        [(1, f"ΣND L{i}", 94 - i) for i in range(6)] + [(2, f"Boo R{i}", 110 - i) for i in range(6)])


def test_layout_evidence_counts_only_anchors_with_their_companion_column():
    defn = KindDefinition.model_validate({**TEAMS, "layout_columns": [{"pattern": r"^\d{1,3}$", "x_range": [0.78, 0.86]}]})
    words = two_columns()
    segs = [Segment([w]) for w in words]
    page = Page(Image.new("RGB", (1836, 1030)), segs, build_lines(segs), RecordedReader(words=words), words)
    assert layout_rows(defn, page) == 12
    alone = [w for w in words if w.left < 900]  # the left column without the right one
    segs = [Segment([w]) for w in alone]
    page = Page(Image.new("RGB", (1836, 1030)), segs, build_lines(segs), RecordedReader(words=alone), alone)
    assert layout_rows(defn, page) == 0


# ---------------------------------------------------------------- dense lists: missed rows, merged runs



@given(st.floats(20, 300), st.lists(st.sampled_from([1, 1, 1, 2, 3]), min_size=3, max_size=12))
def test_the_pitch_survives_missed_rows(pitch, steps):
    assume(steps.count(1) > len(steps) // 4)  # more than a quarter of the neighbours are found
    assert abs(row_pitch([k * pitch for k in steps]) - pitch) < 0.01 * pitch


def test_rows_the_page_pass_missed_in_a_dense_list_are_read_from_the_pixels():
    """Rows 1.4 number heights apart, four of ten scores unseen by the page pass: each hole is read again."""
    seen = {0, 1, 2, 5, 8, 9}
    words, crops = [], {}
    for i in range(10):
        y = 136 + 42 * i
        words += [Word(str(i + 1), 66, y, 17, 19, 99), Word(f"Player{i}", 153, y, 130, 22, 99)]
        if i in seen:
            words.append(Word(str(139 - 5 * i), 540, y, 45, 30, 99))
        else:
            crops[(560, y + 15)] = str(139 - 5 * i)
    kind = {**RACE, "name": "toy_standings",
            "rows": {**RACE["rows"], "anchor_x": [0.38, 0.46]},
            "fields": [{**RACE["fields"][0], "x_range": [0.03, 0.09]}, {**RACE["fields"][1], "x_range": [0.11, 0.39]},
                       RACE["fields"][2]]}
    res = run(kind, (1280, 720), words, crops)
    assert [(r["rank"], r["score"]) for r in res["rows"]] == [(i + 1, 139 - 5 * i) for i in range(10)]


def test_a_place_run_into_the_score_is_cut_off_the_numbers_box():
    seg = Segment([Word("64·9th", 506, 249, 68, 16, 98)])
    left, _, right, _ = digit_box(seg, re.compile(r"^(\d{1,3})(?:\W{0,3}\d{1,2}(?:st|nd|rd|th))?\W{0,2}$"))
    assert left == 506 and 506 + 2 * 68 / 6 - 1 <= right < 506 + 3 * 68 / 6
    whole = Segment([Word("Damage Points: 1,234", 400, 700, 460, 28, 99)])
    assert digit_box(whole, re.compile(r"Points\W*(\d[\d,]*)"))[2] == 860


def test_a_run_spanning_two_lines_does_not_answer_for_a_number_of_one():
    two_lines = Word("995", 531, 218, 65, 64, 72)
    assert not _fits(two_lines, (518, 208, 605, 258), letters=False)
    assert _fits(Word("99", 540, 218, 45, 31, 99), (518, 208, 605, 258), letters=False)
    assert _fits(two_lines, (518, 208, 605, 258), letters=True)  # a tall decorated name is still a name
