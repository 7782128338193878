"""A settle takes new screenshots into the derivation it kept (project/domain/state.py) and writes the tables a
full derivation writes.

Checked on random screenshots of every shape (hunts read under misspelt names, rosters whose exact powers
disagree with their abbreviations, sign-ups, contribution weeks, wars, races, rankings), read in and out of
log order, some read again, with corrections now and then (merges, fixed values, notes, retractions), caught
up one screenshot at a time: the projection equals a replay of the same log. And on the replay benchmark's realistic log, where most settles must be incremental.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import correction, ingested, reading, sha_of
from observatory.eventlog import EventStore
from observatory.project import all_projectors, catch_up, open_db
from observatory.project.domain.players import player_id
from observatory.project.domain.projector import DomainProjector
from observatory.project.rebuild import rebuild
from stores import dump

REPO = Path(__file__).resolve().parents[1]
START = datetime(2025, 11, 3, 8, 0, tzinfo=timezone.utc)
# a few members, each with the ways OCR misreads them
NAMES = [["Valorin", "Va1orin", "Vxl"], ["Xoxo", "XoXo", "Kx"], ["[HEI]Zach", "Zach", "2ac"], ["DADDYZ", "D AD D Ya"],
         ["Marra", "Mar"], ["Kestrel", "Kestre1", "K3s"], ["Oona", "0o"], ["Pim"]]
POWERS = [285_400_000, 189_800_000, 211_534_112, 95_000_000, 120_000_000, 77_700_000, 64_000_000, 50_100_000]


def _abbrev(power: int) -> str:
    return f"{power / 1e6:.1f}M"


def _rows(kind: str, who: list[tuple[int, int]], rnd: random.Random) -> tuple[list[dict], dict]:
    """Rows of `kind` for the members `who` (member, name variant), and the screen's meta."""
    name = lambda m, v: NAMES[m][v % len(NAMES[m])]  # noqa: E731
    if kind == "bear_damage":
        return ([{"rank": r + 1, "name": name(m, v), "damage": 10_000_000 - 1_000_000 * m} for r, (m, v) in enumerate(who)],
                {"trap_id": 1 + who[0][0] % 2})
    if kind == "alliance_members":
        rows = []
        for m, v in who:
            exact = rnd.random() < 0.4
            power = POWERS[m] + (rnd.choice([0, 1234, 100_000_000]) if exact else 0)
            rows.append({"name": name(m, v), "power_text": None if exact else _abbrev(POWERS[m]), "power": power,
                         "furnace_text": "30", "tier": "R4"})
        return rows, {"online": "7/100", "sections": ["R4"]}
    if kind == "contribution":
        return ([{"rank": r + 1, "name": name(m, v), "contribution": 5000 - 100 * m} for r, (m, v) in enumerate(who)],
                {"period": rnd.choice(["daily", "weekly"])})
    if kind == "foundry_signup":
        return ([{"name": name(m, v), "power": 3000 + m, "status": "join", "voted": True, "tier": None} for m, v in who],
                {"legion": 1 + who[0][0] % 2, "joined": len(who), "capacity": 30})
    if kind == "foundry_result":
        return ([{"rank": r + 1, "name": name(m, v), "points": 900 - 10 * m} for r, (m, v) in enumerate(who)],
                {"legion": 1 + who[0][0] % 2})
    if kind == "ac_signup":
        return ([{"order": r + 1, "name": name(m, v), "power": POWERS[m]} for r, (m, v) in enumerate(who)],
                {"lane": rnd.choice(["left", "right"])})
    if kind == "mkw_team_result":
        rows = [{"team": 1 + r % 2, "name": name(m, v), "score": 80 - m} for r, (m, v) in enumerate(who)]
        return rows, {"team1_total": sum(r["score"] for r in rows if r["team"] == 1),
                      "team2_total": sum(r["score"] for r in rows if r["team"] == 2)}
    if kind == "mk8d_race_result":
        return [{"rank": r + 1, "name": name(m, v), "score": 15 - r} for r, (m, v) in enumerate(who)], {}
    assert kind == "tb_event_ranking"
    return [{"tag": "HEI", "name": name(m, v), "power": POWERS[m], "points": 1000 - 50 * m} for m, v in who], {}


KINDS = ["bear_damage", "alliance_members", "contribution", "foundry_signup", "foundry_result", "ac_signup",
         "mkw_team_result", "mk8d_race_result", "tb_event_ranking"]
screen = st.tuples(st.sampled_from(KINDS), st.integers(0, 6), st.sampled_from([0, 5, 20, 45, 90, 600]),
                   st.lists(st.tuples(st.integers(0, 7), st.integers(0, 2)), min_size=2, max_size=6,
                            unique_by=lambda mv: mv[0]),
                   st.floats(0.3, 1.0), st.integers(0, 99))


