"""CLI: `observatory ingest PATH...` (on demand) and `observatory watch` (the daemon)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click

from ..cli_support import open_store, pass_ctx, progress_bar
from .paths import Candidate, locate, walk

log = logging.getLogger(__name__)


def _project(settings, store) -> None:  # type: ignore[no-untyped-def]
    """Bring the read tables up to date with the log (the lead adds OCR processing before this)."""
    from ..project import all_projectors, catch_up, open_db

    settings.projections_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(settings.projections_db)
    try:
        catch_up(store, db, all_projectors(), batch_size=settings.projection_batch_size)
    finally:
        db.conn.close()


def _candidates(paths: tuple[Path, ...], settings, community: str | None) -> list[Candidate]:  # type: ignore[no-untyped-def]
    from .ignore import IgnoreRules

    rules = IgnoreRules(settings.ignore_patterns)
    out: list[Candidate] = []
    for given in paths:
        if os.path.isdir(given) and not os.path.islink(given):
            inbox = os.fspath(settings.watch_dir)
            here = os.path.abspath(given)
            inside = here == inbox or here.startswith(inbox + os.sep)
            base_parts = tuple(Path(os.path.relpath(here, inbox)).parts) if inside and here != inbox else ()
            prune = lambda parts, b=base_parts: rules.ignored_dir((*b, *parts))  # noqa: E731
            for f in walk(Path(here), prune):
                out.append(locate(f, settings.watch_dir, settings.default_community, base=Path(here), community=community))
        else:
            out.append(locate(given, settings.watch_dir, settings.default_community, community=community))
    return out


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--community", help="Community for these files (default: the inbox folder, else OBSERVATORY_DEFAULT_COMMUNITY).")
@pass_ctx
def ingest(obj, paths: tuple[Path, ...], community: str | None) -> None:  # type: ignore[no-untyped-def]
    """Ingest image files or folders now (the same rules as `watch`, without waiting)."""
    from .service import Ingestor, Summary

    settings = obj.settings
    missing = [p for p in paths if not os.path.lexists(p)]
    for p in missing:
        click.echo(f"Error: no such file or folder: {p}", err=True)
    store = open_store(settings, must_exist=False)
    cands = _candidates(tuple(p for p in paths if p not in missing), settings, community)
    summary = Summary()
    ingestor = Ingestor(settings, store)
    try:
        with progress_bar(len(cands), "Ingesting") as bar:
            for outcomes in ingestor.ingest_all(cands, progress=bar.update):
                summary.add(outcomes)
    finally:
        ingestor.close()
    c = summary.counts
    _project(settings, store)
    click.echo(
        f"Ingested {c['ingested']}, duplicates {c['duplicate']}, rejected {c['rejected']}, ignored {c['ignored']}"
        f", already in the log {c['known']}"
        + (f", changing or vanished while read {c['unstable'] + c['gone']}" if c["unstable"] + c["gone"] else "")
        + "."
    )
    store.close()
    sys.exit(1 if missing else 0)


@click.command()
@pass_ctx
def watch(obj) -> None:  # type: ignore[no-untyped-def]
    """Watch the inbox and ingest every finished screenshot until Ctrl-C / SIGTERM."""
    from ..watch import Inbox

    settings = obj.settings
    store = open_store(settings, must_exist=False)
    lock = threading.Lock()

    def after_ingest(events) -> None:  # type: ignore[no-untyped-def]
        # The place for the next pipeline stages: OCR processing goes here, before projecting.
        with lock:
            _project(settings, store)

    inbox = Inbox(settings, store=store, on_ingested=after_ingest)
    stop = threading.Event()

    def on_signal(signum, frame) -> None:  # type: ignore[no-untyped-def]
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        after_ingest([])  # projections up to date before the first new file
    except Exception:
        log.exception("could not bring the projections up to date; watching anyway (try `observatory replay`)")
    inbox.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        inbox.stop()
        store.close()
