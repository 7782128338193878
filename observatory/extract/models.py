"""The extraction result, and the declaration format it is driven by (which lives with the game packs)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..games.format import Check, KindDefinition, MetaField, Phrase, RowField, RowSpec

__all__ = ["Check", "Extraction", "ExtractionError", "KindDefinition", "MetaField", "Phrase", "RowField", "RowSpec"]


class Extraction(BaseModel):
    """Result of ``extract``: typed rows plus everything needed to audit them."""

    kind: str
    confidence: float = Field(ge=0.0, le=1.0)
    meta: dict[str, Any] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    row_confidence: list[float] = Field(default_factory=list)
    row_fields: list[dict[str, Any]] = Field(default_factory=list)  # per row: field -> box, reader, confidence
    dropped_rows: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    engine: str
    engine_version: str


class ExtractionError(Exception):
    """Raised when an image cannot be processed at all (e.g. not decodable)."""

    def __init__(self, stage: Literal["decode", "classify", "extract"], reason: str):
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason

    def __reduce__(self):  # keep picklable across process pools
        return (ExtractionError, (self.stage, self.reason))
