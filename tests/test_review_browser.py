"""The review flow as an officer and an analyst use it: real headless Chromium, a real server on 127.0.0.1.

The server is `observatory serve`'s (Datasette as a child process that gets its settings, log key
included, on stdin), the log is keyed with OBSERVATORY_LOG_KEY, and after the fix the whole chain
still verifies: the web appended exactly as the CLI would.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from click.testing import CliRunner
from datasette_auth_passwords.utils import hash_password
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from browser import driver
from observatory.cli import cli
from observatory.serve import DatasetteServer
from observatory.settings import load_settings
from polling import free_port
from review_scenario import PASSWORD, SID, last_seq, seed
from stores import q

pytestmark = pytest.mark.slow  # a real server and headless Chromium: seconds per page


@pytest.fixture
def server(home, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_LOG_KEY", "a-test-key-that-is-long-enough")
    digest = hash_password(PASSWORD, iterations=1000)
    monkeypatch.setenv("OBSERVATORY_WEB_USERS", json.dumps({
        "mia": {"role": "officer", "password_hash": digest}, "tom": {"role": "analyst", "password_hash": digest}}))
    seed(home)
    srv = DatasetteServer(load_settings(), "127.0.0.1", free_port(), quiet=True)
    srv.start()
    yield srv
    srv.stop()


def log_in(browser, server, user: str) -> None:  # type: ignore[no-untyped-def]
    browser.get(f"{server.url}-/login")
    browser.find_element(By.NAME, "username").send_keys(user)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/-/login'] [type=submit]").click()
    WebDriverWait(browser, 20).until(lambda b: "/-/login" not in b.current_url)


def item(browser, subject: str):  # type: ignore[no-untyped-def]
    return browser.find_element(By.CSS_SELECTOR, f".obs-item[data-subject='{subject}']")


def test_an_officer_fixes_a_value_from_its_screenshot_and_sees_the_leaderboard_and_audit(server, home):
    with driver() as browser:
        log_in(browser, server, "mia")
        browser.get(f"{server.url}-/review?reason=doubtful")
        doubt = item(browser, f"{SID[:12]}#2")
        image = doubt.find_element(By.CSS_SELECTOR, "figure img")
        WebDriverWait(browser, 20).until(lambda b: b.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", image))
        assert image.get_property("naturalWidth") == 540  # the crop (today the whole screenshot, scaled) was served
        assert "whole screenshot (no box recorded" in doubt.text  # the seeded events are v1-like: no boxes
        assert doubt.find_element(By.CSS_SELECTOR, "td[data-field=damage]").text == "7720524673"
        form = doubt.find_element(By.CSS_SELECTOR, "form.obs-set-value")
        Select(form.find_element(By.NAME, "field")).select_by_value("damage")
        form.find_element(By.NAME, "value").send_keys("3720524673")
        form.find_element(By.NAME, "reason").send_keys("checked in game")
        form.find_element(By.CSS_SELECTOR, "[type=submit]").click()
        done = WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "obs-done")))
        assert "set_value" in done.text
        assert not browser.find_elements(By.CSS_SELECTOR, f".obs-item[data-subject='{SID[:12]}#2']")

        browser.get(f"{server.url}observatory/bear_scores?screenshot_id={SID}&rank=3")
        assert "3,720,524,673" in browser.page_source or "3720524673" in browser.page_source
        browser.get(f"{server.url}observatory/corrections_audit")
        audit = browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns tbody").text
        assert "mia" in audit and "set_value" in audit and "checked in game" in audit
    assert q(home, "SELECT actor, kind FROM corrections") == [("mia", "set_value")]
    result = CliRunner().invoke(cli, ["verify"])
    assert result.exit_code == 0, result.output  # the web's append continued the keyed hash chain


def test_a_bad_value_is_shown_on_the_page_and_nothing_is_recorded(server, home):
    before = last_seq(home)
    with driver() as browser:
        log_in(browser, server, "mia")
        browser.get(f"{server.url}-/review?reason=doubtful")
        form = item(browser, f"{SID[:12]}#2").find_element(By.CSS_SELECTOR, "form.obs-set-value")
        form.find_element(By.NAME, "value").send_keys("-12")
        form.find_element(By.CSS_SELECTOR, "[type=submit]").click()
        error = WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "obs-error")))
        assert "damage" in error.text and "Nothing was recorded" in error.text
    assert last_seq(home) == before


def test_an_analyst_finds_no_write_action(server, home):
    with driver() as browser:
        log_in(browser, server, "tom")
        browser.get(f"{server.url}-/review")
        assert browser.find_element(By.ID, "obs-read-only")
        assert item(browser, f"{SID[:12]}#2")  # the queue is there to read
        assert browser.find_elements(By.CSS_SELECTOR, ".obs-actions, form[action='/-/review'][method=post]") == []
        status = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/-/review', {method: 'POST', body: new URLSearchParams(arguments[0])}).then(r => done(r.status));",
            {"action": "confirm", "screenshot": SID, "row": "3"})
        assert status == 403


def test_a_forged_post_without_the_csrf_token_appends_nothing(server, home):
    before = last_seq(home)
    body = urllib.parse.urlencode({"action": "confirm", "screenshot": SID, "row": "3"})
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)  # another site's form: no cookie, no token
    try:
        conn.request("POST", "/-/review", body, {"content-type": "application/x-www-form-urlencoded"})
        assert conn.getresponse().status in (302, 403)  # to the login form, or refused
    finally:
        conn.close()
    with driver() as browser:  # the officer's own browser, logged in, but the request lacks the form's token
        log_in(browser, server, "mia")
        browser.get(f"{server.url}-/review")
        status = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/-/review', {method: 'POST', body: new URLSearchParams(arguments[0])}).then(r => done(r.status));",
            {"action": "confirm", "screenshot": SID, "row": "3"})
        assert status == 403
    assert last_seq(home) == before
