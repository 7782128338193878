"""The game-pack format: how a screen kind is declared (pack.yaml and kinds/*.yaml, see KINDS.md).

Validated with pydantic so that a broken declaration is refused at start-up with the
path of the bad key, never discovered on the first screenshot of that kind.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
    sections (all group-header texts matching ``pattern``), block_total (the
    total a screen shows for block ``block`` of rows, e.g. a team: a number
    ``min_height`` times taller than the rows' own, nearest that block).
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    type: Literal["int", "text", "name", "const", "choice_tab", "sections", "reocr_text", "block_total"] = "int"
    pattern: str | None = None
    group: int = 1
    value: Any = None
    options: dict[str, str] = Field(default_factory=dict)
    locate: str | None = None        # reocr_text: loose regex that finds the value's segment
    digits_format: str | None = None  # reocr_text: rebuild from digits, e.g. "####-##-## ##:##:##"
    whitelist: str = "0123456789-:"  # reocr_text: characters allowed in the re-read
    region_above: str | None = None  # re-OCR a full-width strip above the segment matching this
    region_h: float = 2.0            # strip height in multiples of that segment's height
    block: int = 1                   # block_total: the block of rows (1 = first) whose total this is
    min_height: float = 2.0          # block_total: a total's digits are at least this many row numbers tall


class Suffix(BaseModel):
    """A name's trailing mark that is a value of its own (``Stickman (7)``: 7 races played).

    ``pattern`` is searched at the end of the name (group 1 is the value, an int);
    ``field`` receives it; ``text``, when set, receives the name with the mark as
    ``Stickman (7)`` on the rows that carry one."""

    model_config = ConfigDict(extra="forbid")
    pattern: str
    field: str
    text: str | None = None


class RowField(BaseModel):
    """Where a row field is found relative to the row anchor, and its type.

    ``source``: anchor (the anchor segment itself), above / same_line / below
    (the nearest segment in that direction within the field's ``x_range``),
    region (a fixed x-range of the row band, OCRed with a single-line pass),
    band (regex options searched in the text of the row band), section (the
    nearest group header above the anchor).
    ``type``: int, abbrev (``211.5M``), text, name, flag (bool), choice.
    ``block`` (source): the 1-based block of rows the row sits in (columns left to
    right, then runs of rows a wider gap parts, top to bottom): a team.
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    type: Literal["int", "abbrev", "text", "name", "flag", "choice", "const"] = "text"
    source: Literal["anchor", "above", "same_line", "below", "region", "band", "section", "block"] = "anchor"
    pattern: str | None = None
    x_range: XRange | None = None
    max_dy: float = 2.0
    whitelist: str | None = None
    options: list[tuple[str, str]] = Field(default_factory=list)
    default: Any = None
    text_of: str | None = None  # for abbrev: also emit this field with the raw text
    required: bool = False
    modes: list[Literal["auto", "gray", "white", "dark"]] = Field(default_factory=lambda: ["auto"])
    anchor_relative: bool = False  # same_line: x_range from the anchor's aligned edge (columns side by side)
    suffix: Suffix | None = None   # name: a trailing "(7)" split off into a field of its own


class RowSpec(BaseModel):
    """How rows are found: one anchor segment per row, optional columns."""

    model_config = ConfigDict(extra="forbid")
    anchor: str
    anchor_x: XRange = (0.0, 1.0)
    # which edge of the anchor the column lines up on: `above` and `below` fields' x_range is measured from it
    # (right-aligned numbers such as "5,169,652 Punkte" and "0 Punkte" start at different places)
    anchor_align: Literal["left", "right"] = "left"
    # what cuts a list's first and last rows: its panel inside a screen (a first or last row with short glyphs
    # is cut), or the border of an image the list fills (a crop: only a row touching the border is cut)
    cut_by: Literal["list", "image"] = "list"
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
    ties: bool = False               # the sequence may repeat a value: tied ranks 1, 2, 2, 4
    block_gap: float | None = None   # rows part into blocks where anchors stand this many pitches apart


class Check(BaseModel):
    """A cross-check the screen allows (see checks.py): `non_increasing` (a ranked
    list's value never rises down the ranks), `at_most_meta` (no row exceeds the
    total shown in meta field `meta`), `positive`, `sum_meta` (the rows add up to
    meta field `meta`; with `group`, the rows of each value of that row field add up
    to `meta` with `{}` replaced by the value: `team{}_total`)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["non_increasing", "at_most_meta", "positive", "sum_meta"]
    field: str
    meta: str | None = None
    group: str | None = None


class FieldSpec(BaseModel):
    """An output field's contract, declared once per pack: what a reading, a vision answer and a correction may hold.

    Meta fields may always be null (a screen need not show them); row fields only when `nullable`.
    """

    model_config = ConfigDict(extra="forbid")
    type: Literal["int", "text", "bool", "list"] = "text"
    min: int | None = None            # int: the smallest possible value (0 for amounts, 1 for ranks)
    min_length: int | None = None     # text: e.g. a name is never empty
    choices: list[str] = Field(default_factory=list)  # text: the only values it may take
    time_format: str | None = None    # text: a time in this strptime format
    pattern: str | None = None        # text: a value must match this regex
    nullable: bool = False
    description: str = ""


# The shapes the read model knows (project/domain): each is implemented once, in generic code.
#   ranking     a ranked list read over several overlapping screenshots, stitched into one ranking per
#               capture session (and per `group_by` meta); ranks from the list order; rows -> `table`
#   snapshot    one row per player (or per `entity`) per group: a capture session, a day, a week or the
#               period the screen names (`window`), split by `group_by` meta; rows -> `table` (declared in
#               pack.yaml `tables`): a ranking per period, a roster, a sign-up list
#   event       a game event with participants: the screenshots of one `event` (declared in pack.yaml
#               `events`), grouped by time and by the evidence the screens give; the event's row goes to its
#               own table, each kind's participants to the kind's `table`
#   team_match  a match between two teams on one screen (rows carry `team` and the `value`; meta each team's
#               total): tables wars and war_scores; the same match sent twice is one
#   race        one result list per screen (a race's standings): tables races and race_results
Shape = Literal["ranking", "snapshot", "event", "team_match", "race"]
# How screenshots fall into groups in time: `session` (chained within the snapshot window setting), `event`
# (chained within the event window setting), `day` or `week` (calendar, in the screenshots' time zone, weeks
# from Monday), or `meta:<field>` (the period the screen names: `weekly` is a week, anything else a day).
Window = str
WINDOW_PATTERN = r"^(session|event|day|week|meta:[a-z][a-z0-9_]*)$"


class VoteRule(BaseModel):
    """What identifies one row of one list, so readings of it under different names are one player's (votes.py):
    `by` the row fields (a position and a value, or a value alone); `alike`: a shared key joins only names that
    look alike (a power two players may share), else it settles whatever the names (the same rank and damage)."""

    model_config = ConfigDict(extra="forbid")
    by: list[str] = Field(min_length=1, max_length=2)
    alike: bool = False


class Evidence(BaseModel):
    """Readings that join an event's screenshots whatever their times: the same player, or the same position
    (`by[0]`), with the same value (`by[-1]`) of at least `min`."""

    model_config = ConfigDict(extra="forbid")
    by: list[str] = Field(min_length=1, max_length=2)
    min: int = 0


class EventSpec(BaseModel):
    """A game event several kinds' screenshots belong to (pack.yaml `events`, keyed by the event's table)."""

    model_config = ConfigDict(extra="forbid")
    label: str = ""  # what an officer calls one ("hunt"), in messages; default: the table's name
    window: Window = Field("event", pattern=WINDOW_PATTERN)
    group_by: list[str] = Field(default_factory=list)  # meta fields: two values never share an event
    evidence: Evidence | None = None
    dated_by: list[str] = Field(default_factory=list)  # kinds whose times date the event (default: all of its kinds)


class TableSpec(BaseModel):
    """A read-model table of a pack (pack.yaml `tables`): each column names where its value comes from.

    Sources (KINDS.md, *Read model*): `row.F`, `meta.F`, `summary.F`, `key.F` (a `group_by` value; `key.start`:
    the window's first day), `one(meta.F)`, `first(row.F, row.G)`, `int(row.F)`, `name.plain`, `name.tag`,
    `count(TABLE)`, `sum(TABLE.F)`, and `id`, `community`, `player`, `started_at`, `captured_at`, `time_source`,
    `confidence`, `screenshot_id`, `screenshot_ids`, `screenshots`, `readings`, `note`.
    """

    model_config = ConfigDict(extra="forbid")
    description: str = ""
    id_prefix: str | None = Field(None, pattern=r"^[a-z]{1,3}$")  # the table's `id` values: <prefix>_<hash>
    key: list[str] = Field(min_length=1)
    indexes: list[list[str]] = Field(default_factory=list)
    columns: dict[str, str] = Field(min_length=1)


class ReadModel(BaseModel):
    """What a kind's rows mean for the read model: the shape that projects them (project/domain)."""

    model_config = ConfigDict(extra="forbid")
    shape: Shape
    players: bool = True              # rows are players (their names go through identity)
    summary: bool = False             # event: the screen also carries its event's summary (totals) in its meta
    group_by: list[str] = Field(default_factory=list)  # meta fields that split one ranking or snapshot from another
    session_minutes: float = 30.0     # ranking: screenshots this close in time are one capture session
    # ranking: the row field the list is ordered by; snapshot, event: the value a player has one of per group
    # (read differently on two screenshots: a conflict for review)
    value: str | None = None
    # ranking: its rows' table (default <kind>_entries); snapshot, event: the pack table its rows go to
    table: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    window: Window = Field("session", pattern=WINDOW_PATTERN)  # snapshot: how its screenshots group in time
    keep: Literal["best", "latest"] = "best"  # snapshot, event: a value that grows keeps its newest session's reading
    needs: list[str] = Field(default_factory=list)  # snapshot, event: rows without these fields do not count
    vote: VoteRule | None = None          # snapshot, event: what identifies one row, for the name vote
    entity: list[str] = Field(default_factory=list)  # snapshot without players: the row fields naming what a row is
    event: str | None = None          # event: the event (pack.yaml `events`) this kind's screenshots belong to
    full_races: int | None = Field(None, ge=1)  # team_match: races in a full match (a sub's score is scaled to it)
    # what a row field measures (power: chief_power): readings of one measure on different screens are cross-checked,
    # an exact one against an abbreviated one (211.5M); fields of different measures never are
    measures: dict[str, str] = Field(default_factory=dict)


class LayoutColumn(BaseModel):
    """A column that stands beside a kind's row anchors on the same line (a rank left of
    the score): only anchors with it count as the kind's layout evidence."""

    model_config = ConfigDict(extra="forbid")
    pattern: str
    x_range: XRange


class KindDefinition(BaseModel):
    """Everything that defines one screen kind (see KINDS.md)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    game: str = ""                    # filled by the loader from the pack
    description: str = ""
    prompt: str = ""                  # what the vision model is told about this screen
    read_model: ReadModel | None = None
    phrases: list[Phrase]
    min_score: float = 3.0
    meta: list[MetaField] = Field(default_factory=list)
    rows: RowSpec | None = None
    fields: list[RowField] = Field(default_factory=list)
    layout_weight: float = 0.0   # score added when >= layout_min_rows row anchors are present
    layout_min_rows: int = 4
    layout_columns: list[LayoutColumn] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)

    def row_fields(self) -> list[str]:
        """The row keys of this kind's output, in order (a field's raw text, `text_of`, comes first)."""
        out: list[str] = []
        for f in self.fields:
            out += [f.text_of] if f.text_of else []
            out.append(f.name)
            if f.suffix:
                out += [f.suffix.field] + ([f.suffix.text] if f.suffix.text else [])
        return out

    def meta_fields(self) -> list[str]:
        """The meta keys of this kind's output (several entries may share a name: the first value wins)."""
        return list(dict.fromkeys(m.name for m in self.meta))


class Pack(BaseModel):
    """A game pack: `pack.yaml` (the game, its shared regex snippets and its output fields) plus its kinds."""

    model_config = ConfigDict(extra="forbid")
    game: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str = ""
    patterns: dict[str, str] = Field(default_factory=dict)  # `{{NAME}}` in a kind file is replaced by this regex
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    # Datasette metadata this pack brings: `tables` (descriptions, facets), `queries` (canned queries) and
    # `dashboards` (datasette-dashboards charts); one of the same name in datasette-metadata.yml wins, so users'
    # edits of that file stand
    datasette: dict[str, dict[str, Any]] = Field(default_factory=dict)
    tables: dict[str, TableSpec] = Field(default_factory=dict)  # the read-model tables of its snapshots and events
    events: dict[str, EventSpec] = Field(default_factory=dict)  # keyed by the event's table (one of `tables`)
    kinds: list[KindDefinition] = Field(default_factory=list)  # filled by the loader from kinds/*.yaml
    path: str = ""  # the folder, for `observatory kinds` and error messages
