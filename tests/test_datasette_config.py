"""Datasette as configured by datasette-metadata.yml and the settings: descriptions, login, SQL, thumbnails."""

from __future__ import annotations

import re
from urllib.parse import quote

import io

import pytest
from click.testing import CliRunner
from datasette_auth_passwords.utils import hash_password
from PIL import Image

from observatory.cli import cli
from observatory.project import all_projectors, open_db
from observatory.project.framework import ensure_schema
from observatory.serve.config import PASSWORD_ENV, config_for
from observatory.serve.thumbnails import blob_file
from observatory.settings import SettingsError, load_settings
from datasette_client import get, make_datasette
from stores import build_projection

PASSWORD = "correct horse battery staple"


def described(meta: dict) -> dict[str, dict[str, str]]:
    tables = meta["databases"]["observatory"]["tables"]
    return {t: {"": spec.get("description", ""), **(spec.get("columns") or {})} for t, spec in tables.items()}


def test_every_table_and_column_of_the_real_projections_is_described(home):
    settings = load_settings()
    settings.projections_dir.mkdir(parents=True)
    db = open_db(settings.projections_db)
    ensure_schema(db, all_projectors(settings))
    schema = {
        t: [c for (_, c, *_) in db.execute(f"PRAGMA table_info([{t}])").fetchall()]
        for t in db.table_names() if not t.startswith("sqlite_")
    }
    db.conn.close()
    assert {"screenshots", "players", "bear_scores", "review_queue", "corrections"} <= set(schema)
    docs = described(config_for(settings, "127.0.0.1").metadata)  # the file plus what the game packs bring
    missing = [f"{t}.{c}" for t, cols in schema.items() for c in ["", *cols] if not (docs.get(t) or {}).get(c)]
    assert missing == []


def test_datasette_gets_the_settings_block(projected):
    ds = make_datasette(projected[0])
    s = get(ds, "/-/settings.json").json()
    assert (s["suggest_facets"], s["sql_time_limit_ms"], s["default_page_size"]) == (False, 3000, 50)


@pytest.fixture
def projected(home, samples_dir):
    """All 39 samples, projected (0.2 s)."""
    settings = load_settings()
    return settings, build_projection(settings, sorted(samples_dir.glob("*.jpg")))


def test_pages_render_and_rows_show_thumbnails(projected):
    settings, ids = projected
    ds = make_datasette(settings)
    for path in ("/", "/observatory", "/observatory/screenshots", "/observatory/extracted_rows", "/observatory/bear_scores",
                 "/-/dashboards", "/-/dashboards/player", "/-/dashboards/hunts"):
        assert get(ds, path).status_code == 200, path
    page = get(ds, "/observatory/screenshots").text
    assert all(f"/-/thumbnail/{sha}.jpg" in page for sha in ids)
    thumb = get(ds, f"/-/thumbnail/{ids[0]}.jpg")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(thumb.content))
    assert img.width <= 120 and img.height > img.width  # a phone screenshot, shrunk, upright
    full = get(ds, f"/-/screenshot/{ids[0]}")
    assert full.status_code == 200 and full.content == (settings.events_dir / f"blobs/{ids[0][:2]}/{ids[0]}.jpg").read_bytes()
    assert get(ds, f"/-/thumbnail/{'0' * 64}.jpg").status_code == 404
    assert get(ds, "/-/thumbnail/..%2F..%2Fetc%2Fpasswd.jpg").status_code in (302, 404)  # Datasette re-encodes it


def test_blob_paths_cannot_leave_the_blob_store(tmp_path):
    assert blob_file(tmp_path, "blobs/ab/ab12.jpg") == (tmp_path / "blobs/ab/ab12.jpg").resolve()
    assert blob_file(tmp_path, "../../etc/passwd") is None
    assert blob_file(tmp_path, "events.db") is None


def test_chart_queries_return_a_players_series(projected):
    settings, _ = projected
    ds = make_datasette(settings)
    charts = config_for(settings, "127.0.0.1").metadata["plugins"]["datasette-dashboards"]  # the packs bring them
    for dashboard, params in (("player", "&player=Xoxo"), ("hunts", "&community=HEI")):
        for name, chart in charts[dashboard]["charts"].items():
            sql = re.sub(r"\[\[(.*?)\]\]", r"\1", chart["query"])
            resp = get(ds, f"/observatory.json?sql={quote(sql)}{params}&_shape=array")
            assert resp.status_code == 200, (name, resp.text[:300])
            data = resp.json()
            assert data and all(v is not None for v in data[0].values()), (dashboard, name, data)


