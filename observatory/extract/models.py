"""Pydantic models: the extraction result and the screen-kind definition format.

``KindDefinition`` is the data format documented in KINDS.md: a new ranked
list screen should mostly need a new definition, not new code.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Extraction(BaseModel):
    """Result of ``extract``: typed rows plus everything needed to audit them."""

    kind: str
    confidence: float = Field(ge=0.0, le=1.0)
    meta: dict[str, Any] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    row_confidence: list[float] = Field(default_factory=list)
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


class Phrase(BaseModel):
    """A phrase whose presence in the screen text is evidence for a kind."""

    model_config = ConfigDict(extra="forbid")
    text: str
    weight: float = 1.0


XRange = tuple[float, float]


class MetaField(BaseModel):
    """A screen-level value found by a regex over the page text.

    ``type``: int (group 1 parsed as integer), text (group 1 as is), name
    (group 1 with the name repairs, e.g. a garbled ``[TAG]`` bracket),
    const (``value`` when the pattern matches), choice_tab (the option whose
    phrase sits on the brightest tab background, i.e. the selected tab),
    sections (all group-header texts matching ``pattern``).
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    type: Literal["int", "text", "name", "const", "choice_tab", "sections", "reocr_text"] = "int"
    pattern: str | None = None
    group: int = 1
    value: Any = None
    options: dict[str, str] = Field(default_factory=dict)
    locate: str | None = None        # reocr_text: loose regex that finds the value's segment
    digits_format: str | None = None  # reocr_text: rebuild from digits, e.g. "####-##-## ##:##:##"
    whitelist: str = "0123456789-:"  # reocr_text: characters allowed in the re-read
    region_above: str | None = None  # re-OCR a full-width strip above the segment matching this
    region_h: float = 2.0            # strip height in multiples of that segment's height


class RowField(BaseModel):
    """Where a row field is found relative to the row anchor, and its type.

    ``source``: anchor (the anchor segment itself), above / same_line / below
    (the nearest segment in that direction within the field's ``x_range``),
    region (a fixed x-range of the row band, OCRed with a single-line pass),
    band (regex options searched in the text of the row band), section (the
    nearest group header above the anchor).
    ``type``: int, abbrev (``211.5M``), text, name, flag (bool), choice.
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    type: Literal["int", "abbrev", "text", "name", "flag", "choice", "const"] = "text"
    source: Literal["anchor", "above", "same_line", "below", "region", "band", "section"] = "anchor"
    pattern: str | None = None
    x_range: XRange | None = None
    max_dy: float = 2.0
    whitelist: str | None = None
    options: list[tuple[str, str]] = Field(default_factory=list)
    default: Any = None
    text_of: str | None = None  # for abbrev: also emit this field with the raw text
    required: bool = False
    modes: list[Literal["auto", "gray", "white", "dark"]] = Field(default_factory=lambda: ["auto"])


class RowSpec(BaseModel):
    """How rows are found: one anchor segment per row, optional columns."""

    model_config = ConfigDict(extra="forbid")
    anchor: str
    anchor_x: XRange = (0.0, 1.0)
    columns: list[XRange] = Field(default_factory=lambda: [(0.0, 1.0)])
    start_after: str | None = None
    end_before: str | None = None
    band_up: float = 2.0
    band_down: float = 1.0
    sequence_field: str | None = None
    sequence: Literal["ascending", "descending"] = "ascending"
    pinned_last: bool = False
    # what to do with a pinned last row whose rank breaks the sequence:
    # "drop" it, or "keep" it (it is the capturer's own real row) unless it repeats a visible rank
    pinned_policy: Literal["drop", "keep"] = "drop"
    unranked: str | None = None
    overlay: str | None = None


class Check(BaseModel):
    """A cross-check the screen allows (see checks.py): `non_increasing` (a ranked
    list's value never rises down the ranks), `at_most_meta` (no row exceeds the
    total shown in meta field `meta`), `positive`."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["non_increasing", "at_most_meta", "positive"]
    field: str
    meta: str | None = None


class KindDefinition(BaseModel):
    """Everything that defines one screen kind (see KINDS.md)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    phrases: list[Phrase]
    min_score: float = 3.0
    meta: list[MetaField] = Field(default_factory=list)
    rows: RowSpec | None = None
    fields: list[RowField] = Field(default_factory=list)
    layout_weight: float = 0.0   # score added when >= layout_min_rows row anchors are present
    layout_min_rows: int = 4
    checks: list[Check] = Field(default_factory=list)
