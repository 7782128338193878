"""The `observatory` command line: a click group; each pipeline stage adds its commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cli_support import Context, open_store, pass_ctx
from .games import PackError, packs, ranking_table


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="observatory")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), help="Base folder (OBSERVATORY_HOME).")
@click.option("--watch-dir", type=click.Path(file_okay=False, path_type=Path), help="Inbox folder (OBSERVATORY_WATCH_DIR).")
@click.option("--events-dir", type=click.Path(file_okay=False, path_type=Path), help="Event log folder (OBSERVATORY_EVENTS_DIR).")
@click.option(
    "--projections-dir", type=click.Path(file_okay=False, path_type=Path), help="Read databases folder (OBSERVATORY_PROJECTIONS_DIR)."
)
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False), help="Logging level.")
@click.pass_context
def cli(ctx: click.Context, **overrides: Any) -> None:
    """Observatory: turn game screenshots into a queryable stats database.

    Screenshots dropped into watch_dir/ become immutable events in events/;
    read tables in projections/ are rebuilt from that log and served by Datasette.
    """
    from .process.commands import process_new
    from .project.refresh import project_now

    ctx.obj = Context(overrides, project_now=project_now, process_new=process_new)


def main() -> None:
    if BROKEN_PACK is not None:  # one line naming the file, the kind and the field; nothing starts
        click.echo(f"observatory: broken game pack: {BROKEN_PACK}", err=True)
        raise SystemExit(2)
    cli(prog_name="observatory")


# --- inspection commands --------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def config(obj: Context, as_json: bool) -> None:
    """Print the effective settings (secrets redacted)."""
    values = obj.settings.redacted()
    if as_json:
        click.echo(json.dumps(values, indent=2, default=str))
        return
    width = max(len(k) for k in values)
    for key, value in values.items():
        click.echo(f"{('OBSERVATORY_' + key.upper()).ljust(width + 12)}  {value}")


@cli.command()
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable).")
@click.option("--since", type=int, default=0, show_default=True, help="Only events with a sequence number above SEQ.")
@click.option("--limit", type=int, default=None, help="At most this many events.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines).")
@pass_ctx
def events(obj: Context, types: tuple[str, ...], since: int, limit: int | None, as_json: bool) -> None:
    """Print the event log."""
    from .eventlog import EVENT_TYPES

    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise click.BadParameter(f"unknown type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}", param_hint="--type")
    store = open_store(obj.settings, readonly=True)
    shown = 0
    for ev in store.read(since, types=types or None):
        if limit is not None and shown >= limit:
            break
        shown += 1
        if as_json:
            click.echo(json.dumps(ev.as_dict(), ensure_ascii=False))
        else:
            click.echo(f"{ev.seq:>8}  {ev.recorded_at}  {ev.type:<22} {ev.stream_id}  {_summary(ev.payload)}")


@cli.command("kinds")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def kinds_command(as_json: bool) -> None:
    """List the games, their screen kinds, and the file that declares each."""
    rows = [{"game": p.game, "title": p.title, "kind": k.name, "shape": k.read_model.shape if k.read_model else None,
             "tables": _tables_of(k), "row_fields": k.row_fields(), "meta_fields": k.meta_fields(), "declared_in": f"{p.path}/kinds/{k.name}.yaml",
             "description": k.description} for p in packs() for k in p.kinds]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for game in dict.fromkeys(r["game"] for r in rows):
        mine = [r for r in rows if r["game"] == game]
        click.echo(f"{mine[0]['title']} ({game}): {len(mine)} kind{'s' if len(mine) != 1 else ''}")
        width = max(len(r["kind"]) for r in mine)
        into = max(len(", ".join(r["tables"])) for r in mine)
        for r in mine:
            shape = r["shape"] or "extract only"
            click.echo(f"  {r['kind'].ljust(width)}  {shape:<11} {', '.join(r['tables']).ljust(into)}  {r['declared_in']}")


def _tables_of(k: Any) -> list[str]:
    """The read-model tables a kind's screenshots feed (its event's table first)."""
    rm = k.read_model
    if rm is None:
        return []
    fixed = {"team_match": ["wars", "war_scores"], "race": ["races", "race_results"]}
    if rm.shape == "ranking":
        return ["rankings", ranking_table(k)]
    return fixed.get(rm.shape) or [t for t in (rm.event, rm.table) if t]


def _summary(payload: dict[str, Any]) -> str:
    keys = ("kind", "original_path", "code", "reason", "stage", "confidence")
    parts = [f"{k}={payload[k]}" for k in keys if k in payload and payload[k] not in (None, "")]
    if "rows" in payload:
        parts.append(f"rows={len(payload['rows'])}")
    return " ".join(parts)


def register_commands() -> None:
    """Attach the commands that live beside their pipeline stage."""
    from .ingest.commands import ingest
    from .process.commands import extract, process, reprocess
    from .project.commands import project, replay
    from .process.worker_command import worker
    from .runner import run, watch
    from .serve.commands import serve

    for command in (run, ingest, watch, worker, process, reprocess, extract, replay, project, serve):
        cli.add_command(command)

    from .correct.commands import correct, corrections

    for command in (correct, corrections):
        cli.add_command(command)

    # operations: schedule, status, backup/restore, demo
    from .backup.commands import backup, restore
    from .backup.migrate_log import migrate_log
    from .demo.commands import demo
    from .status import status
    from .health.integrity_commands import repair_triggers, verify
    from .schedule.commands import schedule

    for command in (schedule, status, verify, repair_triggers, backup, restore, migrate_log, demo):
        cli.add_command(command)


BROKEN_PACK: PackError | None = None
try:
    packs()  # every kind is validated before any command (or the modules that derive from kinds) is loaded
except PackError as exc:
    BROKEN_PACK = exc
if BROKEN_PACK is None:
    try:
        register_commands()  # the read model checks what only it knows (a ranking table named like a shape's own)
    except PackError as exc:
        BROKEN_PACK = exc
