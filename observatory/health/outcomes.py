"""The last outcome of every scheduled job, kept in projections/jobs.json.

The daemon writes it; `observatory status` and `observatory schedule` in other
processes read it. Each job's entry is replaced as a whole, under a file lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import iso, read_json, update_json, utc_now
from ..settings import Settings

FILE_NAME = "jobs.json"


@dataclass(frozen=True, slots=True)
class JobResult:
    """What one run of a job achieved; `state` is carried to the job's next run (e.g. what was alerted)."""

    ok: bool
    summary: str
    state: dict[str, Any] = field(default_factory=dict)


def outcomes_path(settings: Settings) -> Path:
    return settings.projections_dir / FILE_NAME  # type: ignore[operator]


def load_outcomes(settings: Settings) -> dict[str, dict[str, Any]]:
    data = read_json(outcomes_path(settings))
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def record_outcome(settings: Settings, name: str, result: JobResult, *, started: Any, seconds: float) -> None:
    entry = {
        "ok": result.ok,
        "summary": result.summary,
        "last_run": iso(started) if started is not None else iso(utc_now()),
        "seconds": round(seconds, 3),
        "state": result.state,
    }

    def change(data: dict[str, Any]) -> None:
        data[name] = entry

    update_json(outcomes_path(settings), change)
