"""Events as the product writes them, for tests: the one place tests build a log from.

Streams and idempotency keys come from the product's own helpers, never from strings
typed here: ingest, duplicate and refusal keys from `observatory.ingest.service`, a
screenshot's classification, scores and failures from the processor's own
`result_events`, corrections on the corrections stream of `observatory.correct`. A
test log therefore stays what a real log looks like when the product changes a key,
and `test_builders.py` checks these events against the ones the real ingest writes.

A screenshot is named by an int (`ingested(1)`: its id is `sha(1)`) or by its sha256.
Pure: nothing here touches a file but `sample_events`, which puts the image's bytes
in the blob store as ingest does.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from observatory.correct.commands import STREAM as CORRECTIONS_STREAM
from observatory.eventlog import CorrectionApplied, DuplicateSighted, IngestRejected, Pending, ScreenshotIngested
from observatory.eventlog.models import correction_adapter
from observatory.ingest.blobs import BlobStore
from observatory.ingest.service import dup_key, ingest_key, reject_key, reject_stream
from observatory.process.processor import Job, result_events
from observatory.process.reading import Reading

Shot = int | str  # a screenshot: a small number standing for sha(n), or its sha256

CAPTURED = "2025-11-12T17:35:38+00:00"
_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})")
_BLOBS = BlobStore(Path("events") / "blobs", Path("events"))  # layout only: paths as events record them


# --- ids -------------------------------------------------------------------------------------------

def sha(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def sha_of(name: str) -> str:
    """The id `shot(name)` gives a screenshot: the hash of `<community>/<file name>`."""
    return hashlib.sha256(name.encode()).hexdigest()


def _id(shot: Shot) -> str:
    return sha(shot) if isinstance(shot, int) else shot


def screenshot_stream(shot: Shot) -> str:
    """A screenshot's stream as the processor names it (the product has no helper that only names it)."""
    s = _id(shot)
    failure = Reading.failure(s, stage="extract", reason="none", engine="tesseract", engine_version="t1", requested_kind=None)
    return result_events(Job(s, ""), failure)[0].stream_id


def blob_path(shot: Shot, ext: str = "jpg") -> str:
    """Where the blob store keeps a screenshot's bytes, relative to the events dir."""
    s = _id(shot)
    return _BLOBS.relative(_BLOBS.path_for(s, ext))


def captured_from(name: str) -> str:
    """The capture time in a `Screenshot_YYYYMMDD_HHMMSS…` file name, UTC."""
    y, mo, d, h, mi, s = _STAMP.search(name).groups()  # type: ignore[union-attr]
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}+00:00"


# --- inbox -----------------------------------------------------------------------------------------

def ingested(shot: Shot, community: str = "HEI", key: bool = True, *, name: str | None = None,
             path: str | None = None, byte_size: int | None = None, format: str = "JPEG", width: int = 1080,
             height: int = 2340, captured_at: str = CAPTURED, captured_at_source: str = "filename",
             blob: str | None = None) -> Pending:
    """ScreenshotIngested as ingest appends it. `key=False` is a repeated ingest without a key (old logs)."""
    s = _id(shot)
    name = name or (f"Screenshot_{shot}.jpg" if isinstance(shot, int) else f"{s[:12]}.jpg")
    size = byte_size if byte_size is not None else 1000 + (shot if isinstance(shot, int) else 0)
    ev = ScreenshotIngested(
        sha256=s, community=community, original_path=path or f"{community}/{name}", file_name=name, byte_size=size,
        format=format, width=width, height=height, captured_at=captured_at,
        captured_at_source=captured_at_source,  # type: ignore[arg-type]
        blob_path=blob or blob_path(s, "png" if format == "PNG" else "jpg"),
    )
    return Pending(ev, screenshot_stream(s), idempotency_key=ingest_key(s) if key else None, correlation_id=s)


def duplicate(shot: Shot, path: str, community: str = "HEI") -> Pending:
    """DuplicateSighted: content already held, dropped again at `path`."""
    s = _id(shot)
    ev = DuplicateSighted(sha256=s, community=community, original_path=path, file_name=path.rsplit("/", 1)[-1])
    return Pending(ev, screenshot_stream(s), idempotency_key=dup_key(s, path), correlation_id=s)


def rejected(path: str, fingerprint: str = "0:0", code: str = "empty", *, community: str = "HEI",
             reason: str = "zero-byte file", byte_size: int | None = 0) -> Pending:
    """IngestRejected for the inbox file at `path` (relative to the watch dir, community folder first)."""
    ev = IngestRejected(original_path=path, file_name=path.rsplit("/", 1)[-1], community=community, code=code,
                        reason=reason, fingerprint=fingerprint, byte_size=byte_size)
    return Pending(ev, reject_stream(path), idempotency_key=reject_key(path, fingerprint))


