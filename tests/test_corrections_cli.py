"""`observatory correct …` and `observatory corrections` through the real CLI, on real files."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from builders import FIRST, OVERVIEW
from observatory.cli import cli
from observatory.eventlog import EventStore
from stores import event_count, q, run


def test_set_value_fixes_a_score_and_records_who_and_why(hunt):
    r = run("correct", "set-value", FIRST[:10], "2", "damage", "4,483,222,356", "--reason", "checked in game", "--actor", "mia")
    assert r.exit_code == 0, r.output
    assert "Recorded correction" in r.output
    assert q(hunt, "SELECT damage FROM bear_scores WHERE rank = 2") == [(4483222356,)]
    listed = json.loads(run("corrections", "--json").output)
    assert [(c["actor"], c["kind"], c["reason"], c["status"]) for c in listed] == [("mia", "set_value", "checked in game", "active")]
    assert listed[0]["recorded_at"].endswith("+00:00")


@pytest.mark.parametrize("args, message", [
    (("set-value", "deadbeef00", "1", "damage", "5"), "no screenshot"),
    (("set-value", FIRST[:10], "42", "damage", "5"), "no row with rank 42"),
    (("set-value", FIRST[:10], "1", "power", "5"), "no row field 'power'"),
    (("set-value", FIRST[:10], "1", "damage", "lots"), "not a number"),
    (("delete-row", FIRST[:10], "name:Nobody"), "no row with name"),
    (("reclassify", FIRST[:10], "poster"), "unknown kind"),
    (("rename-player", "Nobody", "X"), "no player named"),
    (("merge-players", "Valorin", "[HEI]Valorin"), "already one player"),
    (("unlink-alias", "Valorin"), "first seen with"),
    (("set-event-time", "h_0000000000", "2025-11-11 22:00"), "no hunt"),
    (("set-event-time", FIRST[:10], "yesterday"), "not a time"),
    (("revert", "ffffffff"), "no correction"),
])
def test_invalid_corrections_exit_1_and_append_nothing(hunt, args, message):
    before = event_count(hunt)
    r = CliRunner().invoke(cli, ["correct", *args, "--reason", "test"])
    assert r.exit_code == 1, r.output
    assert message in r.output and "Nothing was recorded" in r.output
    assert event_count(hunt) == before


def test_reason_is_required(hunt):
    r = CliRunner().invoke(cli, ["correct", "retract", FIRST[:10]])
    assert r.exit_code == 2 and "--reason" in r.output


def test_identity_corrections_and_revert(hunt):
    assert run("correct", "merge-players", "Marra", "Mar", "--reason", "same person").exit_code == 0
    assert q(hunt, "SELECT count(*) FROM players") == [(19,)]
    assert run("correct", "rename-player", "Mar", "Mar the Bold", "--reason", "new name").exit_code == 0
    assert ("Mar the Bold",) in q(hunt, "SELECT display_name FROM players")
    merge = json.loads(run("corrections", "--json").output)[0]["correction_id"]
    assert run("correct", "revert", merge, "--reason", "they are two").exit_code == 0
    assert q(hunt, "SELECT count(*) FROM players") == [(20,)]
    listed = {c["correction_id"]: c for c in json.loads(run("corrections", "--json").output)}
    assert listed[merge]["status"] == "reverted"
    r = CliRunner().invoke(cli, ["correct", "revert", merge, "--reason", "again"])
    assert r.exit_code == 1 and "already reverted" in r.output


def test_link_and_unlink_alias(hunt):
    assert run("correct", "link-alias", "Xoxo", "Valorin", "--reason", "alt account").exit_code == 0
    assert q(hunt, "SELECT count(*) FROM players") == [(19,)]
    assert run("correct", "unlink-alias", "Xoxo", "--reason", "not an alt").exit_code == 0
    assert q(hunt, "SELECT count(*) FROM players") == [(20,)]


def test_event_time_note_retract_and_add_row(hunt):
    (hid,) = q(hunt, "SELECT hunt_id FROM bear_hunts")[0]
    assert run("correct", "set-event-time", hid, "2025-11-11 21:00", "--reason", "mail late").exit_code == 0
    assert run("correct", "note", hid, "first hunt with new rally leads", "--reason", "context").exit_code == 0
    assert q(hunt, "SELECT started_at, time_source, note FROM bear_hunts") == [
        ("2025-11-11T21:00:00+00:00", "correction", "first hunt with new rally leads")]
    assert run("correct", "add-row", OVERVIEW[:10], "rank=5", "name=jack275", "damage=3553763918", "--reason", "cut off").exit_code == 0
    assert q(hunt, "SELECT readings FROM bear_scores WHERE rank = 5") == [(3,)]
    assert run("correct", "retract", OVERVIEW[:10], "--reason", "duplicate mail").exit_code == 0
    assert q(hunt, "SELECT time_source, screenshots FROM bear_hunts") == [("correction", 4)]


def test_apply_file_validates_all_first_and_is_idempotent(hunt, tmp_path):
    good = tmp_path / "fixes.yml"
    good.write_text(f"""
