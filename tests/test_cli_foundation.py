"""The front door: settings validation, config, events, verify, replay through the real CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from builders import classified, extracted, ingested
from stores import tamper
from observatory.cli import cli
from observatory.eventlog import EventStore


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_python_dash_m_and_version():
    out = subprocess.run([sys.executable, "-m", "observatory", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("observatory, version ")


def _all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name)
        if hasattr(cmd, "commands"):
            yield from _all_commands(cmd, (*prefix, name))


def test_every_command_has_help(home):
    commands = list(_all_commands(cli))
    assert {"config", "events", "verify", "replay"} <= {c[0] for c in commands}
    for c in commands:
        result = run(*c, "--help")
        assert result.exit_code == 0, c
        assert "Usage:" in result.output


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("OBSERVATORY_STABILITY_SECONDS", "soon", "OBSERVATORY_STABILITY_SECONDS"),
        ("OBSERVATORY_SCREENSHOT_TIMEZONE", "Mars/Olympus", "unknown IANA time zone"),
        ("OBSERVATORY_WORKERS", "0", "OBSERVATORY_WORKERS"),
        ("OBSERVATORY_OCR_ENGINE", "magic", "OBSERVATORY_OCR_ENGINE"),
    ],
)
def test_invalid_setting_exits_2_with_one_line_naming_it(home, var, value, needle):
    proc = subprocess.run(
        [sys.executable, "-m", "observatory", "config"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, var: value},
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and var in lines[0]


def test_config_shows_derived_dirs_and_redacts_secrets(home):
    result = run("config", "--json", env={"OPENAI_API_KEY": "sk-very-secret", "OBSERVATORY_EVENTS_DIR": str(home / "log")})
    values = json.loads(result.output)
    assert values["watch_dir"] == str(home / "watch_dir")
    assert values["events_dir"] == str(home / "log")
    assert values["projections_dir"] == str(home / "projections")
    assert values["openai_api_key"] == "***"
    assert "sk-very-secret" not in result.output


def test_dot_env_file_is_read(home):
    (home / ".env").write_text("OBSERVATORY_DEFAULT_COMMUNITY=HEI\n")
    values = json.loads(run("config", "--json").output)
    assert values["default_community"] == "HEI"


def test_global_cli_options_override_env(home, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere")
    values = json.loads(run("--projections-dir", str(other), "config", "--json").output)
    assert values["projections_dir"] == str(other)


def _seed(home):
    store = EventStore(home / "events" / "events.db")
    store.append([ingested(1), classified(1), extracted(1, n_rows=3), ingested(2)])
    store.close()


def test_events_command_prints_and_filters(home):
    _seed(home)
    lines = run("events", "--json").output.strip().splitlines()
    assert [json.loads(line)["type"] for line in lines] == [
        "ScreenshotIngested", "ScreenshotClassified", "ScoresExtracted", "ScreenshotIngested"]
    only = run("events", "--type", "ScoresExtracted", "--json").output.strip().splitlines()
    assert len(only) == 1 and json.loads(only[0])["payload"]["rows"][0]["rank"] == 1
    since = run("events", "--since", "3").output.strip().splitlines()
    assert len(since) == 1 and "ScreenshotIngested" in since[0]
    bad = CliRunner().invoke(cli, ["events", "--type", "Nope"])
    assert bad.exit_code == 2 and "unknown type" in bad.output


def test_verify_reports_first_broken_sequence(home):
    _seed(home)
    ok = run("verify")
    assert ok.exit_code == 0 and "4 events" in ok.output
    tamper(home / "events" / "events.db", "UPDATE events SET payload = replace(payload, 'Player1', 'Hacker') WHERE seq = 3")
    bad = CliRunner().invoke(cli, ["verify"])
    assert bad.exit_code == 1
    assert "sequence 3" in bad.output


def test_replay_and_project_build_the_projection(home):
    _seed(home)
    result = run("replay")
    assert result.exit_code == 0 and "Replayed 4 events" in result.output
    db = sqlite3.connect(home / "projections" / "observatory.db")
    assert db.execute("SELECT COUNT(*) FROM screenshots").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM extracted_rows").fetchone()[0] == 3
    store = EventStore(home / "events" / "events.db")
    store.append([classified(2)])
    result = run("project")
    assert "Applied 1 events" in result.output
    assert db.execute("SELECT status FROM screenshots WHERE status = 'classified'").fetchone() == ("classified",)


def test_commands_on_an_empty_home_explain_instead_of_crashing(home):
    assert "nothing to verify" in run("verify").output
    result = CliRunner().invoke(cli, ["events"])
    assert result.exit_code == 1 and "no event log" in result.output
    assert not (home / "events" / "events.db").exists()  # looking never creates a log
