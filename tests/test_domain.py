"""Domain tables from real events: hunts, snapshots, players, review, built by the real projectors."""

from __future__ import annotations

import json
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from builders import correction, from_label, ranking, result, sha_of, shot, trap1_hunt
from observatory.eventlog import EventStore
from observatory.project import all_projectors, catch_up, open_db
from observatory.project.rebuild import rebuild
from stores import build


def test_five_screenshots_of_one_hunt_are_one_hunt_with_twenty_scores(tmp_path):
    conn = build(tmp_path, trap1_hunt())
    hunts = conn.execute("SELECT * FROM bear_hunts").fetchall()
    assert len(hunts) == 1
    h = hunts[0]
    assert (h["trap_id"], h["started_at"], h["time_source"]) == (1, "2025-11-11T22:30:05+00:00", "mail")
    assert (h["rallies"], h["total_damage"], h["participants"], h["screenshots"]) == (50, 57815870631, 20, 5)
    assert len(json.loads(h["screenshot_ids"])) == 5
    scores = conn.execute("SELECT rank, damage, readings FROM bear_scores ORDER BY rank").fetchall()
    assert [s["rank"] for s in scores] == list(range(1, 21))
    assert scores[0]["damage"] == 6442016308 and scores[0]["readings"] == 2  # ranking + overview: one score
    # overlapping scroll positions read rank 5, 10 and 15 twice; still one score each
    assert {s["rank"]: s["readings"] for s in scores}[5] == 2
    # "Mar" and "Marra" are two players, never merged
    names = {r[0] for r in conn.execute("SELECT display_name FROM players")}
    assert {"Mar", "Marra"} <= names
    assert conn.execute("SELECT count(*) FROM players").fetchone()[0] == 20


def test_two_hunts_of_one_trap_two_days_apart_stay_apart(tmp_path):
    later = [{"rank": 1, "name": "[HEI]Valorin", "damage": 7000000000}]
    conn = build(tmp_path, trap1_hunt()[:2] + [
        shot("Screenshot_20251114_173538_Whiteout Survival.jpg", "bear_damage", later, {"trap_id": 1}),
        shot("Screenshot_20251114_173600_Whiteout Survival.jpg", "bear_damage", later, {"trap_id": 2}),
    ])
    hunts = conn.execute("SELECT trap_id, participants FROM bear_hunts ORDER BY started_at, trap_id").fetchall()
    assert [tuple(h) for h in hunts] == [(1, 10), (1, 1), (2, 1)]


def test_disagreeing_readings_keep_the_confident_one_and_go_to_review(tmp_path):
    a = shot("Screenshot_20251112_173538_Whiteout Survival.jpg", "bear_damage",
             [{"rank": 1, "name": "[HEI]Valorin", "damage": 6442016308}, {"rank": 2, "name": "[HEI]Stevieツ", "damage": 4483222355}],
             {"trap_id": 1}, row_confidence=[0.95, 0.55])
    b = shot("Screenshot_20251112_173541_Whiteout Survival.jpg", "bear_damage",
             [{"rank": 1, "name": "[HEI]Valorin", "damage": 6442016308}, {"rank": 2, "name": "[HEI]Stevieツ", "damage": 4488222355}],
             {"trap_id": 1}, row_confidence=[0.95, 0.9])
    conn = build(tmp_path, [a, b])
    assert conn.execute("SELECT damage FROM bear_scores WHERE rank = 2").fetchone()[0] == 4488222355
    reasons = {r["reason"]: r["detail"] for r in conn.execute("SELECT * FROM review_queue")}
    assert "4483222355" in reasons["conflict"] and "kept 4488222355" in reasons["conflict"]
    assert "0.55" in reasons["low_confidence"]


