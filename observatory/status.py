"""`observatory status`: everything an admin asks first, gathered into one report.

It reads the health facts and the schedule alike, so it sits above both (see layers.py).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .cli_support import pass_ctx
from .health.evaluate import daemon_problem, problems
from .health.facts import blob_usage, last_ingest, orphan_blobs, queue_depth, screenshot_facts, worker_leases
from .health.files import iso, parse_iso, pid_alive, utc_now
from .health.healthfile import read_health
from .health.logcheck import log_integrity
from .health.outcomes import load_outcomes
from .schedule.jobs import job_table, next_run
from .settings import Settings


def gather(settings: Settings) -> dict[str, Any]:
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
        "workers": worker_leases(settings),
        "blobs": blob_usage(settings),
        "orphan_blobs": orphan_blobs(settings),
        "event_log": event_log,
        "daemon": {"running": running, **(health or {})},
        "jobs": jobs,
    }


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{n} B"


def render(s: dict[str, Any]) -> list[str]:
    lines = [f"Observatory: {'healthy' if s['healthy'] else 'UNHEALTHY'}"]
    lines += [f"  ! {p}" for p in s["problems"]]
    shots = s["screenshots"]
    lines.append(f"Screenshots: {shots['total']}")
    for c in shots["counts"]:
        lines.append(f"  {c['kind']:<18} {c['status']:<11} {c['count']}")
    lines.append(f"Last ingest: {s['last_ingest'] or 'never'}")
    lines.append(f"Queue: {s['queue_depth']} screenshot(s) waiting for OCR")
    w = s.get("workers") or {}
    if w.get("in_hand"):
        lines.append(f"  {w['in_hand']} of them being read by {w['workers']} `observatory worker` process(es)"
                     + (f"; {w['expired']} lease(s) expired, to be taken over" if w["expired"] else ""))
    lines.append(f"Failures: {shots['failed']} extraction(s) failed, {shots['rejected']} file(s) rejected")
    for f in shots["failures"]:
        lines.append(f"  {f['id'][:12]}  {f['original_path']}  {f['error']}")
    for r in shots["rejections"]:
        lines.append(f"  rejected  {r['original_path']}  {r['code']}: {r['reason']}")
    lines.append(f"Blobs: {s['blobs']['files']} file(s), {_size(s['blobs']['bytes'])}")
    orphans = s.get("orphan_blobs") or {}
    if orphans.get("count"):
        lines.append(f"  {orphans['count']} orphan blob(s) with no ScreenshotIngested event (keep: ingest the file again; "
                     "else delete it; see README, Operations):")
        lines += [f"    {o['sha256']}  {o['path']}" for o in orphans["first"]]
    log = s.get("event_log") or {}
    if log.get("events") is not None:
        lines.append(f"Event log: {log['events']} event(s), {'intact' if log['ok'] else 'NOT intact'}"
                     + (f", anchored at {log['anchored_seq']}" if log.get("anchored_seq") is not None else ""))
    d = s["daemon"]
    if d.get("running"):
        lines.append(f"Daemon: running (pid {d.get('pid')}), {d.get('status')}, health file updated {d.get('updated_at')}")
    else:
        lines.append("Daemon: not running" + (f" (last seen {d.get('updated_at')})" if d.get("updated_at") else ""))
    lines.append("Jobs:")
    for j in s["jobs"]:
        last = (f"last {j['last_run']} {'ok' if j['ok'] else 'FAILED'}: {j['summary']}" if j["last_run"] else "never run")
        lines.append(f"  {j['name']:<12} {j['schedule']:<28} {last}")
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts and supervisors).")
@pass_ctx
def status(obj, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show counts, last ingest, queue, failures, disk use and jobs; exit 1 when unhealthy."""
    s = gather(obj.settings)
    if as_json:
        click.echo(json.dumps(s, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(render(s)))
    sys.exit(0 if s["healthy"] else 1)
