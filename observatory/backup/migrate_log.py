"""CLI: `observatory migrate-log --to TARGET`: copy the log into PostgreSQL (or back into a SQLite file).

Exit 0 when the target holds the whole source (also when there was nothing to copy),
1 when the two logs disagree or a chain is broken, 2 for a target that is not a log
location or a server that cannot be reached: always one line, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli_support import pass_ctx, progress_bar


def _fail(code: int, message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.command("migrate-log")
@click.option("--to", "to", required=True, metavar="TARGET",
              help="postgresql://user@host:port/db, sqlite:PATH or a file path.")
@click.option("--from", "from_", default=None, metavar="SOURCE",
              help="The log to copy. Default: the configured one (OBSERVATORY_DATABASE_URL, else events/events.db).")
@click.option("--dry-run", is_flag=True, help="Verify both logs and print what would be copied; write nothing.")
@click.option("--app-role", default=None, metavar="ROLE",
              help="PostgreSQL target: let ROLE (what the application connects as) SELECT and INSERT, nothing more.")
@pass_ctx
def migrate_log(obj, to: str, from_: str | None, dry_run: bool, app_role: str | None) -> None:  # type: ignore[no-untyped-def]
    """Copy the event log row for row (same hashes) into TARGET; re-running copies only what is new.

    Both hash chains are verified before the copy and the target again after it.
    """
    from ..eventlog import LogKeyError, LogUnavailable, key_source, log_location
    from ..eventlog.claims import grant_claims
    from ..eventlog.location import describe, is_postgres, parse_target
    from ..eventlog.migrate import MigrationError, copy, plan
    from ..eventlog.store import EventStore

    settings = obj.settings
    try:
        target = parse_target(to)
        source = parse_target(from_) if from_ else log_location(settings)
    except ValueError as exc:
        _fail(2, str(exc))
    if app_role is not None and not is_postgres(target):
        _fail(2, "--app-role applies to a postgresql:// target only")
    same = (source == target) if is_postgres(source) or is_postgres(target) else \
        Path(source).resolve() == Path(target).resolve()
    if same:
        _fail(2, f"the source and the target are the same log ({describe(source)})")

    key = key_source(settings)
    src = dst = None
    try:
        if is_postgres(source) or Path(source).exists():
            src = EventStore(source, readonly=True, key=key)
        if not (dry_run and not is_postgres(target) and not Path(target).exists()):  # a dry run creates nothing
            dst = EventStore(target, readonly=dry_run, key=key, keying=False)
        todo = plan(src, dst, source_name=describe(source), target_name=describe(target))
        if dry_run:
            click.echo(f"Dry run: would {todo.describe()}; then verify the target's chain"
                       + (f", and grant {app_role} SELECT and INSERT only" if app_role else "") + ". Nothing written.")
            return
        assert dst is not None
        click.echo(f"Verified both chains; going to {todo.describe()}.", err=True)
        with progress_bar(todo.events, "Copying events") as bar:
            copied = copy(src, dst, todo, progress=bar.update)
        if app_role:
            dst.backend.grant_appender(app_role)
            grant_claims(target, app_role)  # the OCR workers' leases: not facts, so this one table may be updated
        head, head_hash = dst.head()
        click.echo(f"Copied {copied} events into {dst.where}; it now holds {head} events, hash chain verified "
                   f"(head {head_hash[:16]}, the same as the source's)"
                   + (f"; {app_role} may SELECT and INSERT only (and update the workers' claims)" if app_role else "")
                   + ".")
    except (LogUnavailable, LogKeyError) as exc:
        _fail(2, str(exc))
    except MigrationError as exc:
        _fail(1, str(exc))
    except Exception as exc:  # noqa: BLE001 - a database refusing (rights, a missing role) is one line too
        _fail(1, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
    finally:
        for store in (src, dst):
            if store is not None:
                store.close()
