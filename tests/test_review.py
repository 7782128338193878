"""/-/review through Datasette's own client on the real log and projections: officers fix, analysts look.

Every fix must be the CLI's correction (same event, same validation), recorded under the
logged-in officer, and nothing may be appended by a GET, an analyst, a bad value or a POST
without the form's CSRF token.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from datasette_auth_passwords.utils import hash_password
from PIL import Image

from builders import sha_of, shot
from datasette_client import make_datasette
from observatory.cli import cli
from observatory.eventlog import open_log
from observatory.process.pipeline import project_now
from observatory.serve.roles import password_envs, writer
from observatory.settings import SettingsError, load_settings
from review_scenario import PASSWORD, SID, Browser, last_seq, seed
from stores import q


@pytest.fixture
def doubtful(home: Path) -> Path:
    seed(home)
    return home


@pytest.fixture
def logins(doubtful: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two logins, an officer and an analyst (OBSERVATORY_WEB_USERS), their hashes where Datasette reads them."""
    digest = hash_password(PASSWORD, iterations=1000)
    monkeypatch.setenv("OBSERVATORY_WEB_USERS", json.dumps({
        "mia": {"role": "officer", "password_hash": digest}, "tom": {"role": "analyst", "password_hash": digest}}))
    for env, value in password_envs(load_settings()).values():
        monkeypatch.setenv(env, value)
    return doubtful


def test_an_officer_fixes_a_doubtful_value_and_the_audit_names_the_officer(logins):
    web = Browser(make_datasette(load_settings(), host="0.0.0.0"))
    web.login("mia")
    page = web.get("/-/review?reason=doubtful")
    assert page.status_code == 200 and "Xoxo" in page.text and "7720524673" in page.text
    assert q(logins, "SELECT count(*) FROM bear_scores WHERE rank = 3") == [(0,)]
    resp = web.fix(action="set-value", screenshot=SID, row="3", field="damage", value="3720524673",
                   reason="checked in game")
    assert resp.status_code == 303, resp.text[:500]
    assert q(logins, "SELECT damage FROM bear_scores WHERE rank = 3 AND screenshot_id = ?", SID) == [(3720524673,)]
    assert q(logins, "SELECT actor, kind, reason FROM corrections") == [("mia", "set_value", "checked in game")]
    after = web.get(resp.headers["location"])
    assert "the tables include it" in after.text and 'data-subject="' + SID[:12] + '#2"' not in after.text
    audit = web.get("/observatory/corrections_audit.json?_shape=array").json()
    assert [(a["actor"], a["kind"]) for a in audit] == [("mia", "set_value")]


def test_confirm_from_the_page_makes_the_row_count_like_the_cli(logins):
    web = Browser(make_datasette(load_settings(), host="0.0.0.0"))
    web.login("mia")
    assert web.fix(action="confirm", screenshot=SID, row="3").status_code == 303
    assert q(logins, "SELECT damage FROM bear_scores WHERE rank = 3 AND screenshot_id = ?", SID) == [(7720524673,)]
    assert q(logins, "SELECT actor, kind, reason FROM corrections") == [("mia", "confirm", "fixed on the review page")]
    assert q(logins, "SELECT count(*) FROM review_queue WHERE reason = 'doubtful'") == [(0,)]


def test_a_bad_value_is_a_message_on_the_page_and_nothing_is_appended(logins):
    web = Browser(make_datasette(load_settings(), host="0.0.0.0"))
    web.login("mia")
    before = last_seq(logins)
    resp = web.fix(action="set-value", screenshot=SID, row="3", field="damage", value="-5")
    assert resp.status_code == 400
    assert re.search(r'id="obs-error">[^<]*damage[^<]*&gt;= 0[^<]*Nothing was recorded', resp.text), resp.text[-2000:]
    assert web.fix(action="set-value", screenshot=SID, row="9", field="damage", value="5").status_code == 400
    assert last_seq(logins) == before


def test_an_analyst_sees_the_queue_but_no_fix_and_cannot_post_one(logins):
    web = Browser(make_datasette(load_settings(), host="0.0.0.0"))
    web.login("tom")
    page = web.get("/-/review")
    assert page.status_code == 200 and "Xoxo" in page.text and 'id="obs-read-only"' in page.text
    assert 'method="post" action="/-/review"' not in page.text and "Confirm the reading" not in page.text
    before = last_seq(logins)
    token = web.token("/-/login")  # a valid token from another form: the role still says no
    resp = web.request("POST", "/-/review", data={"csrftoken": token, "action": "confirm", "screenshot": SID, "row": "3"})
    assert resp.status_code == 403
    assert last_seq(logins) == before


def test_without_a_login_the_review_page_needs_one(logins):
    web = Browser(make_datasette(load_settings(), host="0.0.0.0"))
    resp = web.get("/-/review")
    assert resp.status_code == 302 and resp.headers["location"] == "/-/login"