- command: set-value
  screenshot: {FIRST[:12]}
  row: 1
  field: damage
  value: 6442016309
  reason: typo
- command: merge-players
  source: Marra
  target: Mar
  reason: same person
  actor: officer-kim
""", encoding="utf-8")
    bad = tmp_path / "bad.yml"
    bad.write_text(good.read_text() + "- command: retract\n  screenshot: 0000000000\n  reason: x\n", encoding="utf-8")
    before = event_count(hunt)
    r = CliRunner().invoke(cli, ["correct", "apply", str(bad)])
    assert r.exit_code == 1 and "item 3 (retract)" in r.output and event_count(hunt) == before
    r = run("correct", "apply", str(good))
    assert r.exit_code == 0 and "2 correction(s) recorded, 0 already applied" in r.output
    after = event_count(hunt)
    r = run("correct", "apply", str(good))
    assert r.exit_code == 0 and "0 correction(s) recorded, 2 already applied" in r.output
    assert event_count(hunt) == after
    assert q(hunt, "SELECT damage FROM bear_scores WHERE rank = 1") == [(6442016309,)]
    actors = [c["actor"] for c in json.loads(run("corrections", "--json").output)]
    assert "officer-kim" in actors


@pytest.mark.slow
def test_corrections_survive_reprocess_and_reclassify_re_extracts(home, samples_dir):
    """Real OCR: a fix addressed by rank still applies after the screenshot is read again."""
    inbox = home / "watch_dir" / "HEI"
    inbox.mkdir(parents=True)
    src = samples_dir / "Screenshot_20251112_173538_Whiteout Survival.jpg"
    shutil.copy(src, inbox / src.name)
    assert run("ingest", str(inbox)).exit_code == 0
    (sid, damage), = q(home, "SELECT screenshot_id, damage FROM bear_scores WHERE rank = 1")
    assert damage == 6442016308
    assert run("correct", "set-value", sid[:12], "1", "damage", "6442016399", "--reason", "test").exit_code == 0
    assert run("reprocess", "--all").exit_code == 0
    assert q(home, "SELECT damage FROM bear_scores WHERE rank = 1") == [(6442016399,)]
    # reclassify: the processor extracts it again as the forced kind
    r = run("correct", "reclassify", sid[:12], "contribution", "--reason", "wrong screen")
    assert r.exit_code == 0
    assert q(home, "SELECT used_in FROM screenshot_usage") == [("awaiting re-extraction",)]
    assert run("process").exit_code == 0
    assert q(home, "SELECT kind FROM screenshots") == [("contribution",)]
    assert q(home, "SELECT count(*) FROM bear_scores") == [(0,)]
    assert run("process").exit_code == 0  # nothing left to do: the reclassification was honoured once
    store = EventStore(home / "events" / "events.db")
    assert len(list(store.read(types=["ScoresExtracted"]))) == 3
    store.close()
