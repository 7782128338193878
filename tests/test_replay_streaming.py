"""A replay derives each community straight from the log, in worker processes or not, and gets a catch-up's tables.

The replay folds a community's screenshot events into the screenshots `load_shots` reads
back after a catch-up (project/domain/replay.py), and derives communities in other
processes while the facts are written (fanout.py). Checked here: the fold against
load_shots on random logs over two communities (re-ingests into the other one, re-reads,
failures); a replay in 0, 1 and 2 worker processes against each other (every table, rowids
included) and against a catch-up in random steps, on random logs with corrections and on
the replay benchmark's realistic log of eight communities.
"""

from __future__ import annotations

import importlib.util
import random
import sqlite3
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import classified, correction, duplicate, extracted, failed, ingested, sha
from observatory.correct.state import correction_id
from observatory.eventlog import EventStore, KeySource
from observatory.eventlog.migrate import copy, plan
from observatory.project import all_projectors, catch_up, open_db
from observatory.project.domain.fanout import DomainReplay
from observatory.project.domain.model import DomainConfig
from observatory.project.domain.players import player_id
from observatory.project.domain.replay import SHOT_TYPES, fold_shots
from observatory.project.domain.shots import load_shots
from observatory.project.framework import ensure_schema
from observatory.project.rebuild import rebuild
from stores import dump

REPO = Path(__file__).resolve().parents[1]
COMMUNITIES = ["HEI", "KIL"]


def rows_by_rowid(path: Path) -> dict[str, list]:
    """Every table with its rowids, in rowid order: two files compare equal when written row for row alike."""
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: conn.execute(f"SELECT rowid, * FROM [{t}] ORDER BY rowid").fetchall() for t in tables}
    finally:
        conn.close()


step = st.one_of(
    st.tuples(st.just("ingest"), st.integers(0, 7), st.integers(0, 1)),
    st.tuples(st.just("reingest_elsewhere"), st.integers(0, 7)),  # no key, the other community: the first stands
    st.tuples(st.just("classify"), st.integers(0, 7), st.integers(0, 4)),
    st.tuples(st.just("extract"), st.integers(0, 7), st.integers(0, 4)),
    st.tuples(st.just("fail"), st.integers(0, 7)),
    st.tuples(st.just("dup"), st.integers(0, 7)),
    st.tuples(st.just("set_value"), st.integers(0, 7), st.integers(1, 3)),
    st.tuples(st.just("retract"), st.integers(0, 7)),
    st.tuples(st.just("rename"), st.sampled_from(["HEI", "KIL", "NEW"]), st.integers(0, 2)),  # NEW: no screenshots
    st.tuples(st.just("revert"), st.integers(0, 20)),
)


def _append(store: EventStore, steps: list, cids: list[str]) -> None:
    home: dict[int, int] = {}
    for n, (op, i, *a) in enumerate(steps):
        if op in ("classify", "extract", "fail", "dup", "set_value", "retract") and i not in home:
            continue  # causal, as the product appends: what is about a screenshot comes after its ingest
        if op == "reingest_elsewhere" and i in home:
            batch = [ingested(i, COMMUNITIES[1 - home[i]], key=False)]
        elif op in ("ingest", "reingest_elsewhere"):
            a = a or [1]
            home.setdefault(i, a[0])
            batch = [ingested(i, COMMUNITIES[a[0]])]
        elif op == "classify":
            batch = [classified(i, confidence=a[0] / 4, request=f"r{n}")]
        elif op == "extract":
            batch = [extracted(i, n_rows=a[0], version=f"v{n}", base=n, request=f"r{n}",
                               meta={"trap_id": 1 + n % 2})]
        elif op == "fail":
            batch = [failed(i, f"reason {n}", request=f"r{n}")]
        elif op == "dup":
            batch = [duplicate(i, f"HEI/copy{n}.jpg")]
        elif op == "set_value":
            batch = [correction({"kind": "set_value", "screenshot_id": sha(i), "row": {"field": "rank", "value": a[0]},
                                 "field": "damage", "value": 10**6 * n})]
        elif op == "retract":
            batch = [correction({"kind": "retract", "screenshot_id": sha(i)})]
        elif op == "rename":
            batch = [correction({"kind": "rename_player", "community": i, "player_id": player_id(i, f"player{a[0]}"),
                                 "name": f"Boss{n}"})]
        else:
            if not cids:
                continue
            batch = [correction({"kind": "revert", "correction_id": cids[i % len(cids)]})]
        added = store.append(batch)
        cids += [correction_id(ev.event_id) for ev in added if ev.type == "CorrectionApplied"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, min_size=1, max_size=40))
def test_a_community_folded_from_the_log_is_what_load_shots_reads_back(tmp_path_factory, steps):
    d = tmp_path_factory.mktemp("fold")
    store = EventStore(d / "events.db")
    _append(store, steps, [])
    db = open_db(d / "p.db")
    catch_up(store, db, all_projectors(), batch_size=3)
    until = store.last_seq()
    ingests = store.ingests_by_community(until=until)
    for community in COMMUNITIES:
        folded = fold_shots(community, store.streams_payloads(ingests.get(community, ()), SHOT_TYPES, until=until,
                                                              chunk=2))  # streams whose ingests span chunks too
        # repr: 1 and 1.0 compare equal, but a derivation may print them differently
        assert repr(folded) == repr(load_shots(db.conn, community))
    db.conn.close()
    store.close()