# --- what the processor appends --------------------------------------------------------------------

def reading(shot: Shot, kind: str = "bear_damage", rows: list[dict[str, Any]] | None = None,
            meta: dict[str, Any] | None = None, *, confidence: float = 0.95, row_confidence: list[float] | None = None,
            evidence: list[str] | None = None, dropped_rows: list[dict[str, Any]] | None = None,
            engine: str = "tesseract", version: str = "test", requested_kind: str | None = None,
            request: str = "initial") -> list[Pending]:
    """ScreenshotClassified + ScoresExtracted for one request, as the processor's `result_events` records a reading.

    `request` is part of their idempotency keys: a later reading of the same screenshot
    (a reprocess) needs a request of its own, as in the product, or the log skips it.
    """
    rows = rows or []
    result = {"kind": kind, "confidence": confidence, "evidence": evidence or [], "engine": engine,
              "engine_version": version, "meta": meta or {}, "rows": rows,
              "row_confidence": row_confidence if row_confidence is not None else [confidence] * len(rows),
              "dropped_rows": dropped_rows or []}
    s = _id(shot)
    return result_events(Job(s, blob_path(s), requested_kind, request), Reading.read(s, result, requested_kind))


def classified(shot: Shot, kind: str = "bear_damage", confidence: float = 0.93, **kw: Any) -> Pending:
    """ScreenshotClassified alone (see `reading` for the keywords)."""
    kw.setdefault("evidence", ["Damage Ranking"])
    kw.setdefault("version", "t1")
    return reading(shot, kind, confidence=confidence, **kw)[0]


def extracted(shot: Shot, n_rows: int = 3, version: str = "t1", base: int = 0, **kw: Any) -> Pending:
    """ScoresExtracted alone: `n_rows` ranked bear-damage rows, descending from `base`, or the `rows` given."""
    rows = kw.pop("rows", None)
    if rows is None:
        rows = [{"rank": r + 1, "name": f"[HEI]Player{r}", "damage": 1_000_000 * (n_rows - r) + base}
                for r in range(n_rows)]
    kw.setdefault("confidence", 0.9)
    kw.setdefault("meta", {"trap_id": 1})
    kw.setdefault("dropped_rows", [{"row": {"name": "Me"}, "reason": "unranked"}])
    return reading(shot, kw.pop("kind", "bear_damage"), rows, version=version, **kw)[1]


def failed(shot: Shot, reason: str = "blurred", *, stage: str = "extract", engine: str = "tesseract",
           version: str = "t1", requested_kind: str | None = None, request: str = "initial") -> Pending:
    """ExtractionFailed as the processor appends it for a reading that failed."""
    s = _id(shot)
    reading = Reading.failure(s, stage=stage, reason=reason, engine=engine, engine_version=version,
                              requested_kind=requested_kind)
    (ev,) = result_events(Job(s, blob_path(s), requested_kind, request), reading)
    return ev


# --- whole screenshots ------------------------------------------------------------------------------

def shot(name: str, kind: str, rows: list[dict[str, Any]], meta: dict[str, Any] | None = None, *,
         community: str = "HEI", confidence: float = 0.95, row_confidence: list[float] | None = None,
         captured_at: str | None = None, requested_kind: str | None = None, request: str = "initial") -> list[Pending]:
    """Ingested + classified + extracted, as ingest and the processor append them for one screenshot."""
    s = sha_of(f"{community}/{name}")
    return [ingested(s, community, name=name, byte_size=1000, captured_at=captured_at or captured_from(name)),
            *reading(s, kind, rows, meta, confidence=confidence, row_confidence=row_confidence,
                     requested_kind=requested_kind, request=request)]


def result(s: str, kind: str, rows: list[dict[str, Any]], meta: dict[str, Any] | None = None, **kw: Any) -> list[Pending]:
    """A screenshot's classification and scores without its ingest (a re-read, or one before its ingest)."""
    return reading(s, kind, rows, meta, **kw)


def from_label(path: Path, *, community: str = "HEI") -> list[Pending]:
    """The events for a labelled sample, its label standing in for the OCR result."""
    label = json.loads(path.read_text(encoding="utf-8"))
    return shot(label["file"], label["kind"], label.get("rows") or [], label.get("meta") or {}, community=community)


def label(image: Path) -> dict[str, Any]:
    """A sample screenshot's label (the JSON beside it)."""
    return json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))


