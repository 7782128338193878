"""Events for the domain tests: screenshots as the processor records them, from sample labels or by hand."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from observatory.eventlog import CorrectionApplied, Pending, ScoresExtracted, ScreenshotClassified, ScreenshotIngested
from observatory.eventlog.models import correction_adapter

_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})")


def sha_of(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def captured_from(name: str) -> str:
    y, mo, d, h, mi, s = _STAMP.search(name).groups()  # type: ignore[union-attr]
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}+00:00"


def shot(name: str, kind: str, rows: list[dict[str, Any]], meta: dict[str, Any] | None = None, *,
         community: str = "HEI", confidence: float = 0.95, row_confidence: list[float] | None = None,
         captured_at: str | None = None, requested_kind: str | None = None, request: str = "initial") -> list[Pending]:
    """Ingested + classified + extracted, as the processor appends them for one screenshot."""
    s = sha_of(f"{community}/{name}")
    stream = f"screenshot-{s}"
    ing = ScreenshotIngested(
        sha256=s, community=community, original_path=f"{community}/{name}", file_name=name, byte_size=1000,
        format="JPEG", width=1080, height=2340, captured_at=captured_at or captured_from(name),
        captured_at_source="filename", blob_path=f"blobs/{s[:2]}/{s}.jpg")
    return [Pending(ing, stream, idempotency_key=f"ingest:{s}", correlation_id=s),
            *result(s, kind, rows, meta, confidence=confidence, row_confidence=row_confidence,
                    requested_kind=requested_kind, request=request)]


def result(s: str, kind: str, rows: list[dict[str, Any]], meta: dict[str, Any] | None = None, *,
           confidence: float = 0.95, row_confidence: list[float] | None = None, requested_kind: str | None = None,
           request: str = "initial") -> list[Pending]:
    stream = f"screenshot-{s}"
    common = {"engine": "tesseract", "engine_version": "test", "requested_kind": requested_kind}
    cls = ScreenshotClassified(sha256=s, kind=kind, confidence=confidence, **common)
    ext = ScoresExtracted(sha256=s, kind=kind, meta=meta or {}, rows=rows,
                          row_confidence=row_confidence if row_confidence is not None else [confidence] * len(rows),
                          **common)
    return [Pending(cls, stream, idempotency_key=f"classified:{request}:{s}", correlation_id=s),
            Pending(ext, stream, idempotency_key=f"extracted:{request}:{s}", correlation_id=s)]


def from_label(path: Path, *, community: str = "HEI") -> list[Pending]:
    label = json.loads(path.read_text(encoding="utf-8"))
    return shot(label["file"], label["kind"], label.get("rows") or [], label.get("meta") or {}, community=community)


def correction(fix: dict[str, Any], *, actor: str = "admin", reason: str = "checked against the game") -> Pending:
    return Pending(CorrectionApplied(correction=correction_adapter.validate_python(fix), actor=actor, reason=reason),
                   "corrections", actor=actor)
