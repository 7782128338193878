"""One player per real person, on the screenshots that once made garbled players (benchmarks/roster.py).

Five real screenshots (two championship lanes, two weekly contribution pages, a foundry sign-up) whose
decorated names (`ΛLЦKΛЯD ◢◤`, `Ɠɨᴙʅ༄ɨɴᴛᴇᴙᴙᴜpᴛᴇḋ`, `°𝕊miՆɛČ̣Ƨλɓ°¹`) no reader can read went through the
real pipeline (`observatory ingest`, then `project`) into one community: every player found is a real
person, no person is two players, and the people whose names cannot be read have their rows in review
(a doubtful name) instead of a player under a garbled name.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBSET = ["20251112_113936", "20251112_113950", "20251112_121110", "20251112_121147", "20251114_000531"]


def _roster_benchmark():
    spec = importlib.util.spec_from_file_location("roster_benchmark", REPO / "benchmarks" / "roster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.slow
def test_unreadable_names_go_to_review_never_to_garbled_players(samples_dir, tmp_path, capsys):
    roster = _roster_benchmark()
    subset = tmp_path / "samples"
    subset.mkdir()
    for stamp in SUBSET:
        for ext in (".jpg", ".json"):
            src = samples_dir / f"Screenshot_{stamp}_Whiteout Survival{ext}"
            shutil.copy2(src, subset / src.name)  # a temp copy: the samples never enter the repo
    home = tmp_path / "home"
    roster.ingest(subset, home)
    people = roster.expected_people(subset)
    found = roster.found_players(home)
    review = roster.awaiting_review(home, subset, people)
    roster.report(people, found, False, review)
    out = capsys.readouterr().out

    strangers = [d for d, names in found.values()
                 if not any(roster.is_person(n, p) for n in (names or [d]) for p in people)]
    assert strangers == [], out  # `G E T`, `SmiεÇλb` were players before
    found_as = {i: [d for d, names in found.values() if any(roster.is_person(n, p) for n in (names or [d]))]
                for i, p in enumerate(people)}
    assert all(len(d) <= 1 for d in found_as.values()), out
    unreadable = {repr(people[i]).split(" / ")[0] for i, d in found_as.items() if not d}
    assert unreadable == {"ALUKARD", "Girl Interrupted", "SmiILeCSAb"}, out
    assert all(i in review for i, d in found_as.items() if not d), out  # their rows wait in review_queue
    assert "one player per real person, no garbled names (a name no reader could read is in review): yes" in out
