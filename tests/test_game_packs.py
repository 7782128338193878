"""Game packs: a kind declared once as data reaches every layer; a broken declaration stops start-up in one line."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from observatory.games.loader import PackError, discover, load_pack

ROOT = Path(__file__).resolve().parent.parent
PACK = """\
game: toy
title: Toy Game
patterns:
  NUM: '(\\d[\\d,]*)'
fields:
  rank: {type: int, min: 1}
  name: {type: text, min_length: 1}
  score: {type: int, min: 0}
  season: {type: text, choices: [spring, autumn]}
"""
KIND = """\
name: toy_ranking
description: Toy ranking
prompt: The toy ranking. Rows rank, name, score.
phrases: [{text: Toy Ranking, weight: 3}]
meta: [{name: season, type: const, pattern: Spring, value: spring}]
rows: {anchor: '{{NUM}} pts', anchor_x: [0.5, 1.0], sequence_field: rank}
checks: [{type: non_increasing, field: score}]
fields:
  - {name: rank, type: int, source: region, x_range: [0.0, 0.1]}
  - {name: name, type: name, source: same_line, x_range: [0.1, 0.5], required: true}
  - {name: score, type: int, source: anchor}
"""


def write_pack(root: Path, pack: str = PACK, kind: str = KIND, game: str = "toy") -> Path:
    folder = root / game
    (folder / "kinds").mkdir(parents=True)
    (folder / "pack.yaml").write_text(pack)
    (folder / "kinds" / "toy_ranking.yaml").write_text(kind)
    return folder


def run(*args: str, packs: Path | None = None, code: str | None = None,
        home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBSERVATORY_")}
    if home is not None:
        env["OBSERVATORY_HOME"] = str(home)
    if packs is not None:
        env["OBSERVATORY_PACKS_DIR"] = str(packs)
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "observatory", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_every_shipped_kind_is_listed_with_the_file_that_declares_it():
    out = run("kinds", "--json")
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert {"bear_damage", "contribution", "alliance_members"} <= {k["kind"] for k in listed}
    for k in listed:
        assert (ROOT / k["declared_in"]).is_file(), k
        assert k["row_fields"], k["kind"]


def test_a_new_pack_reaches_extraction_vision_schema_and_corrections_without_code(tmp_path):
    write_pack(tmp_path)
    probe = (
        "import json\n"
        "from observatory.extract import KINDS\n"
        "from observatory.extract.vision.schema import PAGES\n"
        "from observatory.extract.vision.prompt import SYSTEM\n"
        "from observatory.correct.fields import ROW_FIELDS, META_FIELDS, FieldError, field_type, coerce\n"
        "page = PAGES['toy_ranking'].model_json_schema()\n"
        "try:\n"
        "    coerce('score', field_type('toy_ranking', 'score', meta=False), '-3')\n"
        "    refused = None\n"
        "except FieldError as e:\n"
        "    refused = str(e)\n"
        "print(json.dumps({'kinds': list(KINDS), 'rows': list(ROW_FIELDS['toy_ranking']),\n"
        "                  'meta': list(META_FIELDS['toy_ranking']), 'refused': refused,\n"
        "                  'prompt': 'Toy Game (toy):' in SYSTEM, 'defs': sorted(page['$defs'])}))\n"
    )
    out = run(packs=tmp_path, code=probe)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert "toy_ranking" in got["kinds"] and "bear_damage" in got["kinds"]
    assert got["rows"] == ["rank", "name", "score"] and got["meta"] == ["season"]
    assert got["refused"] == "score must be >= 0, got -3"
    assert got["prompt"] and "ToyRankingRow" in got["defs"]


@pytest.mark.parametrize("pack,kind,expected", [
    (PACK, KIND.replace("'{{NUM}} pts'", "'(\\d+ pts'"), "kinds/toy_ranking.yaml: kind toy_ranking: field rows.anchor: bad regex"),
    (PACK, KIND.replace("{{NUM}}", "{{NUMBER}}"), "kind toy_ranking: unknown pattern {{NUMBER}}"),
    (PACK, KIND.replace("anchor_x: [0.5, 1.0]", "anchor_x: [left, 1.0]"), "kind toy_ranking: field rows.anchor_x.0: Input should be a valid number"),
    (PACK.replace("  score: {type: int, min: 0}\n", ""), KIND, "kind toy_ranking: row field 'score' is not declared in pack.yaml fields"),
    (PACK, KIND.replace("field: score}", "field: points}"), "kind toy_ranking: field checks.0.field: 'points' is not a row field"),
    (PACK, KIND.replace("source: anchor}", "source: sideways}"), "kind toy_ranking: field fields.2.source: Input should be"),
    (PACK.replace("title: Toy Game\n", ""), KIND, "toy/pack.yaml: field title: Field required"),
])
def test_a_broken_declaration_stops_start_up_in_one_line_naming_file_kind_and_field(tmp_path, pack, kind, expected):
    write_pack(tmp_path, pack, kind)
    with pytest.raises(PackError, match=None) as err:
        discover([tmp_path])
    assert expected in str(err.value) and "\n" not in str(err.value)
    out = run("status", packs=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and lines[0].startswith("observatory: broken game pack:")


def test_a_kind_declared_twice_is_refused_naming_both_packs(tmp_path):
    write_pack(tmp_path, game="toy")
    write_pack(tmp_path, PACK.replace("game: toy", "game: toy2"), game="toy2")
    with pytest.raises(PackError, match="kind toy_ranking: already declared by"):
        discover([tmp_path])


def test_the_shipped_packs_load_on_their_own():
    wos = load_pack(ROOT / "observatory" / "games" / "wos")
    assert wos.game == "wos" and len(wos.kinds) >= 8
    for k in wos.kinds:
        assert set(k.row_fields()) <= set(wos.fields) and set(k.meta_fields()) <= set(wos.fields)


def test_a_ranking_table_named_like_a_table_of_the_read_model_stops_start_up(tmp_path):
    kind = KIND + "read_model: {shape: ranking, value: score, table: players}\n"
    write_pack(tmp_path, PACK, kind)
    out = run("status", packs=tmp_path)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1
    assert "kinds/toy_ranking.yaml: kind toy_ranking: field read_model.table: 'players' is already a table" in lines[0]


# A second game's raid and guild list, as data only: the generic `event` and `snapshot` shapes project them.
RAID_PACK = PACK + """\
  damage: {type: int, min: 0}
  boss: {type: text}
  power: {type: int, min: 0}
