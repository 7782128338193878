"""Shared fixtures: real SQLite files in a temp home, the shared sample screenshots, a hunt on a real log.

Helpers that are not fixtures live in modules of their own: `builders` (events as the
product writes them), `stores` (real logs, projections and the CLI), `paths`, `polling`,
`local_server`, `openai_stub`, `webhook_stub`. Test modules import those, never each other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import trap1_hunt
from observatory.eventlog import EventStore
from paths import SAMPLES
from stores import run


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Observatory home; settings read it through OBSERVATORY_HOME."""
    for var in ("OBSERVATORY_WATCH_DIR", "OBSERVATORY_EVENTS_DIR", "OBSERVATORY_PROJECTIONS_DIR", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    return SAMPLES


@pytest.fixture
def hunt(home: Path) -> Path:
    """A home whose log holds the Trap 1 hunt (`builders.trap1_hunt`), projected by `observatory project`."""
    store = EventStore(home / "events" / "events.db")
    for batch in trap1_hunt():
        store.append(batch)
    store.close()
    assert run("project").exit_code == 0
    return home
