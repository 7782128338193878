"""The README is the front door: its settings table and CLI reference must stay true."""

from __future__ import annotations

from paths import REPO
from observatory.cli import cli
from observatory.settings import Settings, env_name

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    missing = [env_name(f) for f in Settings.model_fields if f"`{env_name(f)}`" not in README]
    assert missing == []


def test_every_command_is_in_the_cli_reference():
    missing = [name for name in cli.commands if f"`observatory {name}" not in README]
    assert missing == []


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in README and "make test" in ci