def sample_events(image: Path, blobs: BlobStore, community: str = "HEI", *, confidence: float = 0.93,
                  captured: str | None = None, meta: dict[str, Any] | None = None,
                  rows: list[dict[str, Any]] | None = None, copy: str = "") -> list[Pending]:
    """What ingest + process append for `image`, its label standing in for the OCR result.

    The real image bytes go into `blobs`. `captured`, `meta` and `rows` override the
    label's values; with them `copy` names a variant (another capture of the same kind
    of screen, e.g. the previous week), which gets its own content hash.
    """
    data = image.read_bytes() + copy.encode()
    s = hashlib.sha256(data).hexdigest()
    info = label(image)
    out = [ingested(s, community, name=f"{copy}{image.name}", byte_size=len(data),
                    captured_at=captured or captured_from(image.name), blob=blobs.put(s, "jpg", data))]
    engine = {"engine": "tesseract", "version": "labels"}
    kind = info["kind"]
    if kind == "unknown":
        out.append(classified(s, kind, 0.2, evidence=["label"], **engine))
        out.append(failed(s, "unknown screen", stage="classify", **engine))
        return out
    rows = (info.get("rows") or []) if rows is None else rows
    meta = {**(info.get("meta") or {}), **(meta or {})}
    out += reading(s, kind, rows, meta, confidence=confidence, evidence=["label"], **engine)
    return out


# --- corrections ------------------------------------------------------------------------------------

def correction(fix: dict[str, Any], *, actor: str = "admin", reason: str = "checked against the game") -> Pending:
    """CorrectionApplied on the corrections stream, as `observatory correct` appends it."""
    return Pending(CorrectionApplied(correction=correction_adapter.validate_python(fix), actor=actor, reason=reason),
                   CORRECTIONS_STREAM, actor=actor)


# --- a hunt: the example ---------------------------------------------------------------------

TRAP1 = [
    (1, "[HEI]Valorin", 6442016308), (2, "[HEI]Stevieツ", 4483222355), (3, "[HEI]D A D D Y࿐", 3720524673),
    (4, "[HEI]Xoxo", 3706838781), (5, "[HEI]jack275", 3553763918), (6, "[HEI]Orrin", 3400000001),
    (7, "[HEI]Kestrel", 3300000002), (8, "[HEI]Bourne", 3200000003), (9, "[HEI]Lumen", 3150000004),
    (10, "[HEI]Tamsin", 3100000005), (11, "[HEI]Atropos", 3082522535), (12, "[HEI]Mar", 3073141146),
    (13, "[HEI]MissKris", 2951875698), (14, "[HEI]Van Milder", 2721049503), (15, "[HEI]Moensori", 2699056476),
    (16, "[HEI]Quill", 2600000006), (17, "[HEI]Marra", 2500000007), (18, "[HEI]Sable", 2400000008),
    (19, "[HEI]Wren", 2300000009), (20, "[HEI]Yarrow", 2200000010),
]
FIRST = sha_of("HEI/Screenshot_20251112_173538_Whiteout Survival.jpg")  # trap1_hunt's first ranking screenshot
OVERVIEW = sha_of("HEI/Screenshot_20251113_233005_Whiteout Survival.jpg")  # and its overview mail


def ranking(ranks: range) -> list[dict]:
    return [{"rank": r, "name": n, "damage": d} for r, n, d in TRAP1 if r in ranks]


def trap1_hunt() -> list[list]:
    """The issue's example: four scroll positions of the Trap 1 ranking, and the overview mail 30 hours later."""
    overview = [{"rank": r, "name": n.removeprefix("[HEI]"), "damage": d} for r, n, d in TRAP1[:4]]
    return [
        shot("Screenshot_20251112_173538_Whiteout Survival.jpg", "bear_damage", ranking(range(1, 6)), {"trap_id": 1}),
        shot("Screenshot_20251112_173547_Whiteout Survival.jpg", "bear_damage", ranking(range(5, 11)), {"trap_id": 1}),
        shot("Screenshot_20251112_173552_Whiteout Survival.jpg", "bear_damage", ranking(range(10, 16)), {"trap_id": 1}),
        shot("Screenshot_20251112_173559_Whiteout Survival.jpg", "bear_damage", ranking(range(15, 21)), {"trap_id": 1}),
        shot("Screenshot_20251113_233005_Whiteout Survival.jpg", "bear_overview", overview,
             {"trap_id": 1, "rallies": 50, "total_damage": 57815870631, "mail_time": "2025-11-11 22:30:05"}),
    ]


# --- what engines and users hand in ---------------------------------------------------------------

def output_contract(label: dict) -> dict:
    """A sample label as an engine's output: the labelling keys (`name_plain`, `uncertain`, `*_clipped`, ...) left out."""
    from observatory.extract.scoring import LABEL_ONLY_KEYS

    def row(r: dict) -> dict:
        return {k: v for k, v in r.items() if k not in LABEL_ONLY_KEYS and not k.endswith("_clipped")}

    return {**label, **{k: [row(r) for r in label.get(k) or []] for k in ("rows", "partial_rows", "excluded_rows")}}


def blank_png(text: str = "hello world") -> bytes:
    """A white PNG with one line of text: an image that is no game screen."""
    im = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(im).text((20, 80), text, fill="black")
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()
