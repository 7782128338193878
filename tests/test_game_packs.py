"""Game packs: a kind declared once as data reaches every layer; a broken declaration stops start-up in one line."""

from __future__ import annotations

import json
import os
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


def run(*args: str, packs: Path | None = None, code: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBSERVATORY_")}
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