def login_cookies(ds) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Log in through the real /-/login form (CSRF token and all); returns the session cookies."""
    import asyncio

    async def go():  # type: ignore[no-untyped-def]
        await ds.invoke_startup()
        form = await ds.client.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text).group(1)
        cookies = {"ds_csrftoken": form.cookies["ds_csrftoken"]}
        resp = await ds.client.post("/-/login", data={"username": "officer", "password": PASSWORD, "csrftoken": token},
                                    cookies=cookies)
        assert resp.status_code == 302, resp.text[:300]
        return {**cookies, "ds_actor": resp.cookies["ds_actor"]}

    return asyncio.run(go())


@pytest.fixture
def with_login(projected, monkeypatch):
    digest = hash_password(PASSWORD, iterations=1000)
    monkeypatch.setenv(PASSWORD_ENV, digest)
    monkeypatch.setenv("OBSERVATORY_WEB_USER", "officer")
    return projected


def test_beyond_localhost_everything_needs_a_login_and_sql_is_off(with_login):
    _, ids = with_login
    ds = make_datasette(load_settings(), host="0.0.0.0")
    for path in ("/", "/observatory/screenshots.json", "/observatory/hunt_leaderboard.csv", f"/-/thumbnail/{ids[0]}.jpg",
                 f"/-/screenshot/{ids[0]}"):
        resp = get(ds, path)
        assert resp.status_code == 302 and resp.headers["location"] == "/-/login", path
    cookies = login_cookies(ds)
    assert get(ds, "/observatory/screenshots.json", cookies=cookies).status_code == 200
    assert get(ds, f"/-/thumbnail/{ids[0]}.jpg", cookies=cookies).status_code == 200
    assert get(ds, "/observatory/hunt_leaderboard.json", cookies=cookies).status_code == 200
    assert get(ds, "/observatory.json?sql=select+1", cookies=cookies).status_code == 403
    wrong = {**cookies, "ds_actor": cookies["ds_actor"][:-4] + "AAAA"}
    assert get(ds, "/observatory/screenshots.json", cookies=wrong).status_code == 302


def test_allow_sql_turns_sql_on_for_logged_in_users_and_off_on_localhost(with_login, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_ALLOW_SQL", "true")
    ds = make_datasette(load_settings(), host="0.0.0.0")
    assert get(ds, "/observatory.json?sql=select+1", cookies=login_cookies(ds)).status_code == 200
    monkeypatch.delenv(PASSWORD_ENV)
    assert get(make_datasette(load_settings()), "/observatory.json?sql=select+1").status_code == 200
    monkeypatch.setenv("OBSERVATORY_ALLOW_SQL", "false")
    local = make_datasette(load_settings())
    assert get(local, "/observatory.json?sql=select+1").status_code == 403
    assert get(local, "/observatory/hunt_leaderboard.json").status_code == 200  # canned queries stay


@pytest.mark.parametrize("command", ["serve", "run"])
def test_serving_beyond_localhost_without_a_password_hash_exits_2(home, command):
    result = CliRunner().invoke(cli, [command, "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 2
    assert "OBSERVATORY_WEB_PASSWORD_HASH" in result.output and "authentication" in result.output


def test_a_malformed_password_hash_is_refused_without_echoing_it(home, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "hunter2-not-a-hash")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert PASSWORD_ENV in str(err.value) and "hunter2" not in str(err.value)


def test_hash_password_prints_a_hash_that_verifies(home):
    from datasette_auth_passwords.utils import verify_password

    result = CliRunner().invoke(cli, ["serve", "--hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    digest = result.output.strip().splitlines()[-1]
    assert verify_password(PASSWORD, digest) and not verify_password("wrong", digest)
    assert load_settings(web_password_hash=digest).web_password_hash is not None


def test_the_password_hash_never_lands_in_the_metadata_file(with_login):
    from observatory.serve import DatasetteServer

    server = DatasetteServer(load_settings(), "0.0.0.0", 8123)
    text = str(server.config.metadata)
    assert "pbkdf2" not in text and PASSWORD_ENV in text
