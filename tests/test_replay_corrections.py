"""Replay with corrections equals applying them incrementally, whatever the interleaving.

Random logs mix screenshots only ingested (not read yet), extractions, re-extractions and every kind of correction, including
reverts (of reverts) and merges of players that are already merged. Corrections are
appended raw, without validation, so the projections must also cope with fixes whose
row or player has since gone.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import correction, result, sha_of, shot
from observatory.correct.state import correction_id
from observatory.eventlog import EventStore
from observatory.identity import normalize, parse_name
from observatory.project import all_projectors, catch_up, open_db
from observatory.project.domain.players import player_id
from observatory.project.rebuild import rebuild
from stores import dump

NAMES = ["[HEI]Valorin", "Valorln", "Mar", "Marra", "[HEI]Xoxo", "Xox0", "必須認真", "Stevieツ"]
KINDS = ["bear_damage", "contribution", "alliance_members"]


def _rows(kind: str, names: list[str], base: int) -> list[dict]:
    if kind == "alliance_members":
        return [{"name": n, "power_text": f"{base + i}M", "power": (base + i) * 10**6, "furnace_text": "30", "tier": "R4"}
                for i, n in enumerate(names)]
    field = "damage" if kind == "bear_damage" else "contribution"
    rows = [{"rank": i + 1, "name": n, field: 10**6 * (base + 10 - i)} for i, n in enumerate(names)]
    if base >= 2:  # the extractor was unsure of some rows: they count only once confirmed or set
        rows[0] = {**rows[0], "doubtful": [field] if base == 2 else ["name", field], "doubt_reasons": {field: "order"}}
    return rows


def _meta(kind: str) -> dict:
    return {"trap_id": 1} if kind == "bear_damage" else {"period": "weekly"} if kind == "contribution" else {}


def _pid(name: str) -> str:
    return player_id("HEI", normalize(parse_name(name).name))


step = st.one_of(
    st.tuples(st.just("shot"), st.integers(0, 4), st.sampled_from(KINDS),
              st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True), st.integers(0, 3)),
    st.tuples(st.just("drop"), st.integers(0, 4)),  # ingested only: read by a later "shot" step, if any
    st.tuples(st.just("set_value"), st.integers(0, 4), st.integers(1, 4), st.integers(1, 99)),
    st.tuples(st.just("delete_row"), st.integers(0, 4), st.integers(1, 4)),
    st.tuples(st.just("confirm"), st.integers(0, 4), st.integers(1, 4), st.sampled_from([[], ["damage"], ["name"]])),
    st.tuples(st.just("add_row"), st.integers(0, 4), st.integers(1, 6), st.sampled_from(NAMES)),
    st.tuples(st.just("retract"), st.integers(0, 4)),
    st.tuples(st.just("reclassify"), st.integers(0, 4), st.sampled_from(KINDS + ["unknown"])),
    st.tuples(st.just("merge"), st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.tuples(st.just("rename"), st.sampled_from(NAMES), st.sampled_from(["Boss", "Val"])),
    st.tuples(st.just("link"), st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.tuples(st.just("unlink"), st.sampled_from(NAMES)),
    st.tuples(st.just("time"), st.integers(0, 4), st.integers(0, 72)),
    st.tuples(st.just("note"), st.integers(0, 4)),
    st.tuples(st.just("revert"), st.integers(0, 30)),
)


def _name(i: int) -> str:
    return f"Screenshot_202511{10 + i:02d}_1735{i:02d}_Whiteout Survival.jpg"


def _events(st_, made: dict, kinds: dict, cids: list, n: int):
    op, *a = st_
    if op == "shot":
        i, kind, names, base = a
        sid = sha_of(f"HEI/{_name(i)}")
        forced = kinds.get(i)  # an extraction that honours a reclassification in force
        kind = forced or kind
        if i not in made:
            made[i] = sid
            return shot(_name(i), kind, _rows(kind, names, base), _meta(kind), requested_kind=forced, request=f"r{n}")
        return result(sid, kind, _rows(kind, names, base), _meta(kind), requested_kind=forced, request=f"r{n}")
    if op == "drop":
        if a[0] in made:
            return []
        made[a[0]] = sha_of(f"HEI/{_name(a[0])}")
        return shot(_name(a[0]), "bear_damage", [])[:1]
    if op in ("set_value", "confirm", "delete_row", "add_row", "retract", "reclassify", "time", "note") and a[0] not in made:
        return []
    sid = made.get(a[0]) if isinstance(a[0], int) else None
    if op == "set_value":
        fix = {"kind": "set_value", "screenshot_id": sid, "row": {"field": "rank", "value": a[1]}, "field": "damage",
               "value": a[2] * 10**6}
    elif op == "confirm":
        fix = {"kind": "confirm", "screenshot_id": sid, "row": {"field": "rank", "value": a[1]}, "fields": a[2]}
    elif op == "delete_row":
        fix = {"kind": "delete_row", "screenshot_id": sid, "row": {"field": "rank", "value": a[1]}}
    elif op == "add_row":
        fix = {"kind": "add_row", "screenshot_id": sid, "values": {"rank": a[1], "name": a[2], "damage": 123}}
    elif op == "retract":
        fix = {"kind": "retract", "screenshot_id": sid}
    elif op == "reclassify":
        kinds[a[0]] = a[1]
        fix = {"kind": "reclassify", "screenshot_id": sid, "new_kind": a[1]}
    elif op == "merge":
        fix = {"kind": "merge_players", "community": "HEI", "source_id": _pid(a[0]), "target_id": _pid(a[1])}
    elif op == "rename":
        fix = {"kind": "rename_player", "community": "HEI", "player_id": _pid(a[0]), "name": a[1]}
    elif op == "link":
        fix = {"kind": "link_alias", "community": "HEI", "name": a[0], "player_id": _pid(a[1])}
    elif op == "unlink":
        fix = {"kind": "unlink_alias", "community": "HEI", "name": a[0]}
    elif op == "time":
        fix = {"kind": "set_event_time", "screenshot_id": sid, "at": f"2025-11-0{1 + a[1] // 24}T{a[1] % 24:02d}:00:00+00:00",
               "scope": "event" if a[1] % 2 else "screenshot"}
    elif op == "note":
        fix = {"kind": "note", "target": "hunt", "text": f"note {n}", "screenshot_id": sid}
    else:
        if not cids:
            return []
        fix = {"kind": "revert", "correction_id": cids[a[0] % len(cids)]}
    return [correction(fix)]


class Log:
    """Appends steps one at a time, remembering screenshots, forced kinds and correction ids for later steps."""

    def __init__(self, store: EventStore) -> None:
        self.store, self.made, self.kinds, self.cids = store, {}, {}, []

    def append(self, s, n: int, *, kinds: dict | None = None) -> list:  # type: ignore[no-untyped-def]
        added = self.store.append(_events(s, self.made, self.kinds if kinds is None else kinds, self.cids, n))
        self.cids += [correction_id(ev.event_id) for ev in added if ev.type == "CorrectionApplied"]
        return added


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40), st.lists(st.integers(1, 7), min_size=1, max_size=6),
       st.randoms(use_true_random=False))
def test_replay_with_corrections_equals_incremental(tmp_path_factory, steps, sizes, rnd):
    d = tmp_path_factory.mktemp("corr")
    store = EventStore(d / "events.db")
    db = open_db(d / "incremental.db")
    log = Log(store)
    for n, s in enumerate(steps):
        log.append(s, n)
        if rnd.random() < 0.4:
            catch_up(store, db, all_projectors(), batch_size=sizes[n % len(sizes)])
    catch_up(store, db, all_projectors(), batch_size=sizes[0])
    db.conn.close()
    rebuild(store, d / "full.db", all_projectors(), batch_size=1000)
    rebuild(store, d / "again.db", all_projectors(), batch_size=2)
    full = dump(d / "full.db")
    assert dump(d / "incremental.db") == full
    assert dump(d / "again.db") == full
    store.close()


FIX_STEPS = step.filter(lambda s: s[0] not in ("shot", "drop", "revert"))


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=25), FIX_STEPS)
def test_a_reverted_correction_leaves_no_trace_in_the_tables(tmp_path_factory, steps, fix):
    d = tmp_path_factory.mktemp("revert")
    store = EventStore(d / "events.db")
    log = Log(store)
    for n, s in enumerate(steps):
        log.append(s, n)
    rebuild(store, d / "before.db", all_projectors())
    added = log.append(fix, 999, kinds=dict(log.kinds))
    if added:
        store.append([correction({"kind": "revert", "correction_id": correction_id(added[0].event_id)})])
    rebuild(store, d / "after.db", all_projectors())
    before, after = dump(d / "before.db"), dump(d / "after.db")
    for t in ("corrections", "_checkpoints", "_projection_meta"):
        before.pop(t), after.pop(t)
    assert after == before
    store.close()
