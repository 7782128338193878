"""/-/player/<id> through Datasette's own client on a real log and projections: one player, all they did.

The page must find the player's readings in every table the schema holds (a pack's ranking entries
table included, without naming it), show each value with its crop, every name the player went by,
power over time, the corrections about them, and narrow all of it (and its CSV) to a date range.
Leaderboards show the name a player had at the event beside the one they have now.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from datasette_auth_passwords.utils import hash_password

from builders import sha_of, shot
from datasette_client import make_datasette
from observatory.eventlog import open_log
from observatory.process.pipeline import project_now
from observatory.serve.player import sources
from observatory.serve.roles import password_envs
from observatory.settings import load_settings
from review_scenario import PASSWORD, Browser, draw_blob
from stores import q

HUNT = "Screenshot_20251112_173538_Whiteout Survival.jpg"
OLD_HUNT = "Screenshot_20251105_120000_Whiteout Survival.jpg"
ROSTER = "Screenshot_20251112_114619_Whiteout Survival.jpg"
RANKING = "Screenshot_20251103_100000_Whiteout Survival.jpg"


@pytest.fixture
def history(home: Path) -> Path:
    """Valorin: on the roster, in two hunts (the older one under another name), in a pack's ranking."""
    with open_log(load_settings()) as store:
        store.append(shot(ROSTER, "alliance_members",
                          [{"name": "Valorin", "power_text": "211.5M", "power": 211500000, "furnace_text": "30", "tier": "R4"},
                           {"name": "Moensori", "power_text": "98M", "power": 98000000, "furnace_text": "FC2", "tier": "R3"}],
                          {"online": "6/100"}))
        store.append(shot(HUNT, "bear_damage", [{"rank": 1, "name": "[HEI]Valorin", "damage": 6442016308},
                                                {"rank": 2, "name": "[HEI]Moensori", "damage": 4483222355}], {"trap_id": 1}))
        store.append(shot(OLD_HUNT, "bear_damage", [{"rank": 1, "name": "[HEI]Zorblax", "damage": 5000000000}],
                          {"trap_id": 2}))
        store.append(shot(RANKING, "tb_event_ranking", [{"rank": 1, "tag": "HEI", "name": "Valorin", "power": 211000000,
                                                         "points": 777123}]))
        project_now(load_settings(), store)
    for name in (HUNT, OLD_HUNT, ROSTER, RANKING):
        draw_blob(home, sha_of(f"HEI/{name}"))
    return home


def valorin(home: Path) -> str:
    return q(home, "SELECT player_id FROM players WHERE display_name = 'Valorin'")[0][0]


def test_every_table_of_player_readings_in_the_schema_is_a_source_with_its_event():
    found = {s.table: s for s in sources()}
    assert found["bear_scores"].parent == "bear_hunts" and found["bear_scores"].when == "started_at"
    assert found["war_scores"].parent == "wars" and found["race_results"].parent == "races"
    assert found["tb_event_scores"].parent == "rankings" and found["tb_event_scores"].kind_column
    assert found["contribution_snapshots"].parent is None and found["contribution_snapshots"].when == "period_start"
    assert {"players", "player_aliases", "review_queue", "roster_snapshots"}.isdisjoint(found)


def test_the_page_shows_names_power_events_with_crops_and_corrections(history):
    pid = valorin(history)
    web = Browser(make_datasette(load_settings()))
    page = web.get(f"/-/player/{pid}").text
    assert ">[HEI]Valorin</h1>" in page
    assert "211,500,000" in page  # power over time
    events = re.findall(r'<tr class="obs-event" data-table="([a-z_]+)">', page)
    assert sorted(events) == ["bear_scores", "tb_event_scores"]
    assert "damage 6,442,016,308" in page and "points 777,123" in page
    crop = f"/-/crop/{sha_of('HEI/' + HUNT)}/name%3A%5BHEI%5DValorin/damage"
    assert crop in page
    resp = web.get(crop)
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
    assert "Zorblax" not in page  # another player, until an officer says it is him

    resp = web.fix(action="link-alias", name="[HEI]Zorblax", player=pid, community="HEI", reason="renamed in October")
    assert resp.status_code == 303, resp.text[:500]
    page = web.get(f"/-/player/{pid}").text
    names = re.search(r'<table class="obs-table" id="obs-names">(.*?)</table>', page, re.S).group(1)
    assert "Zorblax" in names and "Valorin" in names
    assert "renamed in October" in page and "link_alias" in page  # the correction about him
    assert len(re.findall(r'data-table="bear_scores"', page)) == 2
    assert "Zorblax</td>" in page  # the old hunt keeps the name he had then


def test_a_date_range_narrows_the_page_and_its_csv_alike(history):
    pid = valorin(history)
    web = Browser(make_datasette(load_settings()))
    page = web.get(f"/-/player/{pid}?since=2025-11-10&until=2025-11-30").text
    assert re.findall(r'data-table="([a-z_]+)"', page) == ["bear_scores"]  # the Nov 3 ranking is outside
    assert f'href="/-/player/{pid}.csv?since=2025-11-10&amp;until=2025-11-30"' in page
    resp = web.get(f"/-/player/{pid}.csv?since=2025-11-10&until=2025-11-30")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.content.startswith(b"\xef\xbb\xbf")  # the BOM: a spreadsheet reads UTF-8
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [(r["event"], r["field"], r["value"]) for r in rows] == [
        ("bear_scores", "damage", "6442016308"), ("roster_snapshots", "power", "211500000")]
    assert all(r["current_name"] == "Valorin" for r in rows)
    bad = web.get(f"/-/player/{pid}?since=last+week")
    assert bad.status_code == 200 and "not a date" in bad.text
    assert web.get("/-/player/nobody").status_code == 404


def test_the_page_needs_the_same_login_as_the_tables_and_names_link_to_it(history, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_WEB_USERS", json.dumps(
        {"tom": {"role": "analyst", "password_hash": hash_password(PASSWORD, iterations=1000)}}))
    for env, value in password_envs(load_settings()).values():
        monkeypatch.setenv(env, value)
    pid = valorin(history)
    web = Browser(make_datasette(load_settings(), host="0.0.0.0"))
    assert web.get(f"/-/player/{pid}").status_code == 302  # to the login form
    assert web.get(f"/-/player/{pid}.csv").status_code == 302
    web.login("tom")
    assert web.get(f"/-/player/{pid}").status_code == 200
    table = web.get("/observatory/bear_scores").text
    assert f'<a class="obs-player" href="/-/player/{pid}">[HEI]Valorin</a>' in table
    query = web.get("/observatory/hunt_leaderboard?hunt_id=").text
    assert f'href="/-/player/{pid}"' in query


def test_leaderboards_show_the_name_read_at_the_event_beside_the_current_one(history):
    pid = valorin(history)
    web = Browser(make_datasette(load_settings()))
    assert web.fix(action="link-alias", name="[HEI]Zorblax", player=pid, community="HEI").status_code == 303
    old = q(history, "SELECT hunt_id FROM bear_hunts WHERE started_at LIKE '2025-11-05%'")[0][0]
    board = web.get(f"/observatory/hunt_leaderboard.json?_shape=array&hunt_id={old}&community=").json()
    assert [(r["name"], r["current_name"]) for r in board] == [("[HEI]Zorblax", "Valorin")]
    latest = web.get("/observatory/hunt_leaderboard.json?_shape=array&hunt_id=&community=").json()
    assert [(r["name"], r["current_name"]) for r in latest] == [("[HEI]Valorin", "Valorin"), ("[HEI]Moensori", "Moensori")]
