"""Shared fixtures: real SQLite files in a temp home, the shared sample screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples" / "wos"


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
