"""Typed events: the vocabulary of the log.

Each event type is a pydantic model with a `schema_version`. Payloads written by
older versions are lifted to the current shape by the upcaster chain in
`upcasting.py` before they are validated, so old logs keep loading.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def payload(self) -> dict[str, Any]:
        """The JSON payload as stored: everything but the discriminator."""
        return self.model_dump(mode="json", exclude={"type"})


# --- inbox -------------------------------------------------------------------


class ScreenshotIngested(Event):
    """A new image entered the blob store. Its sha256 is the screenshot id."""

    schema_version: ClassVar[int] = 2
    type: Literal["ScreenshotIngested"] = "ScreenshotIngested"
    sha256: str
    community: str
    original_path: str  # relative to watch_dir when it came from there
    file_name: str
    byte_size: int
    format: str
    width: int
    height: int
    captured_at: str  # UTC ISO-8601 with offset
    captured_at_source: Literal["filename", "exif", "mtime", "unknown"] = "unknown"
    blob_path: str  # relative to the events dir


class DuplicateSighted(Event):
    """Content we already hold was dropped again (another name or folder)."""

    type: Literal["DuplicateSighted"] = "DuplicateSighted"
    sha256: str
    community: str
    original_path: str
    file_name: str


class IngestRejected(Event):
    """A file in the inbox could not be taken; `fingerprint` lets a changed file be looked at again."""

    type: Literal["IngestRejected"] = "IngestRejected"
    original_path: str
    file_name: str
    community: str
    code: str  # machine-readable: empty, not_an_image, corrupt, too_many_pixels, too_large, ...
    reason: str  # human-readable
    fingerprint: str  # e.g. "size:mtime_ns"
    byte_size: int | None = None


# --- extraction --------------------------------------------------------------


class EngineResult(Event):
    """What an extraction engine said about one screenshot; tagged so results stay comparable across versions."""

    sha256: str
    engine: str
    engine_version: str


class ScreenshotClassified(EngineResult):
    type: Literal["ScreenshotClassified"] = "ScreenshotClassified"
    kind: str
    confidence: float
    evidence: list[str] = Field(default_factory=list)


class ScoresExtracted(EngineResult):
    type: Literal["ScoresExtracted"] = "ScoresExtracted"
    kind: str
    meta: dict[str, Any] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    row_confidence: list[float] = Field(default_factory=list)
    dropped_rows: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class ExtractionFailed(EngineResult):
    type: Literal["ExtractionFailed"] = "ExtractionFailed"
    stage: str  # decode | classify | extract | internal
    reason: str


# --- corrections -------------------------------------------------------------


class NoteCorrection(BaseModel):
    """A free-text note; the other correction kinds join this union."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["note"] = "note"
    target: str  # what the note is about (screenshot id, event id, ...)
    text: str


Correction = Annotated[Union[NoteCorrection], Field(discriminator="kind")]


class CorrectionApplied(Event):
    type: Literal["CorrectionApplied"] = "CorrectionApplied"
    correction: Correction
    actor: str
    reason: str = ""


AnyEvent = Annotated[
    Union[
        ScreenshotIngested,
        DuplicateSighted,
        IngestRejected,
        ScreenshotClassified,
        ScoresExtracted,
        ExtractionFailed,
        CorrectionApplied,
    ],
    Field(discriminator="type"),
]

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        ScreenshotIngested,
        DuplicateSighted,
        IngestRejected,
        ScreenshotClassified,
        ScoresExtracted,
        ExtractionFailed,
        CorrectionApplied,
    )
}

event_adapter: TypeAdapter[Any] = TypeAdapter(AnyEvent)
