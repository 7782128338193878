"""What the vision model must answer: one typed page model per screen kind.

The same models are the structured-output JSON schema sent to the model and the
validator of its answer, so a malformed answer (a name where a number belongs, a
kind we do not know) fails validation with a clear message instead of becoming
bad rows. Field names are exactly the `extract --json` contract
(/work/shared/samples/README.md), so results compare with the Tesseract engine's.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Count = Annotated[int, Field(ge=0)]
Rank = Annotated[int, Field(ge=1)]
Name = Annotated[str, Field(min_length=1)]
MailTime = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")]
Fraction = Annotated[str, Field(pattern=r"^\d+/\d+$")]
Tier = Literal["R1", "R2", "R3", "R4", "R5"]

# How much of a row the screen shows. Only `full` rows are scores; the others are
# kept as dropped rows with the reason, as the Tesseract engine does.
Visibility = Literal["full", "partial", "pinned_self", "unranked"]
DROP_REASONS = {
    "partial": "cut off at an edge or hidden by an overlay",
    "pinned_self": "pinned self-row",
    "unranked": "Unranked row",
}


_SCHEMAS: dict[type, dict[str, Any]] = {}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Cached: the client rebuilds the schema on every request (tens of ms, inside a rate-limit slot).

        A copy each time, because the client edits the schema it gets in place.
        """
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        if cls not in _SCHEMAS:
            _SCHEMAS[cls] = super().model_json_schema()
        return copy.deepcopy(_SCHEMAS[cls])


class _Row(_Strict):
    visibility: Visibility
    confidence: float = Field(ge=0, le=1, description="how sure the reading of this row is")


class RankedDamageRow(_Row):
    rank: Rank
    name: Name
    damage: Count


class ContributionRow(_Row):
    rank: Rank
    name: Name
    contribution: Count


class MemberRow(_Row):
    name: Name
    power_text: str = Field(description="power as shown, e.g. 211.5M")
    power: Count = Field(description="power_text as an integer, e.g. 211500000")
    furnace_text: str | None = Field(description="furnace badge text, e.g. 5 or 30")
    tier: Tier | None = Field(description="the section (R5..R1) the card sits in")


class AlliancePowerRow(_Row):
    rank: Rank
    tag: str = Field(description="alliance tag without brackets")
    alliance: Name
    power: Count


class SignupRow(_Row):
    order: Rank | None = Field(description="battle order; null for 'No engagement'")
    name: Name
    power: Count


class FoundrySignupRow(_Row):
    name: Name
    power: Count
    status: str = Field(pattern=r"^[a-z0-9_]+$", description="join, no_engagements, legion_2_dispatched, ...")
    voted: bool
    tier: Tier | None


class PointsRow(_Row):
    rank: Rank
    name: Name
    points: Count


class TrapMeta(_Strict):
    trap_id: Count | None


class OverviewMeta(_Strict):
    trap_id: Count | None
    rallies: Count | None
    total_damage: Count | None
    mail_time: MailTime | None


class PeriodMeta(_Strict):
    period: Literal["daily", "weekly"] | None


class MembersMeta(_Strict):
    online: Fraction | None
    sections: list[str]


class NoMeta(_Strict):
    pass


class SignupMeta(_Strict):
    lane: Literal["left", "middle", "right"] | None
    registered: Count | None
    capacity: Count | None
    total_power: Count | None


class FoundrySignupMeta(_Strict):
    legion: Count | None
    joined: Count | None
    capacity: Count | None
    substitutes: Fraction | None
    troop_power: Count | None


class FoundryResultMeta(_Strict):
    mail_time: MailTime | None
    result: Literal["victory", "defeat"] | None
    legion: Count | None
    our_alliance: str | None
    our_score: Count | None
    opponent: str | None
    opponent_score: Count | None


class UnknownMeta(_Strict):
    what: str = Field(description="what the screen is, e.g. chief profile")


class _Page(_Strict):
    confidence: float = Field(ge=0, le=1, description="how sure the kind is")


class BearDamagePage(_Page):
    kind: Literal["bear_damage"]
    meta: TrapMeta
    rows: list[RankedDamageRow]


class BearOverviewPage(_Page):
    kind: Literal["bear_overview"]
    meta: OverviewMeta
    rows: list[RankedDamageRow]


class ContributionPage(_Page):
    kind: Literal["contribution"]
    meta: PeriodMeta
    rows: list[ContributionRow]


class AlliancePowerPage(_Page):
    kind: Literal["alliance_power"]
    meta: NoMeta
    rows: list[AlliancePowerRow]


class AcSignupPage(_Page):
    kind: Literal["ac_signup"]
    meta: SignupMeta
    rows: list[SignupRow]


class FoundrySignupPage(_Page):
    kind: Literal["foundry_signup"]
    meta: FoundrySignupMeta
    rows: list[FoundrySignupRow]


class FoundryResultPage(_Page):
    kind: Literal["foundry_result"]
    meta: FoundryResultMeta
    rows: list[PointsRow]


class AllianceMembersPage(_Page):
    kind: Literal["alliance_members"]
    meta: MembersMeta
    rows: list[MemberRow]


class UnknownPage(_Page):
    kind: Literal["unknown"]
    meta: UnknownMeta


PAGES: dict[str, type[_Page]] = {
    p.model_fields["kind"].annotation.__args__[0]: p  # type: ignore[union-attr]
    for p in (BearDamagePage, BearOverviewPage, ContributionPage, AlliancePowerPage, AcSignupPage,
              FoundrySignupPage, FoundryResultPage, AllianceMembersPage, UnknownPage)
}
AnyPage = Annotated[Union[tuple(PAGES.values())], Field(discriminator="kind")]  # type: ignore[valid-type]


def _any_of(schema: dict[str, Any]) -> None:
    """Structured outputs accept `anyOf`, not pydantic's `oneOf` + discriminator; validation keeps the discriminator."""
    page = schema["properties"]["page"]
    page["anyOf"] = page.pop("oneOf")
    page.pop("discriminator", None)


class VisionAnswer(_Strict):
    """The model's whole answer when it must also classify the screen."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_any_of)
    page: AnyPage


class AnswerInvalid(ValueError):
    """The model's answer does not fit the schema: a failure, never rows."""


def explain(exc: ValidationError, limit: int = 3) -> str:
    """A short one-line account of what was wrong with an answer."""
    parts = [f"{'.'.join(str(x) for x in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:limit]]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def response_model(kind: str | None) -> type[BaseModel]:
    """The structured-output schema to ask for: one kind's page when the kind is forced."""
    return PAGES[kind] if kind is not None else VisionAnswer


def page_fields(page: _Page) -> dict[str, Any]:
    """kind, meta, rows, row_confidence, dropped_rows and confidence in the Extraction's shape (pure)."""
    meta = {k: v for k, v in page.meta.model_dump().items() if v is not None}
    rows: list[dict[str, Any]] = []
    row_confidence: list[float] = []
    dropped: list[dict[str, Any]] = []
    for r in getattr(page, "rows", []):
        values = r.model_dump(exclude={"visibility", "confidence"})
        if r.visibility != "full":
            dropped.append({"row": values, "reason": DROP_REASONS[r.visibility]})
            continue
        rows.append(values)
        row_confidence.append(round(r.confidence, 3))
    return {"kind": page.kind, "confidence": round(page.confidence, 3), "meta": meta, "rows": rows,  # type: ignore[attr-defined]
            "row_confidence": row_confidence, "dropped_rows": dropped}
