"""The `team_match` and `race` shapes' pure parts: whose team, the result, a sub's score over a full match."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from observatory.project.domain.matches import our_team, per_full_match, result, shown_date, team_totals


def test_our_team_is_the_one_whose_players_the_community_sees_elsewhere():
    teams = {1: ["opp1", "opp2", "opp3"], 2: ["cyn", "mar", "opp9"]}
    assert our_team(teams, known={"cyn", "mar", "bob"}) == 2
    assert our_team(teams, known=set()) == 1  # nothing known: the upper block, as table bots put the host first


def test_a_sub_is_scaled_to_a_full_war_and_a_regular_is_not():
    assert per_full_match(56, 7, 12) == 96.0
    assert per_full_match(87, None, 12) == 87.0
    assert per_full_match(87, 12, 12) == 87.0
    assert per_full_match(87, 15, 12) == 87.0  # a misread race count beyond the war is not believed
    assert per_full_match(None, 7, 12) is None


@given(score=st.integers(0, 200), races=st.integers(1, 12))
def test_scaling_never_lowers_a_score_and_a_full_war_is_unchanged(score, races):
    scaled = per_full_match(score, races, 12)
    assert scaled is not None and scaled >= score
    assert per_full_match(score, 12, 12) == score


def test_result_and_totals():
    assert [result(500, 484), result(484, 500), result(492, 492), result(None, 1)] == ["win", "loss", "draw", None]
    assert team_totals([(1, 80), (1, 70), (2, 90), (None, 5), (2, None)]) == {1: 150, 2: 90}


def test_the_date_a_table_shows_is_read_in_the_formats_table_bots_print():
    from datetime import date

    assert shown_date("18 Jul 2025") == shown_date("2025-07-18") == shown_date("18.07.2025") == date(2025, 7, 18)
    assert shown_date("July 18, 2025") == date(2025, 7, 18)
    assert shown_date("Race 12") is None and shown_date("") is None
