"""Rows the extractor marks doubtful are kept out of the facts until an admin confirms or corrects them."""

from __future__ import annotations

import json

import pytest

from builders import sha_of, shot
from observatory.eventlog import EventStore
from stores import dump, event_count, q, run

NAME = "Screenshot_20251112_173538_Whiteout Survival.jpg"
SID = sha_of(f"HEI/{NAME}")
ROWS = [
    {"rank": 1, "name": "[HEI]Valorin", "damage": 6442016308},
    {"rank": 2, "name": "[HEI]Stevie", "damage": 4483222355},
    {"rank": 3, "name": "[HEI]Xoxo", "damage": 7720524673, "doubtful": ["damage"],
     "doubt_reasons": {"damage": "7,720,524,673 breaks the descending order of the list"}},
    {"rank": 4, "name": "[HEI]Quill", "damage": 3706838781, "doubtful": ["name", "damage"],
     "doubt_reasons": {"name": "no two passes agree", "damage": "digits unclear"}},
]


@pytest.fixture
def doubtful(home):
    store = EventStore(home / "events" / "events.db")
    store.append(shot(NAME, "bear_damage", ROWS, {"trap_id": 1}))
    store.close()
    assert run("project").exit_code == 0
    return home


def test_doubtful_rows_are_in_review_not_in_the_tables(doubtful):
    assert q(doubtful, "SELECT rank FROM bear_scores ORDER BY rank") == [(1,), (2,)]
    names = {n for (n,) in q(doubtful, "SELECT display_name FROM players")}
    assert names == {"Valorin", "Stevie"}  # a doubtful row founds no player either
    review = {s: (d, sid) for s, d, sid in q(doubtful, "SELECT subject, detail, screenshot_id FROM review_queue "
                                                       "WHERE reason = 'doubtful'")}
    assert set(review) == {f"{SID[:12]}#2", f"{SID[:12]}#3"}
    detail, sid = review[f"{SID[:12]}#2"]
    assert sid == SID and "rank 3" in detail and "damage: 7,720,524,673 breaks the descending order" in detail
    assert "name: no two passes agree" in review[f"{SID[:12]}#3"][0]
    # the analysts' view of the raw readings shows which fields were doubtful
    assert q(doubtful, "SELECT rank, doubtful FROM extracted_rows ORDER BY row_index") == [
        (1, None), (2, None), (3, '["damage"]'), (4, '["name","damage"]')]
    assert json.loads(q(doubtful, "SELECT data FROM extracted_rows WHERE rank = 3")[0][0])["doubtful"] == ["damage"]


def test_confirm_makes_the_row_count_and_replay_reproduces_it(doubtful):
    r = run("correct", "confirm", SID[:10], "3", "--reason", "checked in game", "--actor", "mia")
    assert r.exit_code == 0, r.output
    assert "Recorded correction" in r.output and "confirm" in r.output
    assert q(doubtful, "SELECT rank, damage FROM bear_scores ORDER BY rank") == [
        (1, 6442016308), (2, 4483222355), (3, 7720524673)]
    assert q(doubtful, "SELECT subject FROM review_queue WHERE reason = 'doubtful'") == [(f"{SID[:12]}#3",)]
    listed = json.loads(run("corrections", "--json").output)
    assert [(c["kind"], c["actor"]) for c in listed] == [("confirm", "mia")]
    before = dump(doubtful / "projections" / "observatory.db")
    assert run("replay").exit_code == 0
    assert dump(doubtful / "projections" / "observatory.db") == before


def test_set_value_on_the_doubtful_field_clears_its_doubt(doubtful):
    assert q(doubtful, "SELECT count(*) FROM bear_scores WHERE rank = 3") == [(0,)]
    r = run("correct", "set-value", SID[:10], "3", "damage", "3720524673", "--reason", "checked in game")
    assert r.exit_code == 0, r.output
    assert q(doubtful, "SELECT damage FROM bear_scores WHERE rank = 3") == [(3720524673,)]


