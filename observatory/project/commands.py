"""CLI: `observatory replay` (full rebuild) and `observatory project` (incremental catch-up)."""

from __future__ import annotations

import sys

import click

from ..cli_support import accept_broken_chain_option, open_store, pass_ctx, progress_bar, refuse_broken_chain
from . import ReplayNeeded, all_projectors, catch_up, open_db
from .framework import lag
from .rebuild import rebuild


@click.command()
@accept_broken_chain_option
@pass_ctx
def replay(obj, accept_broken_chain: bool) -> None:  # type: ignore[no-untyped-def]
    """Rebuild every projection from the whole event log.

    Readers (a running Datasette) keep answering during the rebuild and see the
    new tables as soon as it finishes. Refused (exit 1) when the log's hash chain
    is broken, unless --accept-broken-chain.
    """
    settings = obj.settings
    store = open_store(settings, must_exist=False)
    refusal = refuse_broken_chain(settings, store, accept=accept_broken_chain, full=True)
    if refusal:
        click.echo(refusal, err=True)
        sys.exit(1)
    total = store.last_seq()
    with progress_bar(total, "Replaying") as bar:
        n = rebuild(store, settings.projections_db, all_projectors(settings), batch_size=settings.projection_batch_size, progress=bar.update)
    click.echo(f"Replayed {n} events into {settings.projections_db}")


@click.command()
@pass_ctx
def project(obj) -> None:  # type: ignore[no-untyped-def]
    """Apply events that are not yet in the projections (incremental catch-up)."""
    settings = obj.settings
    store = open_store(settings, must_exist=False)
    settings.projections_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(settings.projections_db)
    projectors = all_projectors(settings)
    try:
        with progress_bar(lag(store, db, projectors), "Projecting") as bar:
            n = catch_up(store, db, projectors, batch_size=settings.projection_batch_size, progress=bar.update)
    except ReplayNeeded as exc:
        db.conn.close()
        click.echo(f"{exc}; rebuilding.", err=True)
        with progress_bar(store.last_seq(), "Replaying") as bar:
            n = rebuild(store, settings.projections_db, projectors, batch_size=settings.projection_batch_size,
                        progress=bar.update)
    click.echo(f"Applied {n} events; projections are at sequence {store.last_seq()}.")