tables:
  toy_raids:
    id_prefix: r
    key: [raid_id]
    columns: {raid_id: id, community: community, boss: one(meta.boss), started_at: started_at,
              fighters: count(toy_raid_scores), damage_sum: sum(toy_raid_scores.damage), screenshots: screenshots}
  toy_raid_scores:
    key: [raid_id, player_id]
    indexes: [[player_id]]
    columns: {raid_id: id, player_id: player, community: community, rank: row.rank, damage: row.damage,
              readings: readings, screenshot_id: screenshot_id}
  toy_guild:
    key: [community, week_start, player_id]
    columns: {community: community, week_start: key.start, player_id: player, name: row.name, power: row.power,
              captured_at: captured_at}
events:
  toy_raids: {window: event, group_by: [boss], evidence: {by: [rank, damage], min: 1000}}
"""
RAID_KIND = """\
name: toy_raid
phrases: [{text: Raid Damage, weight: 3}]
meta: [{name: boss, type: text, pattern: 'Boss (\\\\w+)'}]
rows: {anchor: '{{NUM}} dmg', anchor_x: [0.5, 1.0], sequence_field: rank}
fields:
  - {name: rank, type: int, source: region, x_range: [0.0, 0.1]}
  - {name: name, type: name, source: same_line, x_range: [0.1, 0.5], required: true}
  - {name: damage, type: int, source: anchor}
read_model: {shape: event, event: toy_raids, table: toy_raid_scores, value: damage, needs: [damage],
             vote: {by: [rank, damage]}}
"""
GUILD_KIND = """\
name: toy_guild
phrases: [{text: Guild Members, weight: 3}]
rows: {anchor: '{{NUM}} pw', anchor_x: [0.5, 1.0]}
fields:
  - {name: name, type: name, source: same_line, x_range: [0.1, 0.5], required: true}
  - {name: power, type: int, source: anchor}
read_model: {shape: snapshot, table: toy_guild, window: week, keep: latest, value: power}
"""
DERIVE = """
import json, sqlite3
from observatory.project.domain import schema
from observatory.project.domain.state import derive
from observatory.project.domain.model import DomainConfig, Shot
from observatory.project.domain.writes import replace_rows

def shot(i, kind, at, rows, meta=None):
    return Shot(f"s{i}", "C", i, at, "extracted", kind, 0.9, kind, meta or {}, rows, [0.9] * len(rows))

raid = [{"rank": r, "name": n, "damage": d} for r, n, d in ((1, "Anna", 90000), (2, "Bob", 50000))]
shots = [
    shot(1, "toy_raid", "2026-03-02T20:00:00+00:00", raid, {"boss": "Wyrm"}),
    shot(2, "toy_raid", "2026-03-02T20:20:00+00:00", raid + [{"rank": 3, "name": "Cid", "damage": 7000}], {"boss": "Wyrm"}),
    shot(3, "toy_raid", "2026-03-03T09:00:00+00:00", raid[:1], {"boss": None}),  # next day, same reading: same raid
    shot(4, "toy_raid", "2026-03-02T20:10:00+00:00", [{"rank": 1, "name": "Anna", "damage": 123456}], {"boss": "Hydra"}),
    shot(5, "toy_guild", "2026-03-03T10:00:00+00:00", [{"name": "Anna", "power": 100}, {"name": "Bob", "power": 80}]),
    shot(6, "toy_guild", "2026-03-05T10:00:00+00:00", [{"name": "Anna", "power": 120}]),
]
out = derive("C", shots, [], DomainConfig())
db = sqlite3.connect(":memory:")
schema.setup(db)
for table in ("toy_raids", "toy_raid_scores", "toy_guild"):
    replace_rows(db, table, "C", out[table], empty=True)
