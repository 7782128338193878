"""CLI: `observatory verify` (the whole log, against its anchor) and `observatory repair-triggers`."""

from __future__ import annotations

import sys

import click

from ..cli_support import open_store, pass_ctx


@click.command()
@pass_ctx
def verify(obj) -> None:  # type: ignore[no-untyped-def]
    """Check the event log: every row's hash (keyed with the log key), the append-only triggers, and the anchor.

    Exit 1 naming the first broken sequence, a log that ends before its anchored head,
    or missing triggers. A clean check moves the anchor to the verified head.
    """
    from ..eventlog import log_exists, log_name
    from ..eventlog.integrity import check_log

    settings = obj.settings
    if not log_exists(settings):
        click.echo(f"No event log at {log_name(settings)}: nothing to verify.")
        return
    with open_store(settings, readonly=True) as store:
        report = check_log(store, settings.log_anchor_path, full=True)
    if report.ok:
        keyed = (f"keyed (HMAC-SHA256) from sequence {report.keyed_from}" if report.keyed_from is not None
                 else "unkeyed (sha256): protected by the anchor only")
        click.echo(f"OK: {report.head_seq} events, hash chain intact (head {report.head_hash[:16]}); {keyed}; "
                   f"anchored at sequence {report.head_seq} in {settings.log_anchor_path}.")
        return
    if report.first_broken_seq is not None:
        intact = (f" ({report.intact_before} events before it are intact)" if report.intact_before is not None else "")
        click.echo(f"BROKEN at sequence {report.first_broken_seq}: {report.chain_problem}{intact}.", err=True)
    for problem in report.problems:
        if report.chain_problem is None or report.chain_problem not in problem:
            click.echo(f"BROKEN: {problem}", err=True)
    sys.exit(1)


@click.command("repair-triggers")
@click.option("--reason", default="", help="Why (recorded in the LogRepaired event).")
@click.option("--dry-run", is_flag=True, help="Print which triggers would be re-created; change nothing.")
@pass_ctx
def repair_triggers(obj, reason: str, dry_run: bool) -> None:  # type: ignore[no-untyped-def]
    """Re-create the log's missing append-only triggers and record that in a LogRepaired event.

    Opening a log never re-creates dropped triggers: their absence is a finding
    (`verify`, `status`) until an admin repairs it here. Check the chain with
    `observatory verify` first: the repair does not vouch for what happened
    while the guards were gone.
    """
    settings = obj.settings
    if dry_run:
        with open_store(settings, readonly=True) as store:
            missing = store.missing_triggers()
        click.echo(f"Would re-create: {', '.join(missing)}." if missing else "Nothing to repair: every trigger is in place.")
        return
    with open_store(settings) as store:
        repaired = store.repair_triggers(reason=reason)
    if not repaired:
        click.echo("Nothing to repair: every trigger is in place.")
        return
    click.echo(f"Re-created {', '.join(repaired)}; recorded as a LogRepaired event.")
