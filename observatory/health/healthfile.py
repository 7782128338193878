"""projections/health.json: what a supervisor polls while `observatory run` is up.

The daemon rewrites it every OBSERVATORY_HEALTH_SECONDS (atomically) with status
ok/degraded, pid, updated_at, queue depth and last ingest, and writes status
"stopped" on a clean shutdown. A file whose pid is alive and whose status is not
"stopped" means a daemon is running.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..settings import Settings
from .evaluate import problems
from .facts import last_ingest, queue_depth
from .files import iso, pid_alive, read_json, utc_now, write_json_atomic

FILE_NAME = "health.json"


def health_path(settings: Settings) -> Path:
    return settings.projections_dir / FILE_NAME  # type: ignore[operator]


def read_health(settings: Settings) -> dict[str, Any] | None:
    data = read_json(health_path(settings))
    return data if isinstance(data, dict) else None


def running_daemon(settings: Settings) -> int | None:
    """The pid of a running daemon on this home, from its health file (None: none running)."""
    health = read_health(settings)
    if not health or health.get("status") == "stopped":
        return None
    pid = health.get("pid")
    return pid if pid != os.getpid() and pid_alive(pid) else None


def snapshot(settings: Settings, started_at: datetime, jobs: dict[str, dict[str, Any]], status: str | None = None) -> dict[str, Any]:
    now = utc_now()
    last = last_ingest(settings)
    found = problems(now, last_ingest=last, since=started_at, stale_after=settings.stale_after, jobs=jobs)
    return {
        "status": status or ("degraded" if found else "ok"),
        "problems": found,
        "pid": os.getpid(),
        "started_at": iso(started_at),
        "updated_at": iso(now),
        "interval_seconds": settings.health_seconds,
        "queue_depth": queue_depth(settings),
        "last_ingest": iso(last),
    }


def write_health(settings: Settings, data: dict[str, Any]) -> None:
    write_json_atomic(health_path(settings), data)
