"""`observatory run`: the whole product in one process tree.

The inbox (watchdog), the processor and projector (a background loop with an OCR
process pool) and Datasette (a child process) run together. Ctrl-C or SIGTERM stops
them in order, inbox first, so nothing new starts, then the pipeline (OCR in hand gets
a few seconds' grace, then is abandoned and redone at the next start: a loaded machine
can take many seconds per screenshot, longer than a service manager waits), then
Datasette; every append is a transaction, so no event is ever half-written, and no
child outlives the command.
"""

from __future__ import annotations

import logging
import sys

import click

from .cli_support import accept_broken_chain_option, open_store, pass_ctx, refuse_broken_chain
from .lifecycle import stop_on_signals
from .serve.commands import make_server, server_options

log = logging.getLogger(__name__)


def banner(watch_dir: str, url: str, community: str, jobs: str | None = None, *, local_ocr: bool = True) -> str:
    return "\n".join(
        [
            "Observatory is running.",
            f"  Drop screenshots into: {watch_dir}",
            f"    (one folder per community, e.g. {watch_dir}/HEI/; files directly there count as '{community}')",
            f"  Open: {url}",
            *([] if local_ocr else ["  OCR: left to `observatory worker` processes (OBSERVATORY_LOCAL_OCR=false)"]),
            *([f"  Jobs: {jobs} (observatory schedule / observatory status)"] if jobs else []),
            "  Stop: Ctrl-C",
        ]
    )


def run_daemon(settings, server=None, *, accept_broken_chain: bool = False) -> int:  # type: ignore[no-untyped-def]
    """Run the inbox and the background pipeline (and `server`, when given) until a signal; return the exit code.

    A log whose hash chain is broken (checked from the anchor on) is refused before anything starts.
    """
    from .ingest.commands import blobs_usable
    from .process.background import BackgroundPipeline
    from .schedule.service import Operations
    from .watch import Inbox

    stop = stop_on_signals(log, "shutting down")
    if not blobs_usable(settings):
        return 2
    store = open_store(settings, must_exist=False)
    refusal = refuse_broken_chain(settings, store, accept=accept_broken_chain, full=False)
    if refusal:
        store.close()
        click.echo(refusal, err=True)
        return 1
    pipeline = BackgroundPipeline(settings)
    # The scheduler's rescan job is the only periodic rescan: the inbox's own timer is switched off.
    inbox = Inbox(settings, store=store, on_ingested=pipeline.nudge, own_rescan=False)
    ops = Operations(settings, rescan=inbox.rescan)
    code = 0
    try:
        pipeline.start()
        if server is not None:
            server.start()
        inbox.start()
        ops.start()
        url = server.url if server is not None else "(not serving; use `observatory run` or `observatory serve`)"
        click.echo(banner(str(settings.watch_dir), url, settings.default_community, ops.describe(),
                          local_ocr=settings.local_ocr), err=True)
        while not stop.wait(1.0):
            if server is not None and server.proc is not None and server.proc.poll() is not None:
                log.error("Datasette exited with code %s; shutting down", server.proc.returncode)
                code = 1
                break
            if server is not None:
                server.follow()
    except RuntimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        code = 1
    finally:
        ops.stop()  # waits for a running job (a backup) before the log closes
        inbox.stop()
        pipeline.stop()
        if server is not None:
            server.stop()
        store.close()
        log.info("stopped")
    return code


@click.command()
@server_options
@accept_broken_chain_option
@pass_ctx
def run(obj, host: str, port: int, accept_broken_chain: bool) -> None:  # type: ignore[no-untyped-def]
    """Run everything: watch the inbox, OCR, project, and serve Datasette."""
    sys.exit(run_daemon(obj.settings, make_server(obj.settings, host, port), accept_broken_chain=accept_broken_chain))


@click.command()
@accept_broken_chain_option
@pass_ctx
def watch(obj, accept_broken_chain: bool) -> None:  # type: ignore[no-untyped-def]
    """Watch the inbox: ingest, OCR and project every finished screenshot until Ctrl-C / SIGTERM.

    The same as `observatory run` without Datasette.
    """
    sys.exit(run_daemon(obj.settings, accept_broken_chain=accept_broken_chain))
