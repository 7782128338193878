"""CLI: `observatory worker`, OCR only, against a shared log and blob store, on any machine."""

from __future__ import annotations

import logging
import sys

import click

from ..cli_support import open_store, pass_ctx
from ..lifecycle import stop_on_signals

log = logging.getLogger(__name__)


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="OCR processes of this worker (default: OBSERVATORY_WORKERS, one per core).")
@click.option("--once", is_flag=True, help="Read what is open now, then exit (instead of waiting for more).")
@click.option("--max", "max_results", type=click.IntRange(min=1), default=None, help="Exit after taking N screenshots.")
@pass_ctx
def worker(obj, concurrency: int | None, once: bool, max_results: int | None) -> None:  # type: ignore[no-untyped-def]
    """Run OCR workers only: claim unread screenshots from the shared log, read them, append the results.

    Start any number, on any machine that reaches the log and the blobs. SIGTERM or
    Ctrl-C stops cleanly: OCR in hand gets a short grace, and leases are given back.
    """
    from ..eventlog.claims import open_claims
    from .leased import LeasedWorker

    from ..ingest.commands import blobs_usable

    settings = obj.settings
    if not blobs_usable(settings):
        sys.exit(2)
    stop = stop_on_signals(log, "stopping")
    store = open_store(settings)
    claims = open_claims(store, lease_seconds=settings.claim_lease_seconds)
    try:
        runner = LeasedWorker(settings, store, claims, concurrency=concurrency, once=once, max_results=max_results)
        blobs = settings.blob_url or settings.blobs_dir
        click.echo(f"worker {runner.name}: {runner.concurrency} OCR process(es), lease {settings.claim_lease_seconds:g}s, "
                   f"log {settings.events_db}, blobs {blobs}", err=True)
        tally = runner.run(stop)
    finally:
        claims.close()
        store.close()
    click.echo(f"worker {runner.name}: read {tally.read} screenshot(s), {tally.failed} failed, "
               f"{tally.skipped} already answered; gave back {tally.released} lease(s)", err=True)
    sys.exit(0)
