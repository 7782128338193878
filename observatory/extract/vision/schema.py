"""What the vision model must answer: one typed page model per screen kind, derived from the game packs.

The same models are the structured-output JSON schema sent to the model and the
validator of its answer, so a malformed answer (a name where a number belongs, a
kind we do not know) fails validation with a clear message instead of becoming
bad rows. Field names are exactly the `extract --json` contract
(/work/shared/samples/README.md), so results compare with the Tesseract engine's.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ...games import UNKNOWN, UNKNOWN_FIELDS, FieldSpec, KindDefinition, field_spec, kinds

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


class _Page(_Strict):
    confidence: float = Field(ge=0, le=1, description="how sure the kind is")


def _type(spec: FieldSpec, *, nullable: bool) -> Any:
    """A declared field as a pydantic annotation: its bounds become the schema's (ge, min_length, enum, pattern)."""
    extra: dict[str, Any] = {"description": spec.description} if spec.description else {}
    if spec.type == "list":
        return list[str], Field(**extra)
    if spec.type == "int":
        base: Any = Annotated[int, Field(ge=spec.min)] if spec.min is not None else int
    elif spec.type == "bool":
        base = bool
    elif spec.choices:
        base = Literal[tuple(spec.choices)]  # type: ignore[valid-type]
    else:
        base = Annotated[str, Field(min_length=spec.min_length, pattern=spec.pattern)]
    return (base | None if nullable else base), Field(**extra)


def _camel(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))


def _page(kind: KindDefinition) -> type[_Page]:
    spec = {f: field_spec(kind.name, f) for f in kind.row_fields() + kind.meta_fields()}
    row = create_model(f"{_camel(kind.name)}Row", __base__=_Row,  # type: ignore[call-overload]
                       **{f: _type(spec[f], nullable=spec[f].nullable) for f in kind.row_fields()})  # type: ignore[union-attr]
    meta = create_model(f"{_camel(kind.name)}Meta", __base__=_Strict,  # type: ignore[call-overload]
                        **{f: _type(spec[f], nullable=True) for f in kind.meta_fields()})  # type: ignore[union-attr]
    return create_model(f"{_camel(kind.name)}Page", __base__=_Page,  # type: ignore[call-overload, no-any-return]
                        kind=(Literal[kind.name], ...), meta=(meta, ...), rows=(list[row], ...))


class UnknownMeta(_Strict):
    what: str = Field(description=UNKNOWN_FIELDS["what"].description)


class UnknownPage(_Page):
    kind: Literal["unknown"]
    meta: UnknownMeta


# One page model per declared kind (from the game packs), plus the page of a screen no pack knows.
PAGES: dict[str, type[_Page]] = {**{name: _page(k) for name, k in kinds().items()}, UNKNOWN: UnknownPage}
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
