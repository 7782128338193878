"""Corrections refuse impossible values (rank -5, negative damage, a 13th month) and append nothing.

Each field's bounds are declared once in `observatory.correct.fields.FIELDS`; these
properties hold for every declared field, and through the real CLI on a real log.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory.cli import cli
from builders import FIRST, OVERVIEW
from observatory.correct.fields import FIELDS, META_FIELDS, ROW_FIELDS, FieldError, coerce
from stores import event_count

BOUNDED = sorted(name for name, spec in FIELDS.items() if spec.min is not None)
CHOICE = sorted(name for name, spec in FIELDS.items() if spec.choices)
BIG = 10**15


def test_every_field_of_every_kind_is_declared_once_with_its_bounds():
    for table in (ROW_FIELDS, META_FIELDS):
        for fields in table.values():
            for name, spec in fields.items():
                assert spec is FIELDS[name]
    assert {n: FIELDS[n].min for n in ("rank", "order")} == {"rank": 1, "order": 1}
    for n in ("damage", "power", "points", "contribution", "troop_power", "total_damage", "our_score", "opponent_score"):
        assert FIELDS[n].min == 0, n


@given(field=st.sampled_from(BOUNDED), data=st.data())
def test_a_number_below_its_field_bound_is_refused_naming_field_and_bound(field, data):
    spec = FIELDS[field]
    value = data.draw(st.integers(-BIG, spec.min - 1))
    text = data.draw(st.sampled_from([str(value), f"{value:,}", value]))
    with pytest.raises(FieldError) as err:
        coerce(field, spec, text)
    assert f"{field} must be >= {spec.min}" in str(err.value)


@given(field=st.sampled_from(BOUNDED), data=st.data())
def test_a_number_within_its_field_bound_is_accepted(field, data):
    spec = FIELDS[field]
    value = data.draw(st.integers(spec.min, BIG))
    assert coerce(field, spec, str(value)) == value


@pytest.mark.slow
@given(field=st.sampled_from(CHOICE), text=st.text(min_size=1).filter(lambda t: t.strip().lower() not in ("", "null", "none")))
def test_a_choice_outside_its_list_is_refused(field, text):
    spec = FIELDS[field]
    if text.strip() in spec.choices:
        assert coerce(field, spec, text) == text.strip()
        return
    with pytest.raises(FieldError) as err:
        coerce(field, spec, text)
    assert f"{field} must be one of {', '.join(spec.choices)}" in str(err.value)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_a_mail_time_that_is_a_time_is_accepted(when):
    text = when.strftime("%Y-%m-%d %H:%M:%S")
    assert coerce("mail_time", FIELDS["mail_time"], text) == text


@pytest.mark.parametrize("text", ["2025-13-01 10:00:00", "2025-02-30 10:00:00", "2025-11-11 25:00:00",
                                  "2025-11-11 22:61:05", "yesterday", "2025-11-11"])
def test_a_mail_time_that_is_no_time_is_refused(text):
    with pytest.raises(FieldError, match="mail_time must be a time like 2025-11-11 22:30:05"):
        coerce("mail_time", FIELDS["mail_time"], text)


# --- through the real CLI: refused means exit 1, a message, and the log unchanged ------------------------


def correct(command: str, *args: str):
    """`observatory correct COMMAND --reason … ARGS`: ARGS may hold `--` before a negative number."""
    return CliRunner().invoke(cli, ["correct", command, "--reason", "hostile test", *args])


def scores(home):
    conn = sqlite3.connect(home / "projections" / "observatory.db")
    try:
        return conn.execute("SELECT rank, damage FROM bear_scores ORDER BY rank").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("args, message", [
    (("add-row", OVERVIEW[:10], "rank=-5", "name=Ghost", "damage=100"), "rank must be >= 1, got -5"),
    (("add-row", OVERVIEW[:10], "rank=0", "name=Ghost", "damage=100"), "rank must be >= 1, got 0"),
    (("add-row", OVERVIEW[:10], "rank=6", "name=Ghost", "damage=-1"), "damage must be >= 0, got -1"),
    (("set-value", FIRST[:10], "2", "rank", "--", "-3"), "rank must be >= 1, got -3"),
    (("set-value", FIRST[:10], "2", "damage", "--", "-4,483,222,356"), "damage must be >= 0, got -4483222356"),
    (("set-value", OVERVIEW[:10], "meta", "total_damage", "--", "-1M"), "total_damage must be >= 0, got -1000000"),
    (("set-value", OVERVIEW[:10], "meta", "rallies", "--", "-2"), "rallies must be >= 0, got -2"),
    (("set-value", OVERVIEW[:10], "meta", "trap_id", "0"), "trap_id must be >= 1, got 0"),
    (("set-value", OVERVIEW[:10], "meta", "mail_time", "2025-13-11 22:30:05"), "mail_time must be a time like"),
    (("reclassify", FIRST[:10], "bear_damages"), "unknown kind"),
])
def test_out_of_bounds_corrections_exit_1_and_append_nothing(hunt, args, message):  # noqa: F811
    before, shown = event_count(hunt), scores(hunt)
    r = correct(*args)
    assert r.exit_code == 1, r.output
    assert message in r.output and "Nothing was recorded" in r.output
    assert event_count(hunt) == before
    assert scores(hunt) == shown


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["rank", "damage"]), value=st.integers(-BIG, -1))
def test_any_negative_score_or_rank_is_refused_by_the_cli(hunt, field, value):  # noqa: F811
    before = event_count(hunt)
    r = correct("set-value", FIRST[:10], "2", field, "--", str(value))
    assert r.exit_code == 1, r.output
    assert f"{field} must be >= {FIELDS[field].min}" in r.output
    assert event_count(hunt) == before


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.integers(0, BIG))
def test_any_damage_within_bounds_is_recorded_by_the_cli(hunt, value):  # noqa: F811
    before = event_count(hunt)
    r = correct("set-value", FIRST[:10], "2", "damage", str(value))
    assert r.exit_code == 0, r.output
    assert event_count(hunt) == before + 1
    assert dict(scores(hunt))[2] == value
