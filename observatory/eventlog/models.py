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
    requested_kind: str | None = None  # set when an admin's reclassification forced the kind


class ScreenshotClassified(EngineResult):
    type: Literal["ScreenshotClassified"] = "ScreenshotClassified"
    kind: str
    confidence: float
    evidence: list[str] = Field(default_factory=list)


class ScoresExtracted(EngineResult):
    """v2 adds `row_fields`: per row, where each field was read, {"damage": {"box": [left, top, right,
    bottom] in the original image's pixels, "reader": "rapidocr", "confidence": 0.93}, "row": {... the
    row's band}}. v1 events have none (the upcaster gives []); so do readers that see no pixels (OpenAI)."""

    schema_version: ClassVar[int] = 2
    type: Literal["ScoresExtracted"] = "ScoresExtracted"
    kind: str
    meta: dict[str, Any] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    row_confidence: list[float] = Field(default_factory=list)
    row_fields: list[dict[str, Any]] = Field(default_factory=list)
    dropped_rows: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class ExtractionFailed(EngineResult):
    type: Literal["ExtractionFailed"] = "ExtractionFailed"
    stage: str  # decode | classify | extract | internal
    reason: str


# --- corrections -------------------------------------------------------------
# One model per kind of fix. Rows are addressed by what the screen shows (`rank`,
# `order` or the name as read), never by position, so a correction still finds its
# row after `reprocess` re-reads the screenshot.


class _Fix(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RowRef(_Fix):
    """A row of one screenshot: `field` is rank, order or name; `value` what it shows. A row with none of
    them (a sign-up or roster card whose name no reader could read) is addressed by its `power`."""

    field: Literal["rank", "order", "name", "power"]
    value: int | str


class SetValue(_Fix):
    """Fix one field of one row, or of the screen's meta when `row` is None."""

    kind: Literal["set_value"] = "set_value"
    screenshot_id: str
    row: RowRef | None
    field: str
    value: Any


class Confirm(_Fix):
    """The row's doubtful readings are right as read: `fields` (none: every doubtful field) count from now on."""

    kind: Literal["confirm"] = "confirm"
    screenshot_id: str
    row: RowRef
    fields: list[str] = Field(default_factory=list)


class DeleteRow(_Fix):
    kind: Literal["delete_row"] = "delete_row"
    screenshot_id: str
    row: RowRef


class AddRow(_Fix):
    """A row OCR missed; it replaces an OCR row with the same address if a later reading finds one."""

    kind: Literal["add_row"] = "add_row"
    screenshot_id: str
    values: dict[str, Any]


class Reclassify(_Fix):
    """The screenshot is another kind: the processor extracts it again as that kind."""

    kind: Literal["reclassify"] = "reclassify"
    screenshot_id: str
    new_kind: str


class Retract(_Fix):
    kind: Literal["retract"] = "retract"
    screenshot_id: str


class RenamePlayer(_Fix):
    kind: Literal["rename_player"] = "rename_player"
    community: str
    player_id: str
    name: str


class MergePlayers(_Fix):
    """`source` becomes part of `target`: its names and scores are the target's from then on."""

    kind: Literal["merge_players"] = "merge_players"
    community: str
    source_id: str
    target_id: str


class LinkAlias(_Fix):
    kind: Literal["link_alias"] = "link_alias"
    community: str
    name: str
    player_id: str


class UnlinkAlias(_Fix):
    """The name is no longer matched to its player; it stands for a player of its own."""

    kind: Literal["unlink_alias"] = "unlink_alias"
    community: str
    name: str


class SetEventTime(_Fix):
    """Set the time of a screenshot (scope screenshot, also used for grouping) or of the game event it belongs to."""

    kind: Literal["set_event_time"] = "set_event_time"
    screenshot_id: str
    at: str  # UTC ISO-8601
    scope: Literal["screenshot", "event"] = "event"


class NoteCorrection(_Fix):
    """A free-text note; with a screenshot id it is shown on the hunt or foundry event that screenshot belongs to."""

    kind: Literal["note"] = "note"
    target: str
    text: str
    screenshot_id: str | None = None


class Revert(_Fix):
    """Undo an earlier correction (a reverted revert puts it back in force)."""

    kind: Literal["revert"] = "revert"
    correction_id: str


Correction = Annotated[
    Union[SetValue, Confirm, DeleteRow, AddRow, Reclassify, Retract, RenamePlayer, MergePlayers, LinkAlias,
          UnlinkAlias, SetEventTime, NoteCorrection, Revert],
    Field(discriminator="kind"),
]
correction_adapter: TypeAdapter[Any] = TypeAdapter(Correction)


class CorrectionApplied(Event):
    type: Literal["CorrectionApplied"] = "CorrectionApplied"
    correction: Correction
    actor: str
    reason: str = ""


# --- the log itself ------------------------------------------------------------


class LogRepaired(Event):
    """An admin re-created the log's missing append-only guards (`observatory repair-triggers`).

    Recorded in the log it repaired, so the gap in its protection stays on the record.
    """

    type: Literal["LogRepaired"] = "LogRepaired"
    repaired: Literal["triggers"] = "triggers"
    names: list[str]
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
        LogRepaired,
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
        LogRepaired,
    )
}

event_adapter: TypeAdapter[Any] = TypeAdapter(AnyEvent)
