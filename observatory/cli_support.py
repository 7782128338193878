"""What every CLI command shares: the settings context, the store, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from .logs import setup_logging
from .settings import Settings, SettingsError, load_settings


class Context:
    """Carried in ctx.obj: the global CLI overrides, the settings built from them on first use, and the later stages.

    A stage's command that must bring later stages up to date (a correction is projected
    at once, an ingest is OCRed) gets those steps from cli.py here, so the lower stage
    never imports the upper one (see layers.py).
    """

    def __init__(self, overrides: dict[str, Any], *,
                 project_now: Callable[[Settings, Any], Any] | None = None,
                 process_new: Callable[[Settings, Any, set[str]], Any] | None = None) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None
        self._project_now = project_now
        self._process_new = process_new

    def project_now(self, settings: Settings, store: Any) -> None:
        """Bring the projections up to date with the log."""
        if self._project_now is None:
            raise RuntimeError("no projection step was handed to this CLI context")
        self._project_now(settings, store)

    def process_new(self, settings: Settings, store: Any, shas: set[str]) -> None:
        """OCR the screenshots `shas` names, then bring the projections up to date."""
        if self._process_new is None:
            raise RuntimeError("no processing step was handed to this CLI context")
        self._process_new(settings, store, shas)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(**self.overrides)
            except SettingsError as exc:
                click.echo(f"Error: {exc}", err=True)
                sys.exit(2)
            setup_logging(self._settings.log_level)
        return self._settings


pass_ctx = click.make_pass_decorator(Context)


def open_store(settings: Settings, *, must_exist: bool = True, readonly: bool = False):  # type: ignore[no-untyped-def]
    """The event log with its key; with must_exist, a missing log is a clear error (exit 1), not a new empty file.

    A missing or wrong log key, or a PostgreSQL log that cannot be reached, is a settings problem (exit 2).
    """
    from .eventlog import LogKeyError, LogUnavailable, log_exists, open_log

    if must_exist and not log_exists(settings):
        click.echo(f"Error: no event log at {settings.events_db} (nothing ingested yet?)", err=True)
        sys.exit(1)
    try:
        return open_log(settings, readonly=readonly)
    except (LogKeyError, LogUnavailable) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


class _NullBar:
    def update(self, n: int) -> None:
        pass


@contextmanager
def progress_bar(length: int, label: str) -> Iterator[Any]:
    """A progress bar on stderr (quiet when there is nothing to do)."""
    if length <= 0:
        yield _NullBar()
        return
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True, show_eta=True) as bar:
        yield bar


accept_broken_chain_option = click.option(
    "--accept-broken-chain", is_flag=True,
    help="Build projections even though the event log's hash chain is broken (see `observatory verify`).")


def refuse_broken_chain(settings: Settings, store: Any, *, accept: bool, full: bool) -> str | None:
    """The one-line refusal when the log's chain is broken (None: go ahead); with `accept`, a warning instead."""
    from .eventlog.integrity import broken_chain_line, check_log

    line = broken_chain_line(check_log(store, settings.log_anchor_path, full=full))
    if line is None:
        return None
    if accept:
        click.echo(f"Warning: {line}; building projections anyway (--accept-broken-chain).", err=True)
        return None
    return f"Error: {line}. Not building projections from it; run `observatory verify`, or pass --accept-broken-chain."
