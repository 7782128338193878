"""CLI: `observatory backup` (one online backup now) and `observatory restore BACKUP`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli_support import pass_ctx, progress_bar


@click.command()
@pass_ctx
def backup(obj) -> None:  # type: ignore[no-untyped-def]
    """Back up events.db now into events/backups/ (safe while `run` is running)."""
    from ..health.files import utc_now
    from ..health.outcomes import JobResult, record_outcome
    from .online import BackupError, backup_now

    settings = obj.settings
    started = utc_now()
    try:
        r = backup_now(settings)
    except BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    summary = f"{r.path.name}: {r.events} events, {r.bytes} bytes, {len(r.pruned)} pruned"
    record_outcome(settings, "backup", JobResult(True, summary + " (manual)"), started=started,
                   seconds=(utc_now() - started).total_seconds())
    click.echo(f"Backed up {r.events} events to {r.path} (hash chain verified; head {r.events} "
               f"{r.head_hash[:16]} recorded in the backup and in {settings.log_anchor_path.name})"
               + (f"; removed {len(r.pruned)} old backup(s)" if r.pruned else "") + ".")


@click.command()
@click.argument("backup_file", metavar="BACKUP", type=click.Path(path_type=Path))
@pass_ctx
def restore(obj, backup_file: Path) -> None:  # type: ignore[no-untyped-def]
    """Replace events.db with BACKUP (a path, or a name in events/backups/), then rebuild the projections.

    Refused while a daemon is running or when BACKUP's hash chain is broken. The
    current log is kept as events.db.<time>.before-restore.
    """
    from ..eventlog import open_log
    from ..project import all_projectors
    from ..project.rebuild import rebuild
    from .online import BackupError
    from .restore import resolve_backup
    from .restore import restore as do_restore

    settings = obj.settings
    try:
        r = do_restore(settings, resolve_backup(settings, backup_file))
    except BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    if r.previous_copy is not None:
        click.echo(f"Kept the previous log as {r.previous_copy}")
    click.echo(f"Restored {r.events} events (hash chain verified) from {backup_file}")
    with open_log(settings) as store:
        with progress_bar(store.last_seq(), "Replaying") as bar:
            n = rebuild(store, settings.projections_db, all_projectors(), batch_size=settings.projection_batch_size,
                        progress=bar.update)
    click.echo(f"Rebuilt the projections from {n} events.")
