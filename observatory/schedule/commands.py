"""CLI: `observatory schedule`: the jobs, their schedules and next runs, from settings alone."""

from __future__ import annotations

import json

import click

from ..cli_support import pass_ctx


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def schedule(obj, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List the scheduled jobs of `observatory run` with their next run times (UTC) and last outcomes."""
    from ..health.files import iso, utc_now
    from .jobs import job_table, next_run
    from ..health.outcomes import load_outcomes

    settings = obj.settings
    now = utc_now()
    last = load_outcomes(settings)
    rows = []
    for job in job_table(settings):
        outcome = last.get(job.name, {})
        rows.append({
            "name": job.name,
            "schedule": str(job.spec) + (f" ({job.why_off})" if job.why_off else ""),
            "next_run": iso(next_run(job.spec, now)),
            "description": job.description,
            "last_run": outcome.get("last_run"),
            "last_ok": outcome.get("ok"),
            "last_summary": outcome.get("summary"),
        })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"Jobs of `observatory run` (next runs if the daemon started now, {iso(now)}):")
    for r in rows:
        click.echo(f"  {r['name']:<12} {r['schedule']:<36} next {r['next_run'] or '-'}")
        click.echo(f"  {'':<12} {r['description']}")
        if r["last_run"]:
            click.echo(f"  {'':<12} last run {r['last_run']}: {'ok' if r['last_ok'] else 'FAILED'}: {r['last_summary']}")
