"""The vision answer schema: what the API is sent, and that a malformed answer never becomes rows."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.lib._parsing._completions import type_to_response_format_param
from pydantic import ValidationError

from observatory.extract.vision.schema import PAGES, VisionAnswer, page_fields, response_model

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**12), st.floats(allow_nan=False),
                    st.text(max_size=12), st.sampled_from(["full", "partial", "R4", "daily", "left", "1/2"]))


def walk(schema: object):
    if isinstance(schema, dict):
        yield schema
        for v in schema.values():
            yield from walk(v)
    elif isinstance(schema, list):
        for v in schema:
            yield from walk(v)


@pytest.mark.parametrize("kind", [None, *PAGES])
def test_the_schema_sent_is_strict_structured_output(kind):
    fmt = type_to_response_format_param(response_model(kind))
    schema = fmt["json_schema"]["schema"]
    assert fmt["json_schema"]["strict"] is True
    for node in walk(schema):
        assert "oneOf" not in node and "discriminator" not in node  # structured outputs take anyOf only
        if node.get("type") == "object" and "properties" in node:
            assert node["additionalProperties"] is False and set(node["required"]) == set(node["properties"])


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(list(PAGES)), data=st.data())
def test_any_answer_either_fails_validation_or_gives_rows_of_the_declared_types(kind, data):
    page = PAGES[kind]
    row_model = page.model_fields["rows"].annotation.__args__[0] if "rows" in page.model_fields else None
    row_fields = list(row_model.model_fields) if row_model else []
    rows = data.draw(st.lists(st.fixed_dictionaries({f: SCALARS for f in row_fields}), max_size=3))
    meta_fields = list(page.model_fields["meta"].annotation.model_fields)
    meta = data.draw(st.fixed_dictionaries({f: SCALARS for f in meta_fields}))
    answer = {"page": {"kind": kind, "confidence": data.draw(SCALARS), "meta": meta, "rows": rows}}
    try:
        parsed = VisionAnswer.model_validate_json(json.dumps(answer))
    except ValidationError:
        return  # a clear failure: fine
    out = page_fields(parsed.page)
    assert out["kind"] == kind and 0 <= out["confidence"] <= 1
    for row in out["rows"] + [d["row"] for d in out["dropped_rows"]]:
        for name, value in row.items():
            if name in ("damage", "contribution", "power", "points"):
                assert type(value) is int and value >= 0
            if name == "name":
                assert isinstance(value, str) and value
            if name in ("rank", "order") and value is not None:
                assert type(value) is int and value >= 1
    assert len(out["row_confidence"]) == len(out["rows"])