def test_names_are_matched_fuzzily_and_recorded_as_such(tmp_path):
    conn = build(tmp_path, [
        shot("Screenshot_20251112_114619_Whiteout Survival.jpg", "alliance_members",
             [{"name": "Valorin", "power_text": "211.5M", "power": 211500000, "furnace_text": "30", "tier": "R4"},
              {"name": "Moensori", "power_text": "98M", "power": 98000000, "furnace_text": "FC2", "tier": "R3"}],
             {"online": "6/100"}),
        shot("Screenshot_20251112_173538_Whiteout Survival.jpg", "bear_damage",
             [{"rank": 1, "name": "[HEI]Valorln", "damage": 6442016308}, {"rank": 2, "name": "[HEI]Moensorl", "damage": 5}],
             {"trap_id": 1}),
    ])
    aliases = {r["name_key"]: r for r in conn.execute("SELECT * FROM player_aliases")}
    assert aliases["valorln"]["match"] == "fuzzy" and aliases["valorln"]["player_id"] == aliases["valorin"]["player_id"]
    assert aliases["valorin"]["match"] == "new"
    roster = {r["name"]: r for r in conn.execute("SELECT * FROM roster_snapshots")}
    assert roster["Valorin"]["furnace_level"] == 30 and roster["Moensori"]["furnace_level"] is None
    assert conn.execute("SELECT count(*) FROM players").fetchone()[0] == 2


def test_contribution_weeks_and_the_newest_session_wins(tmp_path):
    early = [{"rank": 1, "name": "Valorin", "contribution": 1000}, {"rank": 2, "name": "Xoxo", "contribution": 900}]
    late = [{"rank": 1, "name": "Xoxo", "contribution": 5000}, {"rank": 2, "name": "Valorin", "contribution": 4000}]
    conn = build(tmp_path, [
        shot("Screenshot_20251110_100000_Whiteout Survival.jpg", "contribution", early, {"period": "weekly"}),
        shot("Screenshot_20251115_100000_Whiteout Survival.jpg", "contribution", late, {"period": "weekly"}),
        shot("Screenshot_20251117_100000_Whiteout Survival.jpg", "contribution", early, {"period": "weekly"}),
    ])
    rows = conn.execute("SELECT period_start, name, rank, contribution FROM contribution_snapshots "
                        "ORDER BY period_start, rank").fetchall()
    assert [tuple(r) for r in rows] == [("2025-11-10", "Xoxo", 1, 5000), ("2025-11-10", "Valorin", 2, 4000),
                                        ("2025-11-17", "Valorin", 1, 1000), ("2025-11-17", "Xoxo", 2, 900)]


def test_foundry_mail_pages_and_signups_form_events(tmp_path, samples_dir):
    labels = sorted(samples_dir.glob("*.json"))
    conn = build(tmp_path, [from_label(p) for p in labels])
    events = {r["week_start"]: r for r in conn.execute("SELECT * FROM foundry_events")}
    mail = events["2025-10-27"]  # the result mail of 2025-11-01, two pages captured on 2025-11-14
    assert (mail["result"], mail["our_score"], mail["opponent_score"], mail["screenshots"]) == ("defeat", 252926, 261428, 2)
    # the pages overlap (ranks 1-2 on both): 8 results, not 10
    assert conn.execute("SELECT count(*) FROM foundry_results WHERE event_id = ?", [mail["event_id"]]).fetchone()[0] == 8
    signup = events["2025-11-10"]
    assert (signup["joined"], signup["capacity"], signup["screenshots"]) == (18, 30, 10)
    # every counted screenshot says where it went
    usage = dict(conn.execute("SELECT used_in, count(*) FROM screenshot_usage GROUP BY 1").fetchall())
    assert usage.get("not counted (unknown)") == 1 and sum(usage.values()) == len(labels)
    assert conn.execute("SELECT count(*) FROM communities").fetchone()[0] == 1
    lanes = dict(conn.execute("SELECT lane, count(*) FROM ac_signups GROUP BY lane").fetchall())
    assert lanes == {"left": 12, "middle": 13, "right": 25}  # the labelled sign-up rows of each lane's pages
    assert conn.execute("SELECT count(*) FROM alliance_power_snapshots").fetchone()[0] == 9


