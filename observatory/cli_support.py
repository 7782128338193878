"""What every CLI command shares: the settings context, the store, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from .logs import setup_logging
from .settings import Settings, SettingsError, load_settings


class Context:
    """Carried in ctx.obj: the global CLI overrides, and the settings built from them on first use."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None

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
    """The event log; with must_exist, a missing log is a clear error (exit 1), not a new empty file."""
    from .eventlog import EventStore

    if must_exist and not settings.events_db.exists():
        click.echo(f"Error: no event log at {settings.events_db} (nothing ingested yet?)", err=True)
        sys.exit(1)
    return EventStore(settings.events_db, readonly=readonly)


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