def _events(screens: list, rnd: random.Random) -> list[list]:
    """The log: each screenshot's ingest, then (usually at once, sometimes after others) its reading; and now and
    then an admin's correction."""
    out: list[list] = []
    waiting: list[list] = []
    for n, (kind, day, minute, who, conf, dice) in enumerate(screens):
        s = sha_of(f"HEI/shot{n}")
        at = START + timedelta(days=day, minutes=minute + n % 3)
        rows, meta = _rows(kind, who, rnd)
        out.append([ingested(s, "HEI", name=f"shot{n}.jpg", byte_size=1000, captured_at=at.isoformat())])
        read = reading(s, kind, rows, meta, confidence=0.95, row_confidence=[conf] * len(rows), request=f"r{n}")
        if dice < 15:
            waiting.append(read)  # read later: after screenshots ingested after it
        else:
            out.append(read)
        if waiting and dice > 80:
            out.append(waiting.pop(0))
        if dice == 99:
            a, b = who[0][0], who[1][0]
            out.append([correction({"kind": "merge_players", "community": "HEI",
                                    "source_id": player_id("HEI", NAMES[a][0].lower().replace("[hei]", "")),
                                    "target_id": player_id("HEI", NAMES[b][0].lower().replace("[hei]", ""))})])
        elif dice == 98:
            out.append([correction({"kind": "retract", "screenshot_id": s})])
        elif dice in (94, 95):  # read again (a reprocess): the same names with other values, or another kind
            again_kind = kind if dice == 95 else rnd.choice(KINDS)
            rows2, meta2 = _rows(again_kind, who, rnd)
            out.append(reading(s, again_kind, rows2, meta2, confidence=0.9, row_confidence=[conf] * len(rows2),
                               request=f"again{n}"))
        elif dice in (96, 97) and kind == "bear_damage":  # an admin fixes a misread damage, or notes the hunt
            out.append([correction({"kind": "set_value", "screenshot_id": s, "row": {"field": "rank", "value": 1},
                                    "field": "damage", "value": 10_000_001} if dice == 97 else
                                   {"kind": "note", "target": s, "screenshot_id": s, "text": "boss at level 7"})])
    out += waiting
    return out


