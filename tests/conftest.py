"""Shared fixtures: real SQLite files in a temp home, the shared sample screenshots, a hunt on a real log.

Helpers that are not fixtures live in modules of their own: `builders` (events as the
product writes them), `stores` (real logs, projections and the CLI), `paths`, `polling`,
`local_server`, `openai_stub`, `webhook_stub`, `pg_server`. Test modules import those, never each other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import trap1_hunt
from observatory.eventlog import EventStore
from paths import SAMPLES
from pg_server import OWNER, PgServer
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


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL on 127.0.0.1, one per pytest process (xdist worker), stopped at the end even on failure."""
    server = PgServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database, as its owner's URL (the owner creates the log's tables on first open)."""
    return pg_server.url(OWNER, pg_server.new_database())
