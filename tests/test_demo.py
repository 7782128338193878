"""`observatory demo`: generated screens that the real extractor reads."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from observatory.cli import cli
from observatory.demo.generate import generate
from observatory.demo.generate import SCREENS


def _fields(row: dict, like: dict) -> dict:
    return {k: row.get(k) for k in like}


@pytest.mark.slow
def test_the_real_extractor_reads_the_generated_screens(tmp_path):
    shots = generate(tmp_path / "DEMO", seed=11, count=len(SCREENS))
    out = subprocess.run([sys.executable, "-m", "observatory", "extract", "--json", str(tmp_path / "DEMO")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    results = {r["file"].rsplit("/", 1)[-1]: r for r in json.loads(out.stdout)}
    expected = total = 0
    for shot in shots:
        r = results[shot.path.name]
        assert r["kind"] == shot.label["kind"], shot.path.name
        got = [_fields(row, shot.label["rows"][0]) for row in r["rows"]]
        total += len(shot.label["rows"])
        expected += sum(1 for row in shot.label["rows"] if row in got)
    assert {s.label["kind"] for s in shots} == {"bear_damage", "contribution", "alliance_members"}
    assert expected >= 0.9 * total, f"only {expected}/{total} generated rows read exactly"


def test_demo_command_is_deterministic_per_seed_and_fills_the_inbox(home):
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--count", "4", "--seed", "3"])
    assert result.exit_code == 0, result.output
    folder = home / "watch_dir" / "DEMO"
    files = sorted(folder.glob("Screenshot_*.png"))
    assert len(files) == 4 and not list(folder.glob(".*"))
    first = [f.read_bytes() for f in files]  # names sort by their capture time, i.e. in generation order
    assert [s.path.read_bytes() for s in generate(home / "again", seed=3, count=4)] == first
    assert generate(home / "other", seed=4, count=1)[0].path.read_bytes() != first[0]
    assert runner.invoke(cli, ["demo", "--community", "../x"]).exit_code == 2
