"""CLI: `observatory serve`."""

from __future__ import annotations

import signal
import sys
import time

import click

from ..cli_support import pass_ctx
from .datasette_server import DatasetteServer


def server_options(fn):  # type: ignore[no-untyped-def]
    """--host/--port, shared by `serve` and `run`."""
    fn = click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Port for Datasette.")(fn)
    return click.option(
        "--host", default="127.0.0.1", show_default=True,
        help="Interface for Datasette. Beyond localhost needs OBSERVATORY_WEB_USERS or OBSERVATORY_WEB_PASSWORD_HASH.",
    )(fn)


def make_server(settings, host: str, port: int) -> DatasetteServer:  # type: ignore[no-untyped-def]
    try:
        return DatasetteServer(settings, host, port)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--host") from None


def print_password_hash(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """Prompt for a password and print the hash for OBSERVATORY_WEB_PASSWORD_HASH; runs before settings load."""
    if not value or ctx.resilient_parsing:
        return
    from datasette_auth_passwords.utils import hash_password

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    if not password:
        raise click.BadParameter("the password must not be empty", param_hint="--hash-password")
    click.echo(hash_password(password))
    ctx.exit(0)


@click.command()
@server_options
@click.option(
    "--hash-password", is_flag=True, expose_value=False, is_eager=True, callback=print_password_hash,
    help="Ask for a password, print its hash (for OBSERVATORY_WEB_PASSWORD_HASH or OBSERVATORY_WEB_USERS), and exit.",
)
@pass_ctx
def serve(obj, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    """Serve the projections read-only in Datasette."""
    server = make_server(obj.settings, host, port)
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
    try:
        server.start()
        click.echo(f"Datasette: open {server.url}  (Ctrl-C to stop)", err=True)
        while (code := server.poll()) is None:
            time.sleep(1.0)
            server.follow()
        sys.exit(code)
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    finally:
        server.stop()
