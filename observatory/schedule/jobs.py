"""The scheduled jobs: what each is, when it runs (from settings), and what it does.

`job_table` is pure (settings in, schedules out), so `observatory schedule` can list
next run times without starting anything. The job bodies run in the daemon.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..settings import Settings
from ..health.outcomes import JobResult
from ..durations import Spec, format_duration, parse_spec

JobBody = Callable[[dict[str, Any]], JobResult]  # previous state -> result


@dataclass(frozen=True, slots=True)
class JobInfo:
    name: str
    description: str
    spec: Spec
    why_off: str = ""  # when off by another setting than its schedule


def job_table(settings: Settings) -> list[JobInfo]:
    s = settings
    retention_off = "OBSERVATORY_RETENTION=keep" if s.retention == "keep" else ""
    retention_spec = Spec("off") if retention_off else parse_spec(s.schedule_retention)
    return [
        JobInfo("rescan", "full rescan of watch_dir/ for files that raised no event",
                parse_spec(s.schedule_rescan, auto_seconds=s.rescan_seconds)),
        JobInfo("stale_check", f"warn (and alert the webhook) when nothing was ingested for "
                f"{format_duration(s.stale_after)}", parse_spec(s.schedule_stale_check)),
        JobInfo("retention", f"{s.retention} originals in watch_dir/ {s.retention_days:g} day(s) after a successful ingest",
                retention_spec, retention_off),
        JobInfo("backup", f"online backup of events.db into events/backups/ (keep {s.backup_keep})",
                parse_spec(s.schedule_backup)),
        JobInfo("verify", "hash chain (every row, triggers, anchor), and projections against a fresh rebuild",
                parse_spec(s.schedule_verify)),
    ]


def trigger_for(spec: Spec, *, start: datetime | None = None) -> Any:
    """The APScheduler trigger of a spec (None when off); intervals count from `start`."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if spec.kind == "interval":
        return IntervalTrigger(seconds=spec.seconds, start_date=start, timezone=timezone.utc)
    if spec.kind == "cron":
        return CronTrigger.from_crontab(spec.cron, timezone=timezone.utc)
    return None


def next_run(spec: Spec, now: datetime) -> datetime | None:
    """When a daemon started at `now` would first run the job."""
    if spec.kind == "interval":
        return now + timedelta(seconds=spec.seconds or 0)
    trigger = trigger_for(spec)
    return trigger.get_next_fire_time(None, now) if trigger is not None else None


def bodies(settings: Settings, *, rescan: Callable[[], None] | None, started_at: datetime,
           stop: threading.Event) -> dict[str, JobBody]:
    """The job functions of a daemon; `rescan` asks its inbox for a rescan."""
    from ..backup.online import backup_now
    from ..health.consistency import nightly_check
    from ..health.files import utc_now
    from ..ingest.retention import apply_retention
    from .staleness import StaleCheck

    def do_rescan(_: dict[str, Any]) -> JobResult:
        if rescan is None:
            return JobResult(True, "no inbox in this process")
        rescan()
        return JobResult(True, "rescan queued")

    def do_retention(_: dict[str, Any]) -> JobResult:
        report = apply_retention(settings, utc_now())
        return JobResult(not report.errors, report.summary())

    def do_backup(_: dict[str, Any]) -> JobResult:
        r = backup_now(settings)
        return JobResult(True, f"{r.path.name}: {r.events} events, {r.bytes} bytes, {len(r.pruned)} pruned")

    def do_verify(_: dict[str, Any]) -> JobResult:
        report = nightly_check(settings)
        return JobResult(report.ok, report.summary())

    return {
        "rescan": do_rescan,
        "stale_check": StaleCheck(settings, started_at=started_at, stop=stop),
        "retention": do_retention,
        "backup": do_backup,
        "verify": do_verify,
    }
