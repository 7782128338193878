"""Shared by the Datasette tests: a projection built from real samples, and the test client.

The labelled samples are turned into the events the processor would append for them
(the real image bytes in the blob store, ScreenshotIngested, ScreenshotClassified and
ScoresExtracted with the label's kind, meta and rows), then the real projectors run.
That gives every table realistic rows in a second, instead of ~3 s of OCR per image.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from datasette.app import Datasette

from observatory.eventlog import EventStore, ExtractionFailed, Pending, ScoresExtracted, ScreenshotClassified, ScreenshotIngested
from observatory.ingest.blobs import BlobStore
from observatory.process.pipeline import project_now
from observatory.serve import build_config, find_metadata
from observatory.serve.config import load_yml
from observatory.settings import Settings

ENGINE = dict(engine="tesseract", engine_version="labels")


def captured_at(file_name: str) -> str:
    stamp = file_name.split("_")[1] + file_name.split("_")[2]  # Screenshot_YYYYMMDD_HHMMSS_...
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}+00:00"


def sample_events(image: Path, blobs: BlobStore, community: str = "HEI", *, confidence: float = 0.93,
                  captured: str | None = None, meta: dict[str, Any] | None = None,
                  rows: list[dict[str, Any]] | None = None, copy: str = "") -> list[Pending]:
    """What ingest + process append for `image`, its label standing in for the OCR result.

    `captured`, `meta` and `rows` override the label's values; with them `copy` names a
    variant (another capture of the same kind of screen, e.g. the previous week), which
    gets its own content hash.
    """
    data = image.read_bytes() + copy.encode()
    sha = hashlib.sha256(data).hexdigest()
    info = label(image)
    stream = f"screenshot-{sha}"
    name = f"{copy}{image.name}"
    ingested = ScreenshotIngested(
        sha256=sha, community=community, original_path=f"{community}/{name}", file_name=name,
        byte_size=len(data), format="JPEG", width=1080, height=2340, captured_at=captured or captured_at(image.name),
        captured_at_source="filename", blob_path=blobs.put(sha, "jpg", data),
    )
    out = [Pending(ingested, stream, idempotency_key=f"ingest:{sha}", correlation_id=sha)]
    kind = info["kind"]
    out.append(Pending(ScreenshotClassified(sha256=sha, kind=kind, confidence=confidence if kind != "unknown" else 0.2,
                                            evidence=["label"], **ENGINE), stream, correlation_id=sha))
    if kind == "unknown":
        out.append(Pending(ExtractionFailed(sha256=sha, stage="classify", reason="unknown screen", **ENGINE), stream))
        return out
    rows = (info.get("rows") or []) if rows is None else rows
    meta = {**(info.get("meta") or {}), **(meta or {})}
    out.append(Pending(ScoresExtracted(sha256=sha, kind=kind, meta=meta, rows=rows,
                                       row_confidence=[confidence] * len(rows), **ENGINE), stream, correlation_id=sha))
    return out


def label(image: Path) -> dict[str, Any]:
    return json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))


def append_events(settings: Settings, events: list[Pending]) -> list[str]:
    """Append to the real log and run the real projectors; returns the ids of the screenshots ingested."""
    with EventStore(settings.events_db) as store:
        store.append(events)
        project_now(settings, store)
    return [e.event.sha256 for e in events if isinstance(e.event, ScreenshotIngested)]


def build_projection(settings: Settings, images: list[Path], community: str = "HEI", **kw: Any) -> list[str]:
    """The samples' events in the real log, projected; returns the screenshot ids."""
    blobs = BlobStore(settings.blobs_dir, settings.events_dir)
    return append_events(settings, [e for image in images for e in sample_events(image, blobs, community, **kw)])


def make_datasette(settings: Settings, host: str = "127.0.0.1") -> Datasette:
    """A Datasette with exactly the configuration `observatory serve` gives its child."""
    config = build_config(load_yml(find_metadata(settings)), settings, host)
    return Datasette([str(settings.projections_db)], metadata=config.metadata, settings=config.settings)


def get(ds: Datasette, path: str, **kw: Any):  # type: ignore[no-untyped-def]
    """One request through Datasette's own ASGI test client."""

    async def go():  # type: ignore[no-untyped-def]
        await ds.invoke_startup()
        return await ds.client.get(path, **kw)

    return asyncio.run(go())


def rows(ds: Datasette, path: str, **kw: Any) -> list[dict[str, Any]]:
    sep = "&" if "?" in path else "?"
    resp = get(ds, f"{path}{sep}_shape=array", **kw)
    assert resp.status_code == 200, resp.text[:500]
    return resp.json()
