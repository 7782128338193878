"""CLI: `observatory process`, `observatory reprocess` and the dry-run `observatory extract`."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

from ..cli_support import open_store, pass_ctx, progress_bar
from .pipeline import process_and_project, processor_for, project_now
from .processor import ingested_screenshots, pending_screenshots
from .reading import Reading
from .worker import init_worker, run_extraction


def report(outcomes) -> None:  # type: ignore[no-untyped-def]
    ok = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    click.echo(f"Extracted {len(ok)} screenshot(s), {sum(o.rows for o in ok)} row(s); {len(failed)} failed.")
    for o in failed:
        click.echo(f"  failed {o.sha256[:12]}: {o.error}", err=True)


def process_new(settings: Any, store: Any, shas: set[str]) -> None:
    """OCR the screenshots an ingest just added (`shas`), report, and update the projections."""
    jobs = [j for j in pending_screenshots(store) if j.sha256 in shas]
    with progress_bar(len(jobs), "Extracting") as bar:
        outcomes = process_and_project(settings, store, jobs, progress=bar.update)
    if jobs:
        report(outcomes)


@click.command()
@pass_ctx
def process(obj) -> None:  # type: ignore[no-untyped-def]
    """OCR every ingested screenshot that has no result yet, then update the projections."""
    settings = obj.settings
    store = open_store(settings)
    jobs = pending_screenshots(store)
    with progress_bar(len(jobs), "Extracting") as bar:
        outcomes = process_and_project(settings, store, jobs, progress=bar.update)
    report(outcomes)


@click.command()
@click.option("--kind", help="Only screenshots currently classified as KIND.")
@click.option("--screenshot", "screenshot", help="Only this screenshot (sha256 or a unique prefix).")
@click.option("--all", "all_", is_flag=True, help="Every screenshot in the log.")
@pass_ctx
def reprocess(obj, kind: str | None, screenshot: str | None, all_: bool) -> None:  # type: ignore[no-untyped-def]
    """Re-run extraction on stored screenshots with the current engine.

    New results are appended (nothing is overwritten); projections show the newest.
    """
    if not (kind or screenshot or all_):
        raise click.UsageError("say what to reprocess: --kind K, --screenshot ID or --all")
    settings = obj.settings
    store = open_store(settings)
    jobs = ingested_screenshots(store, kind=kind, screenshot=screenshot)
    if screenshot and len({j.sha256 for j in jobs}) > 1:
        raise click.UsageError(f"--screenshot {screenshot} matches {len(jobs)} screenshots; give more of the id")
    if not jobs:
        click.echo("Nothing matches; nothing reprocessed.", err=True)
        sys.exit(1)
    with processor_for(settings, store) as proc, progress_bar(len(jobs), "Reprocessing") as bar:
        outcomes = proc.reprocess(jobs, progress=bar.update)
    project_now(settings, store)
    report(outcomes)


def _image_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        else:
            files.append(p)
    return files


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per image.")
@click.option("--kind", help="Skip classification and read the screens as KIND.")
@pass_ctx
def extract(obj, paths: tuple[Path, ...], as_json: bool, kind: str | None) -> None:  # type: ignore[no-untyped-def]
    """Classify and extract images and print the result; writes nothing (a dry run)."""
    from ..extract import KINDS

    if kind is not None and kind not in KINDS:
        raise click.BadParameter(f"unknown kind {kind!r}; known: {', '.join(KINDS)}", param_hint="--kind")
    settings = obj.settings
    files = _image_files(paths)
    shas = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    results: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=min(settings.workers, max(1, len(files))), initializer=init_worker,
                             initargs=(os.getpid(),)) as pool, \
            progress_bar(len(files), "Extracting") as bar:
        futures = [pool.submit(run_extraction, sha, str(f), kind) for f, sha in zip(files, shas)]
        for f, sha, fut in zip(files, shas, futures):
            results.append(_contract(f, sha, fut.result()))
            bar.update(1)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for r in results:
            _print_human(r)
    if any(r.get("error") for r in results):
        sys.exit(1)


def _contract(path: Path, sha: str, reading: Reading) -> dict[str, Any]:
    """The `extract --json` object: the field names other tools rely on."""
    c, r = reading.classified, reading.scores
    if c is None or r is None:
        failed = reading.failed
        error = f"{failed.stage}: {failed.reason}" if failed is not None else str(reading.vision_error)
        return {"file": str(path), "sha256": sha, "kind": None, "confidence": 0.0, "meta": {}, "rows": [],
                "dropped_rows": [], "warnings": [], "error": error}
    return {
        "file": str(path),
        "sha256": sha,
        "kind": r.kind,
        "confidence": c.confidence,
        "meta": r.meta,
        "rows": r.rows,
        "dropped_rows": r.dropped_rows,
        "warnings": r.warnings,
        "row_confidence": r.row_confidence,
        "evidence": c.evidence,
        "engine": f"{r.engine} {r.engine_version}",
    }


def _print_human(r: dict[str, Any]) -> None:
    click.echo(f"{r['file']}")
    if r.get("error"):
        click.echo(f"  error: {r['error']}")
        return
    click.echo(f"  kind: {r['kind']} (confidence {r['confidence']:.2f})")
    if r["meta"]:
        click.echo("  meta: " + ", ".join(f"{k}={v}" for k, v in r["meta"].items()))
    for row, conf in zip(r["rows"], r["row_confidence"]):
        click.echo("    " + "  ".join(f"{k}={v}" for k, v in row.items()) + f"  ({conf:.2f})")
    for d in r["dropped_rows"]:
        click.echo(f"  dropped: {d.get('reason')}: {d.get('row')}")
    for w in r["warnings"]:
        click.echo(f"  warning: {w}")