def _domain(projectors: list) -> DomainProjector:
    return next(p for p in projectors if isinstance(p, DomainProjector))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(screen, min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_screenshots_caught_up_one_at_a_time_give_the_tables_of_a_replay(tmp_path_factory, screens, rnd):
    d = tmp_path_factory.mktemp("inc")
    store = EventStore(d / "events.db")
    db = open_db(d / "incremental.db")
    projectors = all_projectors()
    for batch in _events(screens, rnd):
        store.append(batch)
        catch_up(store, db, projectors, batch_size=rnd.choice((1, 2, 100)))
    db.conn.close()
    rebuild(store, d / "replay.db", all_projectors())
    assert dump(d / "incremental.db") == dump(d / "replay.db")
    store.close()


def _benchmark():
    spec = importlib.util.spec_from_file_location("bench_replay", REPO / "benchmarks" / "replay.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["bench_replay"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.slow  # a realistic log of 4,000 events, caught up a few events at a time
def test_on_a_realistic_log_most_settles_are_incremental_and_the_tables_those_of_a_replay(tmp_path):
    log = tmp_path / "events.db"
    _benchmark().generate(log, 4000)  # eight communities, corrections of every kind
    store = EventStore(log, readonly=True)
    db = open_db(tmp_path / "incremental.db")
    projectors = all_projectors()
    rng = random.Random(16)
    done = 0
    while done < 4000:
        done = min(4000, done + rng.randint(1, 12))
        catch_up(store, db, projectors, batch_size=rng.choice((3, 500)), until=done)
    db.conn.close()
    rebuild(store, tmp_path / "replay.db", all_projectors())
    assert dump(tmp_path / "incremental.db") == dump(tmp_path / "replay.db")
    settled = _domain(projectors).settled
    full = sum(n for why, n in settled.items() if why != "incrementally")
    assert settled["incrementally"] > 5 * full, settled  # corrections and each community's first settle: in full
    store.close()


def _caught_up_and_replayed(tmp_path: Path, batches: list[list]) -> tuple[dict, dict, DomainProjector]:
    """Catch up after each batch, then replay the same log: both projections' tables, and the domain projector."""
    store = EventStore(tmp_path / "events.db")
    db = open_db(tmp_path / "incremental.db")
    projectors = all_projectors()
    for batch in batches:
        store.append(batch)
        catch_up(store, db, projectors)
    db.conn.close()
    rebuild(store, tmp_path / "replay.db", all_projectors())
    store.close()
    return dump(tmp_path / "incremental.db"), dump(tmp_path / "replay.db"), _domain(projectors)


def _at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def test_a_name_first_seen_elsewhere_later_wins_back_the_row_it_lost_in_a_vote(tmp_path):
    """Rank 2 of one hunt read as Kestrel (seen on the roster) and as Qwpz (never seen elsewhere): Kestrel's. Once
    a roster shows Qwpz too, the more confident reading wins, in the hunt settled long before as in a replay."""
    from builders import shot

    roster = lambda n, names, t: shot(f"roster{n}.jpg", "alliance_members", [  # noqa: E731
        {"name": name, "power_text": "95.0M", "power": 95_000_000, "furnace_text": "30", "tier": "R4"} for name in names],
        {"online": "7/100"}, captured_at=_at(t))
    hunt = lambda n, second, conf, t: shot(f"hunt{n}.jpg", "bear_damage", [  # noqa: E731
        {"rank": 1, "name": "Oona", "damage": 9_000_000}, {"rank": 2, "name": second, "damage": 8_000_000}],
        {"trap_id": 1}, row_confidence=[0.9, conf], captured_at=_at(t))
    batches = [roster(1, ["Kestrel", "Oona"], 0), hunt(1, "Qwpz", 0.9, 600), hunt(2, "Kestrel", 0.5, 602)]
    before, replayed, _ = _caught_up_and_replayed(tmp_path / "a", batches)
    assert before == replayed
    assert [r for r in replayed["bear_scores"] if r[-1] == 8_000_000 or 8_000_000 in r]  # one row for rank 2
    batches.append(roster(2, ["Qwpz", "Oona"], 3000))
    after, replayed, domain = _caught_up_and_replayed(tmp_path / "b", batches)
    assert after == replayed
    assert domain.settled["incrementally"] == 2, domain.settled  # the first two: a new file, a new process
    names = lambda tables: {r[0]: r for r in tables["players"]}  # noqa: E731
    assert names(after) != names(before), "the vote turned: Qwpz is a player of its own now"


def test_a_war_team_seen_elsewhere_for_the_first_time_becomes_the_community_s_own(tmp_path):
    from builders import shot

    war = shot("war.jpg", "mkw_team_result", [
        {"team": 1, "name": "Alder", "score": 80}, {"team": 1, "name": "Birch", "score": 70},
        {"team": 2, "name": "Cedar", "score": 90}, {"team": 2, "name": "Dogwood", "score": 60}],
        {"team1_total": 150, "team2_total": 150}, captured_at=_at(0))
    race = lambda n, names, t: shot(f"race{n}.jpg", "mk8d_race_result", [  # noqa: E731
        {"rank": r + 1, "name": name, "score": 15 - r} for r, name in enumerate(names)], captured_at=_at(t))
    batches = [race(1, ["Cedar", "Pim"], 0), war, race(2, ["Alder", "Birch", "Pim"], 3000)]
    caught_up, replayed, domain = _caught_up_and_replayed(tmp_path, batches)
    assert caught_up == replayed
    assert domain.settled["incrementally"] == 1, domain.settled
    (war_row,) = replayed["wars"]
    assert war_row[6] == 1, "Alder and Birch are seen elsewhere now: team 1 is ours"


def test_with_no_derivation_kept_every_settle_derives_in_full_and_the_tables_are_the_same(tmp_path):
    from builders import shot
    from observatory.project.domain.projector import CorrectionsProjector
    from observatory.project.screenshots import ScreenshotsProjector
    from observatory.settings import SettingsError, load_settings

    assert load_settings(derivations_kept=0).derivations_kept == 0
    with pytest.raises(SettingsError, match=r"^invalid setting OBSERVATORY_DERIVATIONS_KEPT"):
        load_settings(derivations_kept=-1)
    store = EventStore(tmp_path / "events.db")
    db = open_db(tmp_path / "p.db")
    projectors = [ScreenshotsProjector(), CorrectionsProjector(), DomainProjector(kept=0)]
    for n in range(4):
        store.append(shot(f"hunt{n}.jpg", "bear_damage", [{"rank": 1, "name": "Oona", "damage": 9_000_000 + n}],
                          {"trap_id": 1}, captured_at=_at(5 * n)))
        catch_up(store, db, projectors)
    db.conn.close()
    assert projectors[-1].settled["incrementally"] == 0
    rebuild(store, tmp_path / "replay.db", all_projectors())
    assert dump(tmp_path / "p.db") == dump(tmp_path / "replay.db")
