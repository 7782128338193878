"""An abbreviated value (211.5M) and an exact reading of the same player's same measure agree (crosscheck.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from observatory.project.domain.crosscheck import Measured, abbreviate, agrees, disagreements, span

T0 = datetime(2025, 11, 12, 12, 0, tzinfo=timezone.utc)
# a kind whose power is the chief's power read exactly (no such Whiteout Survival screen is read today)
EXACT = {("alliance_members", "power"): ("chief_power", "power_text"), ("chief_profile", "power"): ("chief_power", None)}


def roster(player: str, shown: str, value: int, at: datetime = T0) -> Measured:
    return Measured(player, "alliance_members", {"name": player, "power_text": shown, "power": value}, at, "roster")


def profile(player: str, value: int, at: datetime = T0) -> Measured:
    return Measured(player, "chief_profile", {"name": player, "power": value}, at, "profile")


def test_span_covers_rounding_and_truncation():
    assert span("211.5M") == (211_450_000, 211_599_999)
    assert span("210M") == (209_500_000, 210_999_999)
    assert span("1.2B") == (1_150_000_000, 1_299_999_999)
    assert span("85.3K") == (85_250, 85_399)
    assert span("2,891") is None and span("") is None


@given(st.integers(min_value=1, max_value=10**13), st.integers(min_value=0, max_value=2), st.booleans())
def test_any_value_agrees_with_its_own_abbreviation(value, decimals, truncate):
    shown = abbreviate(value, decimals, truncate=truncate)
    assert agrees(value, T0, shown, T0)
    bounds = span(shown)
    assert bounds is None or bounds[0] <= value <= bounds[1]


def test_a_misread_exact_power_is_doubtful_with_the_reason():
    readings = [roster("Valorin", "211.5M", 211_500_000), profile("Valorin", 311_534_112, T0 + timedelta(hours=3))]
    [doubt] = disagreements(readings, measures=EXACT)
    assert doubt.exact.ref == "profile" and doubt.shown.ref == "roster"
    assert "power 311,534,112 disagrees with 211.5M (211,450,000..211,599,999)" in doubt.reason


def test_an_exact_power_within_rounding_or_plausible_growth_agrees():
    readings = [roster("Valorin", "211.5M", 211_500_000), profile("Valorin", 211_534_112),
                roster("Xoxo", "150M", 150_000_000), profile("Xoxo", 154_000_000, T0 + timedelta(days=2))]
    assert disagreements(readings, measures=EXACT) == []


def test_readings_far_apart_in_time_or_of_other_players_are_not_compared():
    readings = [roster("Valorin", "211.5M", 211_500_000), profile("Valorin", 400_000_000, T0 + timedelta(days=30)),
                profile("Xoxo", 999_999)]
    assert disagreements(readings, measures=EXACT) == []


def test_sign_up_power_is_another_measure_and_never_compared_with_the_roster():
    """Foundry and championship sign-ups show troop power (3,582 beside a roster's 285.4M)."""
    readings = [roster("xBes", "285.4M", 285_400_000),
                Measured("xBes", "foundry_signup", {"name": "xBes", "power": 3582}, T0),
                Measured("xBes", "ac_signup", {"name": "xBes", "power": 4924, "order": 3}, T0)]
    assert disagreements(readings) == []


# --- wired into the domain projection (derive.py), real events and projectors --------------------------------

def _build(tmp_path, events):
    import sqlite3

    from observatory.eventlog import EventStore
    from observatory.project import all_projectors
    from observatory.project.rebuild import rebuild

    store = EventStore(tmp_path / "events.db")
    for batch in events:
        store.append(batch)
    rebuild(store, tmp_path / "p.db", all_projectors())
    store.close()
    conn = sqlite3.connect(tmp_path / "p.db")
    conn.row_factory = sqlite3.Row
    return conn


def _roster_and_signup(signup_powers: dict[str, int]):
    from builders import shot

    roster = shot("Screenshot_20251112_114619_Whiteout Survival.jpg", "alliance_members",
                  [{"name": "xBes", "power_text": "285.4M", "power": 285_400_000, "furnace_text": "30", "tier": "R4"},
                   {"name": "SAAAM6", "power_text": "189.8M", "power": 189_800_000, "furnace_text": "30", "tier": "R4"}],
                  {"online": "7/100", "sections": ["R4"]})
    signup = shot("Screenshot_20251112_120000_Whiteout Survival.jpg", "foundry_signup",
                  [{"name": n, "power": p, "status": "join", "voted": True, "tier": None} for n, p in signup_powers.items()],
                  {"legion": 1, "joined": 2, "capacity": 30})
    return [roster, signup]


def test_troop_power_on_a_sign_up_is_not_compared_with_roster_power(tmp_path):
    conn = _build(tmp_path, _roster_and_signup({"xBes": 3582, "SAAAM6": 1749}))
    assert {r["name"]: r["power"] for r in conn.execute("SELECT * FROM foundry_signups")} == {"xBes": 3582, "SAAAM6": 1749}
    assert not conn.execute("SELECT * FROM review_queue WHERE reason = 'doubtful'").fetchall()


def test_an_exact_reading_the_abbreviation_cannot_explain_goes_to_review_not_to_the_tables(tmp_path, monkeypatch):
    """Were a sign-up's power the chief's power read exactly, 385,412,345 beside a roster's 285.4M an hour earlier
    would be a misread (a digit), and 285,412,345 a reading that agrees."""
    from observatory.project.domain import crosscheck

    monkeypatch.setitem(crosscheck.MEASURES, ("foundry_signup", "power"), ("chief_power", None))
    conn = _build(tmp_path, _roster_and_signup({"xBes": 385_412_345, "SAAAM6": 189_812_345}))
    assert [r["name"] for r in conn.execute("SELECT * FROM foundry_signups")] == ["SAAAM6"]
    [doubt] = conn.execute("SELECT * FROM review_queue WHERE reason = 'doubtful'").fetchall()
    assert "power 385,412,345 disagrees with 285.4M (285,350,000..285,499,999)" in doubt["detail"]
    assert doubt["player_id"] and doubt["screenshot_id"]
