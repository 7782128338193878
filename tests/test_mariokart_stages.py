"""The Mario Kart pack's kinds on recorded readings (no OCR model runs): tied ranks on a race result, a
war table's teams, totals, date, races and difference, a team that does not add up, a sub's "(7)", and
the in-game team result's two columns. The engine features themselves: tests/test_extract_layouts.py."""
from __future__ import annotations

import re

from PIL import Image

from observatory.extract.ocr import Segment, Word
from observatory.extract.page import digit_box
from observatory.extract.pipeline import extract_page
from recorded_readings import RecordedReader
from observatory.games import kinds


def run(kind: str, size: tuple[int, int], words: list[Word], crops: dict | None = None) -> dict:
    return extract_page(Image.new("RGB", size, "white"), kind, kinds(), RecordedReader(words=words, crops=crops or {}))


# ---------------------------------------------------------------- MK8D: ties

def mk8d_race(ranks: list[int], names: list[str]) -> list[Word]:
    words = [Word("3/6", 88, 36, 110, 32, 99)]
    for i, (rank, name) in enumerate(zip(ranks, names)):
        y = 64 + 52 * i
        words += [Word(str(rank), 575, y, 22, 25, 99), Word(name, 682, y + 2, 120, 20, 99),
                  Word(str(2000 - 10 * i), 1150, y + 1, 66, 23, 99)]
    return words


NAMES = ["Red", "Princess", "Kimberly", "Shelby", "Mituo", "Pauly P"]


def test_a_tie_repeats_the_rank_and_the_next_rank_skips():
    res = run("mk8d_race_result", (1280, 720), mk8d_race([1, 2, 2, 4, 5, 6], NAMES))
    assert [(r["rank"], r["name"]) for r in res["rows"]] == list(zip([1, 2, 2, 4, 5, 6], NAMES))


def test_a_misread_rank_that_is_no_tie_is_still_repaired():
    res = run("mk8d_race_result", (1280, 720), mk8d_race([1, 2, 8, 4, 5, 6], NAMES))
    assert [r["rank"] for r in res["rows"]] == [1, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------- war table: teams, totals, sums, subs

TEAM1 = [("Dave", 107), ("Haru", 90), ("Corbs", 87), ("Wilbur", 82), ("Nick", 56), ("Cynical (5)", 27)]
TEAM2 = [("Toopa", 115), ("CrazyKG", 104), ("Raph", 81), ("Toshida", 77), ("Chadofy", 75), ("Nero", 39)]


def war_table(team1=TEAM1, team2=TEAM2, total1=449, total2=491) -> list[Word]:
    words = [Word("18 Jul 2025", 583, 20, 247, 34, 99), Word("12 Races", 945, 20, 193, 38, 99)]
    y = 111
    for team, rows in ((1, team1), (2, team2)):
        for i, (name, score) in enumerate(rows):
            words += [Word(name, 700, y, 20 * len(name), 42, 99), Word(str(score), 970, y + 2, 52, 40, 99),
                      Word(f"{i + 4}th", 1080, y + 6, 48, 30, 99)]
            y += 75
        y += 35  # the gap between the teams' blocks
    words += [Word(str(total1), 1290, 250, 288, 126, 99), Word(str(total2), 1286, 760, 266, 127, 99),
              Word("±2" if total2 > total1 else "±0", 1510, 611, 59, 41, 99)]
    return words


def test_two_blocks_are_two_teams_with_their_totals():
    res = run("mkw_war_table", (1720, 1114), war_table())
    assert [(r["team"], r["name"], r["score"]) for r in res["rows"]] == (
        [(1, n.split(" (")[0], s) for n, s in TEAM1] + [(2, n, s) for n, s in TEAM2])
    assert res["meta"] == {"date": "18 Jul 2025", "races": 12, "team1_total": 449, "team2_total": 491, "diff": 2}
    assert not any(r.get("doubtful") for r in res["rows"])


def test_a_sub_keeps_the_races_played_apart_from_the_name():
    res = run("mkw_war_table", (1720, 1114), war_table())
    sub = next(r for r in res["rows"] if r["name"] == "Cynical")
    assert (sub["races"], sub["name_text"]) == (5, "Cynical (5)")
    assert all(r["races"] is None for r in res["rows"] if r["name"] != "Cynical")


def test_a_races_mark_the_page_pass_missed_is_read_from_the_pixels():
    """The page pass saw `Stickman` but not the detached `(7)` after it; reading the name's box again finds it."""
    team1 = [("Stickman", 44)] + TEAM1[1:]
    res = run("mkw_war_table", (1720, 1114), war_table(team1, total1=44 + 90 + 87 + 82 + 56 + 27),
              crops={(760, 130): "Stickman (7)"})
    row = res["rows"][0]
    assert (row["name"], row["races"], row["name_text"]) == ("Stickman", 7, "Stickman (7)")


def test_a_team_whose_rows_do_not_add_up_is_doubtful_with_the_reason():
    res = run("mkw_war_table", (1720, 1114), war_table(total1=459))  # the rows add up to 449
    team1 = [r for r in res["rows"] if r["team"] == 1]
    assert all(r["doubtful"] == ["score"] for r in team1)
    assert team1[0]["doubt_reasons"]["score"] == "team 1's 6 rows add up to 449, not the screen's team1_total 459"
    assert not any(r.get("doubtful") for r in res["rows"] if r["team"] == 2)


# ---------------------------------------------------------------- in-game team result: two columns

def test_columns_side_by_side_are_teams_and_names_sit_left_of_their_scores():
    words = [Word("500", 509, 353, 267, 99, 99), Word("484", 1171, 347, 271, 99, 99)]
    left = [("SND Zach", 94), ("SND rey", 90), ("SND Matt", 90), ("SND ruko", 89), ("SND josh", 86), ("SND malta", 51)]
    right = [("Boo Dicey", 110), ("Boo Corbs", 96), ("Boo sopt", 95), ("Boo Quick", 72), ("Boo Danika", 65),
             ("Boo archi", 46)]
    for i, ((n1, s1), (n2, s2)) in enumerate(zip(left, right)):
        y = 550 + 65 * i
        words += [Word(n1, 369, y, 140, 23, 99), Word(str(s1), 839, y - 1, 40, 26, 99),
                  Word(n2, 1030, y, 145, 23, 99), Word(str(s2), 1500, y - 1, 40, 26, 99)]
    res = run("mkw_team_result", (1836, 1030), words)
    got = sorted((r["team"], r["name"], r["score"]) for r in res["rows"])
    assert got == sorted([(1, n, s) for n, s in left] + [(2, n, s) for n, s in right])
    assert (res["meta"]["team1_total"], res["meta"]["team2_total"]) == (500, 484)
    assert not any(r.get("doubtful") for r in res["rows"])


# ---------------------------------------------------------------- pure helpers

def test_a_place_run_into_the_score_is_cut_off_the_numbers_box():
    seg = Segment([Word("64·9th", 506, 249, 68, 16, 98)])
    rx = re.compile(kinds()["mkw_war_table"].rows.anchor)
    left, _, right, _ = digit_box(seg, rx)
    assert left == 506 and 506 + 2 * 68 / 6 - 1 <= right < 506 + 3 * 68 / 6