def test_a_forged_post_without_the_csrf_token_appends_nothing(doubtful):
    """Localhost without logins may correct, so a page elsewhere posting here must be stopped by the token."""
    web = Browser(make_datasette(load_settings()))
    before = last_seq(doubtful)
    form = {"action": "confirm", "screenshot": SID, "row": "3"}
    assert web.request("POST", "/-/review", data=form).status_code == 403  # no cookie, no token (a cross-site POST)
    web.get("/-/review")  # now with the cookie, but the token is missing or wrong
    assert web.request("POST", "/-/review", data=form).status_code == 403
    assert web.request("POST", "/-/review", data={**form, "csrftoken": "forged"}).status_code == 403
    assert web.request("GET", "/-/review?" + "&".join(f"{k}={v}" for k, v in form.items())).status_code == 200
    assert last_seq(doubtful) == before
    assert web.fix(**form).status_code == 303  # the real form from localhost works
    assert last_seq(doubtful) == before + 1


def test_the_queue_is_newest_first_and_filtered_by_reason_and_community(doubtful):
    web = Browser(make_datasette(load_settings()))
    page = web.get("/-/review").text
    subjects = re.findall(r'data-reason="([a-z_]+)" data-subject="([^"]+)"', page)
    reasons = [r for r, _ in subjects]
    assert {"doubtful", "unmatched_name", "unknown_screen"} <= set(reasons)
    assert reasons.index("doubtful") < reasons.index("unknown_screen")  # Nov 12 before Nov 10
    only = re.findall(r'data-reason="([a-z_]+)"', web.get("/-/review?reason=unknown_screen").text)
    assert only == ["unknown_screen"]
    assert 'id="obs-empty"' in web.get("/-/review?community=NOPE").text


def test_an_unmatched_name_is_linked_to_a_suggested_player(doubtful):
    web = Browser(make_datasette(load_settings()))
    page = web.get("/-/review?reason=unmatched_name").text
    assert "Qwertyuiop is" in page
    valorin = q(doubtful, "SELECT player_id FROM players WHERE display_name = 'Valorin'")[0][0]
    assert re.search(rf'<option value="{valorin}">Valorin</option>', page)  # the community's players are suggested
    assert web.fix(action="link-alias", name="Qwertyuiop", player=valorin, community="HEI").status_code == 303
    assert q(doubtful, "SELECT player_id FROM player_aliases WHERE name = 'Qwertyuiop'") == [(valorin,)]
    assert "Qwertyuiop is" not in web.get("/-/review?reason=unmatched_name").text


def test_an_unknown_screen_is_reclassified_or_retracted(doubtful):
    web = Browser(make_datasette(load_settings()))
    unknown = sha_of("HEI/Screenshot_20251110_090000_Whiteout Survival.jpg")
    assert web.fix(action="retract", screenshot=unknown).status_code == 303
    assert q(doubtful, "SELECT retracted FROM screenshot_usage WHERE screenshot_id = ?", unknown) == [(1,)]
    resp = web.fix(action="retract", screenshot=unknown)
    assert resp.status_code == 400 and "already retracted" in resp.text
    resp = web.fix(action="reclassify", screenshot=SID, kind="no_such_kind")
    assert resp.status_code == 400 and "unknown kind" in resp.text


def test_the_crop_is_served_behind_the_login_and_says_what_it_shows(logins):
    web = Browser(make_datasette(load_settings(), host="0.0.0.0"))
    path = f"/-/crop/{SID}/3/damage"
    assert web.get(path).status_code == 302
    web.login("tom")
    resp = web.get(path)
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
    assert resp.headers["x-observatory-crop"].startswith("whole screenshot")
    import io

    with Image.open(io.BytesIO(resp.content)) as img:
        assert img.width == 540 and img.height == 1170  # the 1080x2340 original, scaled
    assert web.get(f"/-/crop/{'0' * 64}/3/damage").status_code == 404


def test_writer_needs_an_officer_or_a_loopback_client_without_logins():
    login = {"login": True, "roles": {"mia": "officer", "tom": "analyst"}}
    assert writer(login, {"id": "mia"}, "203.0.113.9") == "mia"
    assert writer(login, {"id": "tom"}, "127.0.0.1") is None
    assert writer(login, None, "127.0.0.1") is None
    assert writer({}, None, "127.0.0.1") and writer({}, None, "::1")
    assert writer({}, None, "203.0.113.9") is None and writer({}, None, None) is None


