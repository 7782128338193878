"""Mario Kart wars, end to end on the real samples: war tables and a team result become wars with the clan's
team, result and scaled sub scores; the same war posted twice is one; the statistics query and replay agree."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from observatory.cli import cli

MKW = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "mkw"
pytestmark = pytest.mark.slow  # every test reads war tables with real OCR through observatory ingest
WARS = ("sample_MKW_table.jpg", "sample_Table_With_Flags.jpg", "tables_image.png", "Table1.png")


def _wars(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {
            "wars": conn.execute("SELECT kind, played_at, our_team, our_total, their_total, diff, result, races, "
                                 "totals_check, screenshots FROM wars ORDER BY played_at, kind").fetchall(),
            "scores": conn.execute("SELECT name, team, ours, score, races, score_full FROM war_scores "
                                   "ORDER BY war_id, team, name").fetchall(),
        }
    finally:
        conn.close()


def test_war_tables_become_wars_and_the_same_war_posted_twice_is_one(home, tmp_path):
    drop = tmp_path / "phone"
    drop.mkdir()
    for name in WARS:
        if (MKW / name).exists():
            shutil.copy(MKW / name, drop / name)
    # another member posts the same team result, re-saved as PNG: other bytes, the same war
    Image.open(MKW / "sample_MKW_table.jpg").save(drop / "posted_again.png")
    result = CliRunner().invoke(cli, ["ingest", "--community", "CLAN", str(drop)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    db = home / "projections" / "observatory.db"
    got = _wars(db)
    kinds = [w[0] for w in got["wars"]]
    assert kinds.count("mkw_team_result") == 1, got["wars"]
    team_result = next(w for w in got["wars"] if w[0] == "mkw_team_result")
    assert team_result[-1] == 2  # two screenshots, one war
    # whose team is ours follows who the community sees elsewhere; the totals and the result follow from it
    ours, theirs, diff, outcome = team_result[3:7]
    assert {ours, theirs} == {500, 484} and diff == ours - theirs and outcome == ("win" if diff > 0 else "loss")
    dated = next(w for w in got["wars"] if w[0] == "mkw_war_table" and w[3] == 493)
    assert dated[1].startswith("2025-07-1") and dated[4:7] == (491, 2, "win") and dated[8] == "ok"
    stickman = next(s for s in got["scores"] if s[0] == "Stickman")
    assert stickman[3:] == (44, 7, 75.4)
    # the statistics the clan asks for, from the pack's canned query
    from observatory.serve.config import config_for
    from observatory.settings import load_settings

    meta = config_for(load_settings(), "127.0.0.1").metadata
    sql = meta["databases"]["observatory"]["queries"]["war_player_stats"]["sql"]
    conn = sqlite3.connect(db)
    cur = conn.execute(sql, {"community": "CLAN", "last_n": "3"})
    cols = [c[0] for c in cur.description]
    stats = {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}
    conn.close()
    assert {"wars", "avg_per_war", "avg_per_race", "best", "form", "std_dev", "wins", "losses"} <= set(cols)
    assert stats["Stickman"]["avg_per_war"] == 75.4 and stats["Stickman"]["avg_per_race"] == round(44 / 7, 2)
    assert "clan_wars" in meta["plugins"]["datasette-dashboards"]
    db.unlink()
    assert CliRunner().invoke(cli, ["replay"], catch_exceptions=False).exit_code == 0
    assert _wars(db) == got


def test_a_clan_tag_most_of_a_team_shares_is_a_tag_not_part_of_the_name(home, tmp_path):
    """`ΣND Zach` in a team whose rows mostly start with `ΣND` is the player Zach of clan ΣND."""
    drop = tmp_path / "phone"
    drop.mkdir()
    shutil.copy(MKW / "sample_MKW_table.jpg", drop / "team_result.jpg")
    assert CliRunner().invoke(cli, ["ingest", "--community", "CLAN", str(drop)], catch_exceptions=False).exit_code == 0
    conn = sqlite3.connect(home / "projections" / "observatory.db")
    players = dict(conn.execute("SELECT display_name, tag FROM players").fetchall())
    conn.close()
    assert players.get("Zach") == "ΣND" and "ΣND Zach" not in players


def test_corrections_work_on_wars_a_score_fixed_and_a_war_moved(home, tmp_path):
    drop = tmp_path / "phone"
    drop.mkdir()
    shutil.copy(MKW / "sample_Table_With_Flags.jpg", drop / "war.jpg")
    assert CliRunner().invoke(cli, ["ingest", "--community", "CLAN", str(drop)], catch_exceptions=False).exit_code == 0
    db = home / "projections" / "observatory.db"
    conn = sqlite3.connect(db)
    war_id, shot = conn.execute("SELECT war_id, json_extract(screenshot_ids, '$[0]') FROM wars").fetchone()
    name, score = conn.execute("SELECT name, score FROM war_scores WHERE war_id = ? ORDER BY score DESC", [war_id]).fetchone()
    conn.close()
    fixed = CliRunner().invoke(cli, ["correct", "set-value", shot[:12], f"name:{name}", "score", str(score + 1),
                                     "--reason", "misread"], catch_exceptions=False)
    assert fixed.exit_code == 0, fixed.output
    moved = CliRunner().invoke(cli, ["correct", "set-event-time", war_id, "2025-05-16 21:00", "--reason", "played then"],
                               catch_exceptions=False)
    assert moved.exit_code == 0, moved.output
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT score FROM war_scores WHERE war_id = ? AND name = ?", [war_id, name]).fetchone()[0] == score + 1
    assert conn.execute("SELECT played_at FROM wars WHERE war_id = ?", [war_id]).fetchone()[0] == "2025-05-16T21:00:00+00:00"
    conn.close()
