"""CLI: `observatory status [--json]` (exit 1 when unhealthy)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..cli_support import pass_ctx


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
    from .status import gather

    s = gather(obj.settings)
    if as_json:
        click.echo(json.dumps(s, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(render(s)))
    sys.exit(0 if s["healthy"] else 1)