cols = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in ("toy_raids", "toy_guild")}
print(json.dumps({"raids": sorted(out["toy_raids"], key=lambda r: r["boss"]), "scores": out["toy_raid_scores"],
                  "guild": out["toy_guild"], "cols": cols,
                  "usage": {u["screenshot_id"]: u["used_in"] for u in out["screenshot_usage"]}}))
"""


def test_a_new_games_event_and_snapshot_are_projected_from_their_declaration_alone(tmp_path):
    folder = write_pack(tmp_path, RAID_PACK)
    (folder / "kinds" / "toy_raid.yaml").write_text(RAID_KIND)
    (folder / "kinds" / "toy_guild.yaml").write_text(GUILD_KIND)
    done = run(packs=tmp_path, code=DERIVE)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    hydra, wyrm = got["raids"]
    # two screenshots 20 minutes apart and one the next day sharing a reading are one raid; another boss is another
    assert wyrm["boss"] == "Wyrm" and wyrm["screenshots"] == 3 and wyrm["fighters"] == 3
    assert wyrm["damage_sum"] == 90000 + 50000 + 7000 and wyrm["started_at"] == "2026-03-02T20:00:00+00:00"
    assert hydra["fighters"] == 1 and hydra["damage_sum"] == 123456 and hydra["raid_id"].startswith("r_")
    anna = [s for s in got["scores"] if s["raid_id"] == wyrm["raid_id"] and s["damage"] == 90000]
    assert len(anna) == 1 and anna[0]["readings"] == 3
    # the guild list keeps the week's newest reading per player
    powers = sorted((g["name"], g["power"], g["week_start"]) for g in got["guild"])
    assert powers == [("Anna", 120, "2026-03-02"), ("Bob", 80, "2026-03-02")]
    assert got["cols"]["toy_guild"] == ["community", "week_start", "player_id", "name", "power", "captured_at"]
    assert got["usage"] == {"s1": "toy_raids", "s2": "toy_raids", "s3": "toy_raids", "s4": "toy_raids",
                            "s5": "toy_guild", "s6": "toy_guild"}


@pytest.mark.parametrize("edit, expected", [
    (lambda p, k: (p.replace("fighters: count(toy_raid_scores)", "fighters: count(nothing)"), k),
     "table toy_raids: field columns.fighters: 'nothing' is not a table of this pack"),
    (lambda p, k: (p.replace("boss: one(meta.boss)", "boss: meta(boss)"), k),
     "table toy_raids: field columns.boss: unknown source 'meta(boss)'"),
    (lambda p, k: (p.replace("key: [raid_id]", "key: [raid]"), k), "table toy_raids: field key: 'raid' is not one of"),
    (lambda p, k: (p, k.replace("event: toy_raids", "event: toy_fights")),
     "kind toy_raid: field read_model.event: 'toy_fights' is not an event of pack.yaml events"),
    (lambda p, k: (p, k.replace("needs: [damage]", "needs: [dmg]")),
     "kind toy_raid: field read_model.needs: 'dmg' is not a row field"),
    (lambda p, k: (p.replace("group_by: [boss]", "group_by: [zone]"), k),
     "event toy_raids: field group_by: 'zone' is not a meta field of its kinds"),
])
def test_a_broken_table_or_event_declaration_stops_start_up_naming_it(tmp_path, edit, expected):
    pack, kind = edit(RAID_PACK, RAID_KIND)
    folder = write_pack(tmp_path, pack)
    (folder / "kinds" / "toy_raid.yaml").write_text(kind)
    with pytest.raises(PackError) as err:
        load_pack(folder)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_editing_a_packs_tables_rebuilds_the_projections_with_the_new_columns(tmp_path):
    packs, home = tmp_path / "packs", tmp_path / "home"
    folder = write_pack(packs, RAID_PACK)
    (folder / "kinds" / "toy_raid.yaml").write_text(RAID_KIND)
    first = run("project", packs=packs, home=home)
    assert first.returncode == 0, first.stderr
    db = home / "projections" / "observatory.db"
    columns = lambda: [r[1] for r in sqlite3.connect(db).execute("PRAGMA table_info(toy_raids)")]  # noqa: E731
    assert "boss" in columns() and "rallies" not in columns()
    (folder / "pack.yaml").write_text(RAID_PACK.replace("boss: one(meta.boss),", "boss: one(meta.boss), rallies: count(toy_raid_scores),"))
    again = run("project", packs=packs, home=home)
    assert again.returncode == 0, again.stderr
    assert "rallies" in columns()  # rebuilt from the log, not an error about a missing column