def _domain_only(d: Path, store: EventStore, name: str, workers: int, share: bool) -> dict[str, list]:
    """The domain tables of `store` as DomainReplay alone writes them into an empty projections file."""
    db = open_db(d / name, fast=True)
    ensure_schema(db, all_projectors())
    replay = DomainReplay(store, store.last_seq(), DomainConfig(), target=d / name, workers=workers, share=share)
    try:
        replay.finish(db.conn, lambda: [("domain_corrections_seen", str(replay.newest_correction()))])
    finally:
        replay.close()
    db.conn.close()
    return rows_by_rowid(d / name)


@pytest.mark.slow  # worker processes start for each example: about a second
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_a_replay_in_worker_processes_writes_what_one_process_writes(tmp_path_factory, steps, rnd):
    d = tmp_path_factory.mktemp("fanout")
    store = EventStore(d / "events.db")
    _append(store, [("ingest", 6, 0), ("ingest", 7, 1), *steps], [])  # two communities at least: workers start
    # every community derived by the workers (a small log's main process would otherwise take them all first)
    serial = _domain_only(d, store, "serial.db", 0, True)
    assert _domain_only(d, store, "workers.db", rnd.choice([1, 2]), False) == serial
    rebuild(store, d / "serial.db", all_projectors(), workers=0)
    rebuild(store, d / "parallel.db", all_projectors(), workers=rnd.choice([1, 2]))
    assert rows_by_rowid(d / "parallel.db") == rows_by_rowid(d / "serial.db")
    db = open_db(d / "incremental.db")
    last = store.last_seq()
    done = 0
    while done < last:
        done = min(last, done + rnd.randint(1, 8))
        catch_up(store, db, all_projectors(), batch_size=rnd.randint(1, 5), until=done)
    catch_up(store, db, all_projectors())
    db.conn.close()
    assert dump(d / "incremental.db") == dump(d / "serial.db")
    assert not list(d.glob(".*.rebuild-*")), "the workers' files are removed"
    store.close()


def _benchmark():
    spec = importlib.util.spec_from_file_location("replay_benchmark", REPO / "benchmarks" / "replay.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["replay_benchmark"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.slow  # a realistic log of 6,000 events, replayed three times and caught up once
def test_on_a_realistic_log_replays_in_one_two_and_three_processes_equal_a_catch_up(tmp_path):
    log = tmp_path / "events.db"
    _benchmark().generate(log, 6000)  # eight communities, corrections of every kind
    store = EventStore(log, readonly=True)
    files = {}
    for workers in (0, 1, 2):
        files[workers] = tmp_path / f"replay-{workers}.db"
        assert rebuild(store, files[workers], all_projectors(), workers=workers) == 6000
    serial = rows_by_rowid(files[0])
    assert sum(len(serial[t]) for t in ("players", "bear_scores", "contribution_snapshots", "roster_snapshots")) > 1000
    assert rows_by_rowid(files[1]) == serial
    assert rows_by_rowid(files[2]) == serial
    db = open_db(tmp_path / "incremental.db")
    rng = random.Random(16)
    done = 0
    while done < 6000:
        done = min(6000, done + rng.randint(1, 1500))
        catch_up(store, db, all_projectors(), batch_size=rng.choice((7, 500, 5000)), until=done)
    db.conn.close()
    assert dump(tmp_path / "incremental.db") == dump(files[0])
    assert not list(tmp_path.glob(".*.rebuild-*")), "the workers' files are removed"
    store.close()


@pytest.mark.slow  # a real PostgreSQL server, and worker processes
def test_a_postgresql_log_replays_in_worker_processes_as_sqlite_does_in_one(tmp_path, pg_url):
    key = KeySource(secret="k" * 32)
    src = EventStore(tmp_path / "events.db", key=key)
    _append(src, [("ingest", 0, 0), ("ingest", 1, 1), ("ingest", 2, 0), ("extract", 0, 3), ("extract", 1, 4),
                  ("reingest_elsewhere", 2), ("classify", 2, 2), ("set_value", 0, 1), ("rename", "NEW", 1),
                  ("extract", 0, 2), ("fail", 1)], [])
    pg = EventStore(pg_url, key=key, keying=False)
    assert copy(src, pg, plan(src, pg)) == src.count()  # the very same rows, event ids included
    serial = _domain_only(tmp_path, src, "sqlite.db", 0, True)
    assert serial["players"] and serial["bear_scores"]
    assert _domain_only(tmp_path, pg, "postgresql.db", 2, False) == serial
    rebuild(src, tmp_path / "sqlite-full.db", all_projectors(), workers=0)
    rebuild(pg, tmp_path / "postgresql-full.db", all_projectors(), workers=1)
    assert rows_by_rowid(tmp_path / "postgresql-full.db") == rows_by_rowid(tmp_path / "sqlite-full.db")
    for s in (src, pg):
        s.close()
