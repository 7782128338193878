"""`observatory status`: everything an admin asks first, gathered into one dict."""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from .evaluate import daemon_problem, problems
from .facts import blob_usage, last_ingest, orphan_blobs, queue_depth, screenshot_facts
from .files import iso, parse_iso, pid_alive, utc_now
from .healthfile import read_health
from .logcheck import log_integrity


def gather(settings: Settings) -> dict[str, Any]:
    from ..schedule.jobs import job_table, next_run
    from ..schedule.outcomes import load_outcomes

    now = utc_now()
    last = last_ingest(settings)
    outcomes = load_outcomes(settings)
    health = read_health(settings)
    alive = bool(health) and pid_alive(health.get("pid"))  # type: ignore[union-attr]
    running = alive and health is not None and health.get("status") != "stopped"
    since = parse_iso(health.get("started_at")) if running and health else None
    found = problems(now, last_ingest=last, since=since, stale_after=settings.stale_after, jobs=outcomes)
    dead = daemon_problem(health, now, alive, settings.health_seconds)
    if dead:
        found.append(dead)
    event_log = log_integrity(settings)
    found[:0] = [f"event log: {p}" for p in event_log["problems"]]
    jobs = []
    for job in job_table(settings):
        o = outcomes.get(job.name, {})
        jobs.append({"name": job.name, "schedule": str(job.spec), "next_run_if_started_now": iso(next_run(job.spec, now)),
                     "last_run": o.get("last_run"), "ok": o.get("ok"), "summary": o.get("summary")})
    return {
        "healthy": not found,
        "problems": found,
        "checked_at": iso(now),
        "screenshots": screenshot_facts(settings),
        "last_ingest": iso(last),
        "queue_depth": queue_depth(settings),
        "blobs": blob_usage(settings),
        "orphan_blobs": orphan_blobs(settings),
        "event_log": event_log,
        "daemon": {"running": running, **(health or {})},
        "jobs": jobs,
    }
