"""`.spreadsheet` exports through Datasette's own client: the page's filters, a date range, a BOM, the login.

What a spreadsheet user notices: the file opens with names intact (UTF-8 with a byte-order mark),
holds exactly the rows the page was filtered to (all of them, not one page), and is refused
to whoever may not see the page.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from datasette_auth_passwords.utils import hash_password

from builders import shot
from datasette_client import get, make_datasette
from observatory.eventlog import open_log
from observatory.process.pipeline import project_now
from observatory.serve.exports import csv_url
from observatory.serve.roles import password_envs
from observatory.settings import load_settings
from review_scenario import PASSWORD, Browser

DAYS = ["20251027", "20251103", "20251110", "20251117"]


@pytest.fixture
def hunts(home: Path) -> Path:
    """Four weekly hunts; the one of Nov 10 has a player whose name is not Latin."""
    with open_log(load_settings()) as store:
        for n, day in enumerate(DAYS):
            names = ["Valorin", "Ærøskøbing", "Ольга"] if day == "20251110" else ["Valorin"]
            store.append(shot(f"Screenshot_{day}_200000_Whiteout Survival.jpg", "bear_damage",
                              [{"rank": i + 1, "name": f"[HEI]{x}", "damage": int(day) * 100 - i} for i, x in enumerate(names)],
                              {"trap_id": 1 + n % 2}))
        project_now(load_settings(), store)
    return home


def table(resp) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"] == "text/csv; charset=utf-8"
    assert resp.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))


def test_a_table_export_keeps_the_date_range_and_every_row_not_one_page(hunts):
    ds = make_datasette(load_settings())
    page = get(ds, "/observatory/bear_scores?hunt_id__gte=&_sort=damage").text
    assert ".spreadsheet?" in page  # offered beside json and CSV
    since = "/observatory/bear_hunts.spreadsheet?started_at__gte=2025-11-03&started_at__lt=2025-11-11&_size=1"
    rows = table(get(ds, since))
    assert sorted(r["started_at"][:10] for r in rows) == ["2025-11-03", "2025-11-10"]
    names = table(get(ds, "/observatory/bear_scores.spreadsheet?name__contains=%C3%86r%C3%B8"))
    assert [r["name"] for r in names] == ["[HEI]Ærøskøbing"]
    assert "Ольга" in get(ds, "/observatory/bear_scores.spreadsheet").content.decode("utf-8-sig")


def test_a_query_export_takes_the_query_parameters_including_a_date_range(hunts):
    ds = make_datasette(load_settings())
    page = get(ds, "/observatory/hunt_comparison?community=HEI&since=2025-11-01&until=2025-11-12").text
    assert re.search(r'href="/observatory/hunt_comparison\.spreadsheet\?[^"]*since=2025-11-01', page)
    rows = table(get(ds, "/observatory/hunt_comparison.spreadsheet?community=HEI&since=2025-11-01&until=2025-11-12&limit="))
    assert [r["started_at"][:10] for r in rows] == ["2025-11-10", "2025-11-03"]
    assert table(get(ds, "/observatory/hunt_comparison.spreadsheet?community=nobody&since=&until=&limit=")) == []


def test_an_export_needs_the_pages_login(hunts, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_WEB_USERS", json.dumps(
        {"tom": {"role": "analyst", "password_hash": hash_password(PASSWORD, iterations=1000)}}))
    for env, value in password_envs(load_settings()).values():
        monkeypatch.setenv(env, value)
    web = Browser(make_datasette(load_settings(), host="0.0.0.0"))
    assert web.get("/observatory/bear_scores.spreadsheet").status_code in (302, 403)
    web.login("tom")
    assert len(table(web.get("/observatory/bear_scores.spreadsheet"))) == 6


def test_the_csv_url_keeps_every_filter_and_streams_only_tables():
    assert csv_url("/db/t.spreadsheet", "a__gte=1&_size=1&_format=x", "t") == "/db/t.csv?a__gte=1&_size=1&_stream=on"
    assert csv_url("/db/q.spreadsheet", "since=&until=2025-01-01", None) == "/db/q.csv?since=&until=2025-01-01"