def test_confirming_one_of_two_doubtful_fields_keeps_the_row_out(doubtful):
    assert run("correct", "confirm", SID[:10], "4", "--field", "damage", "--reason", "damage checked").exit_code == 0
    assert q(doubtful, "SELECT count(*) FROM bear_scores WHERE rank = 4") == [(0,)]
    detail = q(doubtful, "SELECT detail FROM review_queue WHERE reason = 'doubtful' AND subject = ?", f"{SID[:12]}#3")
    assert "name: no two passes agree" in detail[0][0] and "digits unclear" not in detail[0][0]
    assert run("correct", "confirm", SID[:10], "4", "--field", "name", "--reason", "name checked").exit_code == 0
    assert q(doubtful, "SELECT name FROM bear_scores WHERE rank = 4") == [("[HEI]Quill",)]


def test_confirm_dry_run_appends_nothing(doubtful):
    before = event_count(doubtful)
    r = run("correct", "confirm", SID[:10], "3", "--dry-run", "--reason", "checked")
    assert r.exit_code == 0, r.output
    assert "nothing recorded (--dry-run)" in r.output and "confirm" in r.output
    assert event_count(doubtful) == before
    assert q(doubtful, "SELECT count(*) FROM bear_scores WHERE rank = 3") == [(0,)]


@pytest.mark.parametrize("args, message", [
    (("1",), "is not doubtful"),
    (("3", "--field", "name"), "no doubtful field(s) name"),
    (("9",), "no row with rank 9"),
])
def test_confirm_refuses_what_is_not_doubtful(doubtful, args, message):
    before = event_count(doubtful)
    r = run("correct", "confirm", SID[:10], *args, "--reason", "checked")
    assert r.exit_code == 1
    assert message in r.output and "Nothing was recorded" in r.output
    assert event_count(doubtful) == before


def test_confirm_in_a_batch_file(doubtful, tmp_path):
    fixes = tmp_path / "fixes.yml"
    fixes.write_text(f"- command: confirm\n  screenshot: {SID[:10]}\n  row: 4\n  fields: [name, damage]\n"
                     "  reason: checked in game\n", encoding="utf-8")
    assert run("correct", "apply", str(fixes), "--dry-run").exit_code == 0
    assert q(doubtful, "SELECT count(*) FROM bear_scores WHERE rank = 4") == [(0,)]
    assert run("correct", "apply", str(fixes)).exit_code == 0
    assert q(doubtful, "SELECT damage FROM bear_scores WHERE rank = 4") == [(3706838781,)]


def test_a_row_whose_name_no_reader_could_read_is_named_by_its_power(home):
    """A foundry sign-up row has no rank: with its name unreadable, review points at it by its power, and
    `set-value … power:1303 name …` gives it the name the officer sees in the game."""
    signup = "Screenshot_20251114_000531_Whiteout Survival.jpg"
    rows = [{"name": "Silvana", "power": 1389, "status": "no_engagements", "voted": True, "tier": None},
            {"name": None, "power": 1303, "status": "no_engagements", "voted": True, "tier": None,
             "doubtful": ["name"], "doubt_reasons": {"name": "no reader could read the name in its region"}}]
    store = EventStore(home / "events" / "events.db")
    store.append(shot(signup, "foundry_signup", rows, {"legion": 1, "joined": 18, "capacity": 30}))
    store.close()
    assert run("project").exit_code == 0
    sid = sha_of(f"HEI/{signup}")
    [(detail,)] = q(home, "SELECT detail FROM review_queue WHERE reason = 'doubtful'")
    assert f"`observatory correct confirm {sid[:12]} power:1303`" in detail
    r = run("correct", "set-value", sid[:10], "power:1303", "name", "Girl Interrupted", "--reason", "seen in game")
    assert r.exit_code == 0, r.output
    assert sorted(q(home, "SELECT name, power FROM foundry_signups")) == [("Girl Interrupted", 1303), ("Silvana", 1389)]
    assert q(home, "SELECT count(*) FROM review_queue WHERE reason = 'doubtful'") == [(0,)]