@pytest.mark.parametrize("value, said", [
    ("mia:boss:pbkdf2_sha256$1$s$h", "role 'boss' is not one of analyst, officer"),
    ("mia:officer:hunter2", "expected a pbkdf2_sha256$"),
    ('{"mia": {"role": "officer"', "not valid JSON"),
    ("mia officer", "expected user:role:password_hash"),
])
def test_a_bad_users_setting_stops_start_up_naming_it_without_echoing_it(home, monkeypatch, value, said):
    monkeypatch.setenv("OBSERVATORY_WEB_USERS", value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "OBSERVATORY_WEB_USERS" in str(err.value) and said in str(err.value) and "hunter2" not in str(err.value)
    result = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 2 and "OBSERVATORY_WEB_USERS" in result.output


def test_web_users_alone_allow_serving_beyond_localhost_with_one_login_each(home, monkeypatch):
    from observatory.serve import DatasetteServer

    digest = hash_password(PASSWORD, iterations=1000)
    monkeypatch.setenv("OBSERVATORY_WEB_USERS", f"mia:officer:{digest},tom:analyst:{digest}")
    server = DatasetteServer(load_settings(), "0.0.0.0", 8123)
    meta = server.config.metadata
    assert meta["allow"] == {"id": ["mia", "tom"]}
    assert meta["plugins"]["observatory"]["roles"] == {"mia": "officer", "tom": "analyst"}
    assert "pbkdf2" not in json.dumps(meta)


def test_the_page_after_a_fix_waits_for_the_projections_checkpoint(doubtful):
    """A correction appended elsewhere (the CLI, another officer) and not yet projected is waited for, not assumed."""
    from builders import correction

    web = Browser(make_datasette(load_settings()))
    with open_log(load_settings()) as store:
        (stored,) = store.append([correction({"kind": "confirm", "screenshot_id": SID,
                                              "row": {"field": "rank", "value": 3}, "fields": []})])
        assert web.get(f"/-/review/caught-up.json?seq={stored.seq}").json()["caught_up"] is False
        page = web.get(f"/-/review?done=x&seq={stored.seq}").text
        assert 'id="obs-waiting"' in page and "caught-up.json" in page
        project_now(load_settings(), store)
    assert web.get(f"/-/review/caught-up.json?seq={stored.seq}").json()["caught_up"] is True
    assert 'id="obs-done"' in web.get(f"/-/review?done=x&seq={stored.seq}").text


def test_a_doubtful_row_shows_how_the_other_screenshots_of_its_hunt_read_it(doubtful):
    second = "Screenshot_20251112_173700_Whiteout Survival.jpg"
    with open_log(load_settings()) as store:
        store.append(shot(second, "bear_damage", [{"rank": 3, "name": "[HEI]Xoxo", "damage": 3720524673},
                                                  {"rank": 4, "name": "[HEI]Quill", "damage": 3706838781}],
                          {"trap_id": 1}, confidence=0.9))
        project_now(load_settings(), store)
    page = Browser(make_datasette(load_settings())).get("/-/review?reason=doubtful").text
    others = page[page.index('data-subject="' + SID[:12] + '#2"'):]
    others = others[others.index('class="obs-others"'):others.index("</div>", others.index('class="obs-others"'))]
    assert sha_of(f"HEI/{second}")[:12] in others and "damage=3720524673" in others and "Quill" not in others


def test_the_page_shows_the_newest_items_and_links_to_more(doubtful):
    web = Browser(make_datasette(load_settings()))
    page = web.get("/-/review?limit=2").text
    assert len(re.findall(r'class="obs-item"', page)) == 2 and 'id="obs-more"' in page
    assert "limit=8" in page  # the link asks for more
    assert 'id="obs-more"' not in web.get("/-/review").text  # everything fits on the default page


def test_a_browser_test_fails_rather_than_skips_without_chromium(monkeypatch, tmp_path):
    import browser

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="chromium not installed"):
        browser.chromium()
    with pytest.raises(pytest.fail.Exception, match="chromedriver not installed"):
        browser.chromedriver()


def test_likely_duplicate_players_are_merged_from_the_page(doubtful):
    with open_log(load_settings()) as store:
        store.append(shot("Screenshot_20251113_100000_Whiteout Survival.jpg", "bear_damage",
                          [{"rank": 1, "name": "[HEI]Stevens", "damage": 4483222355}], {"trap_id": 1}))
        project_now(load_settings(), store)
    web = Browser(make_datasette(load_settings()))
    page = web.get("/-/review?reason=duplicate_player").text
    assert "Merge Stevens into Stevie" in page and "Merge Stevie into Stevens" in page
    ids = dict(q(doubtful, "SELECT display_name, player_id FROM players WHERE display_name IN ('Stevie', 'Stevens')"))
    assert web.fix(action="merge-players", source=ids["Stevens"], target=ids["Stevie"], community="HEI").status_code == 303
    assert q(doubtful, "SELECT count(*) FROM players WHERE display_name = 'Stevens'") == [(0,)]
    assert "Merge Stevens into Stevie" not in web.get("/-/review?reason=duplicate_player").text
    assert q(doubtful, "SELECT kind, actor FROM corrections")[0][0] == "merge_players"
