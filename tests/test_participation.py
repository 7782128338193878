"""`participation` (who is slipping) through Datasette's own client on a real log and projections.

Members are counted against the events their community held in the window, a pack's ranking
included (its entries table joined in without being named in the query), and flagged at risk
under the threshold; the window and the threshold are the officer's to choose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import shot
from datasette_client import get, make_datasette, rows
from observatory.eventlog import open_log
from observatory.process.pipeline import project_now
from observatory.serve.pack_metadata import RANKING_ENTRIES
from observatory.settings import load_settings


def hunt(day: str, names: list[str], trap: int = 1) -> list:
    """One hunt's screenshot; its damages are the day's own (an identical reading would join two hunts)."""
    return shot(f"Screenshot_{day}_200000_Whiteout Survival.jpg", "bear_damage",
                [{"rank": i + 1, "name": f"[HEI]{n}", "damage": int(day) * 100 - i * 1_000_000} for i, n in enumerate(names)],
                {"trap_id": trap})


@pytest.fixture
def season(home: Path) -> Path:
    """Three members on the November roster; two November hunts, a ranking, and a hunt in September."""
    with open_log(load_settings()) as store:
        store.append(shot("Screenshot_20251112_114619_Whiteout Survival.jpg", "alliance_members",
                          [{"name": n, "power_text": "98M", "power": 98000000 + i, "furnace_text": "30", "tier": "R3"}
                           for i, n in enumerate(["Valorin", "Moensori", "Quietus"])], {"online": "3/100"}))
        store.append(hunt("20250901", ["Quietus"]))
        store.append(hunt("20251105", ["Valorin"], trap=2))
        store.append(hunt("20251112", ["Valorin", "Moensori"]))
        store.append(shot("Screenshot_20251103_100000_Whiteout Survival.jpg", "tb_event_ranking",
                          [{"rank": 1, "tag": "HEI", "name": "Valorin", "power": 211000000, "points": 777123}]))
        project_now(load_settings(), store)
    return home


def table(ds, query: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {r["name"]: r for r in rows(ds, f"/observatory/participation.json?{query}")}


def test_members_under_the_threshold_are_at_risk_over_the_chosen_weeks(season):
    ds = make_datasette(load_settings())
    got = table(ds, "community=HEI&weeks=4&threshold=50&until=")
    assert {n: (r["took_part"], r["held"], r["at_risk"]) for n, r in got.items()} == {
        "Valorin": (3, 3, ""), "Moensori": (1, 3, "at risk"), "Quietus": (0, 3, "at risk")}
    assert "bear hunt 2/2" in got["Valorin"]["by_event"] and "tb_event_ranking 1/1" in got["Valorin"]["by_event"]
    assert got["Valorin"]["window_until"] == "2025-11-12" and got["Valorin"]["window_after"] == "2025-10-15"
    order = [r["name"] for r in rows(ds, "/observatory/participation.json?community=HEI&weeks=4&threshold=50&until=")]
    assert order == ["Quietus", "Moensori", "Valorin"]  # the slipping first

    longer = table(ds, "community=&weeks=20&threshold=30&until=")
    assert (longer["Quietus"]["took_part"], longer["Quietus"]["held"]) == (1, 4)
    assert longer["Moensori"]["at_risk"] == "at risk" and longer["Valorin"]["at_risk"] == ""
    lenient = table(ds, "community=HEI&weeks=4&threshold=30&until=")
    assert lenient["Moensori"]["at_risk"] == ""  # 33% clears a 30% bar

    before = table(ds, "community=HEI&weeks=1&threshold=50&until=2025-11-06")  # Oct 31 - Nov 6: the ranking, a hunt
    assert {n: (r["took_part"], r["held"]) for n, r in before.items()} == {"Valorin": (2, 2)}


def test_the_query_joins_every_ranking_entries_table_and_its_page_links_players(season):
    ds = make_datasette(load_settings())
    sql = ds.metadata("queries", database="observatory")["participation"]["sql"]
    assert RANKING_ENTRIES not in sql and "[tb_event_scores]" in sql
    page = get(ds, "/observatory/participation?community=HEI&weeks=4&threshold=50&until=").text
    assert 'class="obs-player" href="/-/player/' in page and "at risk" in page
