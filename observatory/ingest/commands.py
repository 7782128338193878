"""CLI: `observatory ingest PATH...` (on demand; `observatory watch`, the daemon, is in runner.py)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from ..cli_support import open_store, pass_ctx, progress_bar
from .paths import Candidate, locate, walk, within

log = logging.getLogger(__name__)


def blobs_usable(settings) -> bool:  # type: ignore[no-untyped-def]
    """Whether the blob store can be used; when not, says why in one line (the command then exits 2)."""
    from .blobs import BlobStoreUnavailable, checked_blobs

    try:
        checked_blobs(settings)
    except BlobStoreUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        return False
    return True


def _candidates(paths: tuple[Path, ...], settings, community: str | None) -> list[Candidate]:  # type: ignore[no-untyped-def]
    from .ignore import IgnoreRules

    rules = IgnoreRules(settings.ignore_patterns)
    out: list[Candidate] = []
    for given in paths:
        if os.path.isdir(given) and not os.path.islink(given):
            inbox = os.fspath(settings.watch_dir)
            here = os.path.abspath(given)
            base_parts = tuple(Path(os.path.relpath(here, inbox)).parts) if within(here, inbox) and here != inbox else ()
            prune = lambda parts, b=base_parts: rules.ignored_dir((*b, *parts))  # noqa: E731
            for f in walk(Path(here), prune):
                out.append(locate(f, settings.watch_dir, settings.default_community, base=Path(here), community=community))
        else:
            out.append(locate(given, settings.watch_dir, settings.default_community, community=community))
    return out


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--community", help="Community for these files (default: the inbox folder, else OBSERVATORY_DEFAULT_COMMUNITY).")
@click.option("--no-process", is_flag=True, help="Only ingest; leave OCR to a running `observatory run`/`watch` or `observatory process`.")
@pass_ctx
def ingest(obj, paths: tuple[Path, ...], community: str | None, no_process: bool) -> None:  # type: ignore[no-untyped-def]
    """Ingest image files or folders now (the same rules as `watch`, without waiting).

    Then OCR what was ingested and update the projections, unless --no-process (or OBSERVATORY_LOCAL_OCR=false).
    """
    from .service import Ingestor, Summary

    settings = obj.settings
    if not blobs_usable(settings):
        sys.exit(2)
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
    click.echo(
        f"Ingested {c['ingested']}, duplicates {c['duplicate']}, rejected {c['rejected']}, ignored {c['ignored']}"
        f", already in the log {c['known']}"
        + (f", changing or vanished while read {c['unstable'] + c['gone']}" if c["unstable"] + c["gone"] else "")
        + "."
    )
    if no_process or not settings.local_ocr:  # OBSERVATORY_LOCAL_OCR=false: `observatory worker` reads them
        obj.project_now(settings, store)
    else:
        obj.process_new(settings, store, {e.payload["sha256"] for e in summary.events if e.type == "ScreenshotIngested"})
    store.close()
    sys.exit(1 if missing else 0)

