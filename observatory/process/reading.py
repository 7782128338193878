"""What one engine made of one screenshot, as it crosses the OCR pool's process boundary.

A reading is the events that will record it, already typed and validated: a worker
sends them back pickled, and the daemon appends them without decoding anything again
or importing any OCR code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..eventlog import ExtractionFailed, ScoresExtracted, ScreenshotClassified


@dataclass(frozen=True, slots=True)
class Reading:
    """Read: `classified` and `scores`. Not read: `failed` (a local reader), or `vision_error` (OpenAI,
    which then falls back to the local reading). `metadata` goes into the events' envelope."""

    sha256: str
    classified: ScreenshotClassified | None = None
    scores: ScoresExtracted | None = None
    failed: ExtractionFailed | None = None
    vision_error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.scores is not None

    @property
    def engine(self) -> str | None:
        found = self.classified or self.failed
        return found.engine if found is not None else None

    @classmethod
    def read(cls, sha256: str, extraction: Mapping[str, Any], requested_kind: str | None,
             metadata: dict[str, Any] | None = None) -> Reading:
        """A reading from an engine's extraction (the JSON form of `extract.Extraction`)."""
        r = extraction
        common = {"sha256": sha256, "engine": r["engine"], "engine_version": r["engine_version"],
                  "requested_kind": requested_kind}
        return cls(
            sha256,
            classified=ScreenshotClassified(kind=r["kind"], confidence=r["confidence"], evidence=r.get("evidence", []),
                                            **common),
            scores=ScoresExtracted(kind=r["kind"], meta=r.get("meta", {}), rows=r.get("rows", []),
                                   row_confidence=r.get("row_confidence", []), row_fields=r.get("row_fields", []),
                                   dropped_rows=r.get("dropped_rows", []),
                                   warnings=r.get("warnings", []), **common),
            metadata=metadata or {},
        )

    @classmethod
    def failure(cls, sha256: str, *, stage: str, reason: str, engine: str, engine_version: str,
                requested_kind: str | None) -> Reading:
        return cls(sha256, failed=ExtractionFailed(sha256=sha256, stage=stage, reason=reason, engine=engine,
                                                   engine_version=engine_version, requested_kind=requested_kind))

    def warned(self, warning: str) -> Reading:
        """The same reading with one more warning on its scores."""
        if self.scores is None:
            return self
        return replace(self, scores=self.scores.model_copy(update={"warnings": [*self.scores.warnings, warning]}))