def test_corrections_apply_in_the_tables(tmp_path):
    hunt = trap1_hunt()
    first = sha_of("HEI/Screenshot_20251112_173538_Whiteout Survival.jpg")
    third = sha_of("HEI/Screenshot_20251112_173552_Whiteout Survival.jpg")
    conn = build(tmp_path, hunt + [[
        correction({"kind": "set_value", "screenshot_id": first, "row": {"field": "rank", "value": 2},
                    "field": "damage", "value": 4483222356}),
        correction({"kind": "retract", "screenshot_id": third}),
        correction({"kind": "note", "target": "hunt", "text": "bear came early", "screenshot_id": first}),
    ]])
    h = conn.execute("SELECT * FROM bear_hunts").fetchone()
    assert h["note"] == "bear came early" and h["screenshots"] == 4
    ranks = [r[0] for r in conn.execute("SELECT rank FROM bear_scores ORDER BY rank")]
    assert 11 not in ranks and 16 in ranks  # ranks 11-14 were only on the retracted screenshot
    assert conn.execute("SELECT damage FROM bear_scores WHERE rank = 2").fetchone()[0] == 4483222356
    assert conn.execute("SELECT used_in FROM screenshot_usage WHERE screenshot_id = ?", [third]).fetchone()[0] == "retracted"


def test_incremental_catch_up_settles_each_batch(tmp_path):
    store = EventStore(tmp_path / "events.db")
    db = open_db(tmp_path / "p.db")
    for batch in trap1_hunt():
        store.append(batch)
        catch_up(store, db, all_projectors(), batch_size=2)
        assert db.execute("SELECT count(*) FROM _domain_dirty").fetchone()[0] == 0
    assert db.execute("SELECT participants FROM bear_hunts").fetchone()[0] == 20


def _tables(conn) -> dict[str, list]:
    """Every table analysts read (not the projectors' own bookkeeping, `_...`), rows in a fixed order."""
    names = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
             if not t.startswith(("_", "sqlite_"))]
    return {t: sorted(map(tuple, conn.execute(f"SELECT * FROM [{t}]").fetchall()), key=repr) for t in names}


def test_a_screenshot_only_ingested_shows_at_once_without_re_deriving_its_community(tmp_path):
    """The watcher's ingest, before OCR: its rows appear, and no settle re-derives the whole community."""
    store = EventStore(tmp_path / "events.db")
    db = open_db(tmp_path / "p.db")
    projectors = all_projectors()
    domain = projectors[-1]
    first, second, third, *_ = trap1_hunt()
    store.append(first + second)
    catch_up(store, db, projectors)
    store.append(third[:1])  # its ingest alone: OCR has not read it yet
    catch_up(store, db, projectors, settle=False)
    assert db.execute("SELECT count(*) FROM _domain_dirty").fetchone()[0] == 0
    assert domain.settle(db, store) == 0  # no community to re-derive
    sid = third[0].event.sha256
    assert db.execute("SELECT used_in FROM screenshot_usage WHERE screenshot_id = ?", [sid]).fetchone()[0] == \
        "not counted (ingested)"
    assert db.execute("SELECT screenshots FROM communities").fetchone()[0] == 3
    rebuild(store, tmp_path / "replayed.db", all_projectors())
    assert _tables(db.conn) == _tables(sqlite3.connect(tmp_path / "replayed.db"))
    store.append(third[1:])  # read: now it counts, and its community is re-derived
    catch_up(store, db, projectors)
    assert db.execute("SELECT used_in FROM screenshot_usage WHERE screenshot_id = ?", [sid]).fetchone()[0] == \
        "bear_hunts"
    rebuild(store, tmp_path / "replayed2.db", all_projectors())
    assert _tables(db.conn) == _tables(sqlite3.connect(tmp_path / "replayed2.db"))
    store.close()


