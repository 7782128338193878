"""The cross-checks on recorded readings: what the screen says about its own numbers."""
from hypothesis import given
from hypothesis import strategies as st

from observatory.extract.checks import check_rows, passes
from observatory.extract import DEFINITIONS
from observatory.extract.models import Check

RANKED = [Check(type="non_increasing", field="damage")]


def _rows(values):
    return [{"rank": i + 1, "name": f"p{i}", "damage": v} for i, v in enumerate(values)]


def test_one_misread_digit_in_a_ranking_is_the_doubtful_one():
    # 121,051 between 5,000 and 1,000: an icon read as a leading digit
    doubts = check_rows(RANKED, _rows([9_000, 5_000, 121_051, 1_000, 900]), {}, "rank")
    assert list(doubts) == [2]
    assert "breaks the ranking's order" in doubts[2]["damage"]
    assert "above it 5,000" in doubts[2]["damage"] and "below it 1,000" in doubts[2]["damage"]


def test_a_pinned_self_row_far_down_the_ranks_fits_by_rank():
    rows = _rows([9_000, 5_000, 1_000]) + [{"rank": 150, "name": "me", "damage": 10}]
    assert check_rows(RANKED, rows, {}, "rank") == {}


def test_a_row_above_the_screens_total_is_doubtful_and_passes_after_a_right_reread():
    checks = [Check(type="at_most_meta", field="power", meta="troop_power")]
    rows = [{"name": "a", "power": 1_604}, {"name": "b", "power": 35_000}]
    doubts = check_rows(checks, rows, {"troop_power": 34_695}, None)
    assert doubts == {1: {"power": "35,000 is more than the screen's troop_power 34,695"}}
    assert passes(checks, rows, {"troop_power": 34_695}, 1, "power", 5_000)
    assert not passes(checks, rows, {"troop_power": 34_695}, 1, "power", 35_001)


def test_no_total_on_the_screen_means_no_doubt():
    checks = [Check(type="at_most_meta", field="power", meta="troop_power")]
    assert check_rows(checks, [{"power": 10**9}], {}, None) == {}


@given(st.lists(st.integers(0, 10**12), max_size=30))
def test_an_ordered_ranking_has_no_doubts(values):
    assert check_rows(RANKED, _rows(sorted(values, reverse=True)), {}, "rank") == {}


@given(st.lists(st.integers(0, 10**12), min_size=2, max_size=30), st.data())
def test_removing_the_doubtful_rows_leaves_an_ordered_ranking(values, data):
    rows = _rows(values)
    doubts = check_rows(RANKED, rows, {}, "rank")
    left = [r["damage"] for i, r in enumerate(rows) if i not in doubts]
    assert left == sorted(left, reverse=True)
    # and the fewest rows are doubted: a longest non-increasing run is kept
    assert len(left) >= max(1, len(values) - len(doubts))


def test_every_ranked_kind_declares_its_order_check():
    for kind in ("bear_damage", "bear_overview", "contribution", "alliance_power", "foundry_result"):
        assert any(c.type == "non_increasing" for c in DEFINITIONS[kind].checks), kind
    assert any(c.type == "at_most_meta" and c.meta == "troop_power" for c in DEFINITIONS["foundry_signup"].checks)
