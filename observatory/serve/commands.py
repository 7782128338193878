"""CLI: `observatory serve`."""

from __future__ import annotations

import signal
import sys

import click

from ..cli_support import pass_ctx
from .datasette_server import DatasetteServer


def server_options(fn):  # type: ignore[no-untyped-def]
    """--host/--port, shared by `serve` and `run`."""
    fn = click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Port for Datasette.")(fn)
    return click.option("--host", default="127.0.0.1", show_default=True, help="Interface for Datasette (loopback only for now).")(fn)


def make_server(settings, host: str, port: int) -> DatasetteServer:  # type: ignore[no-untyped-def]
    try:
        return DatasetteServer(settings, host, port)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--host") from None


@click.command()
@server_options
@pass_ctx
def serve(obj, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    """Serve the projections read-only in Datasette."""
    server = make_server(obj.settings, host, port)
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
    try:
        server.start()
        click.echo(f"Datasette: open {server.url}  (Ctrl-C to stop)", err=True)
        sys.exit(server.wait())
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    finally:
        server.stop()
