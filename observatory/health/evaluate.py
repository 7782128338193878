"""What makes the system unhealthy: pure rules over facts gathered elsewhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..durations import format_duration
from .files import parse_iso


def problems(
    now: datetime,
    *,
    last_ingest: datetime | None,
    since: datetime | None,
    stale_after: float,
    jobs: dict[str, dict[str, Any]],
) -> list[str]:
    """One line per problem; empty means healthy.

    `since` is the reference when nothing was ever ingested (the daemon's start), or None.
    """
    out: list[str] = []
    reference = last_ingest or since
    if reference is not None:
        age = (now - reference).total_seconds()
        if age >= stale_after:
            what = "nothing ingested" if last_ingest is not None else "nothing ingested since the daemon started"
            out.append(f"stale: {what} for {format_duration(age)} (OBSERVATORY_STALE_AFTER={format_duration(stale_after)})")
    for name, entry in sorted(jobs.items()):
        if entry.get("ok") is False:
            out.append(f"job {name} failed at {entry.get('last_run')}: {entry.get('summary')}")
    return out


def daemon_problem(health: dict[str, Any] | None, now: datetime, alive: bool, interval: float) -> str | None:
    """A daemon that died without stopping, or stopped refreshing its health file."""
    if not health or health.get("status") == "stopped":
        return None
    pid = health.get("pid")
    if not alive:
        return f"the daemon (pid {pid}) exited without a clean stop (crash or kill -9?)"
    updated = parse_iso(health.get("updated_at"))
    grace = max(3 * interval, 60.0)
    if updated is None or (now - updated).total_seconds() > grace:
        return f"the daemon (pid {pid}) has not refreshed its health file for more than {format_duration(grace)}"
    return None