def test_a_screenshot_read_again_shows_its_new_reading_between_settles(tmp_path):
    """Settles keep decoded readings (shots.py); a new extraction of a screenshot replaces its own."""
    store = EventStore(tmp_path / "events.db")
    db = open_db(tmp_path / "p.db")
    hunt = trap1_hunt()
    for batch in hunt:
        store.append(batch)
        catch_up(store, db, all_projectors())
    sid = hunt[1][0].event.sha256  # ranks 5-10: rank 7 is on no other screenshot
    fixed = [{**r, "damage": r["damage"] + 1} if r["rank"] == 7 else r for r in ranking(range(5, 11))]
    store.append(result(sid, "bear_damage", fixed, {"trap_id": 1}, request="again"))
    catch_up(store, db, all_projectors())
    assert db.execute("SELECT damage FROM bear_scores WHERE rank = 7").fetchone()[0] == 3300000003
    rebuild(store, tmp_path / "replayed.db", all_projectors())
    assert _tables(db.conn) == _tables(sqlite3.connect(tmp_path / "replayed.db"))
    store.close()


def _queue_rows(community: str, subjects: set[str], detail: str) -> list[dict]:
    return [{"community": community, "reason": "conflict", "subject": s, "detail": detail, "screenshot_id": None,
             "player_id": None, "confidence": 0.5} for s in sorted(subjects)]

SUBJECTS = st.sets(st.sampled_from([f"s{i}" for i in range(8)]), max_size=8)


@settings(max_examples=60, deadline=None)
@given(before=SUBJECTS, after=SUBJECTS, changed=SUBJECTS, other=SUBJECTS)
def test_replace_rows_leaves_exactly_the_new_rows_and_other_communities_alone(before, after, changed, other):
    """The live settle writes only differences; what the table holds must still be exactly what derive said."""
    from observatory.project.domain import schema
    from observatory.project.domain.writes import replace_rows

    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.create(conn, "review_queue", schema.TABLES["review_queue"])
    cols = schema.COLUMNS["review_queue"]
    insert = f"INSERT INTO review_queue ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    for row in _queue_rows("HEI", before, "old") + _queue_rows("BTS", other, "theirs"):
        conn.execute(insert, [row[c] for c in cols])
    new = _queue_rows("HEI", after - changed, "old") + _queue_rows("HEI", after & changed, "new detail")
    replace_rows(conn, "review_queue", "HEI", new)

    def held(community: str) -> list[tuple]:
        return conn.execute(f"SELECT {', '.join(cols)} FROM review_queue WHERE community = ? ORDER BY subject",
                            [community]).fetchall()

    assert held("HEI") == sorted((tuple(r[c] for c in cols) for r in new), key=lambda r: r[2])
    assert held("BTS") == [tuple(r[c] for c in cols) for r in _queue_rows("BTS", other, "theirs")]


def test_result_mails_of_two_legions_shot_minutes_apart_go_to_their_own_battles(tmp_path):
    """One officer screenshots both legions' result mails in one sitting: each battle keeps its own result."""
    def mail(second: int, legion: int, score: int, names: list[str]) -> list:
        rows = [{"rank": i + 1, "name": n, "points": 1000 - i} for i, n in enumerate(names)]
        meta = {"legion": legion, "mail_time": "2025-11-16 23:00:00", "result": "victory", "our_score": score}
        return shot(f"Screenshot_20251117_0600{second:02d}_Whiteout Survival.jpg", "foundry_result", rows, meta)
    signups = [shot(f"Screenshot_20251114_1{legion}0000_Whiteout Survival.jpg", "foundry_signup",
                    [{"name": f"[HEI]Signed{legion}", "power": 5000 + legion, "status": "join"}], {"legion": legion})
               for legion in (1, 2)]
    conn = build(tmp_path, signups + [mail(10, 2, 222, ["Bo", "Cy"]), mail(40, 1, 111, ["Al", "Di"])])
    battles = {r["legion"]: r for r in conn.execute("SELECT * FROM foundry_events")}
    assert {k: (b["our_score"], b["screenshots"], b["started_at"]) for k, b in battles.items()} == {
        1: (111, 2, "2025-11-16T23:00:00+00:00"), 2: (222, 2, "2025-11-16T23:00:00+00:00")}
    points = {r[0]: r[1] for r in conn.execute(
        "SELECT r.name, e.legion FROM foundry_results r JOIN foundry_events e USING (event_id)")}
    assert points == {"Al": 1, "Di": 1, "Bo": 2, "Cy": 2}
