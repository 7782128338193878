"""The generic `ranking` shape: overlapping screenshots of one list become one ranking with ranks.

Unit properties on `stitch`, and the whole path on real Total Battle crops: ingest (real OCR), the
domain tables in real SQLite, and a replay that gives the same tables.
"""
from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from observatory.cli import cli
from observatory.project.domain.ranking import stitch

TB = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "totalbattle"


def pages_of(values: list[int], size: int, overlap: int) -> list[list[tuple[str, int]]]:
    rows = [(f"p{i}", v) for i, v in enumerate(values)]
    step = size - overlap
    return [rows[i:i + size] for i in range(0, max(1, len(rows) - overlap), step)]


@given(values=st.lists(st.integers(0, 10**9), min_size=1, max_size=40).map(lambda v: sorted(v, reverse=True)),
       size=st.integers(2, 6), overlap=st.integers(1, 2), seed=st.integers(0, 1000))
def test_overlapping_pages_in_any_order_stitch_to_the_list_without_gaps(values, size, overlap, seed):
    if overlap >= size:
        overlap = size - 1
    pages = pages_of(values, size, overlap)
    shuffled = pages[:]
    random.Random(seed).shuffle(shuffled)
    order, gaps = stitch(shuffled)
    # ties in value may swap whole pages only when all their values are equal; compare values and players
    assert sorted(order) == sorted(f"p{i}" for i in range(len(values)))
    if len(set(values)) == len(values):
        assert order == [f"p{i}" for i in range(len(values))] and gaps == []
    assert [dict((p, v) for page in pages for p, v in page)[p] for p in order] == values


def test_a_missing_page_is_a_gap_before_the_first_row_after_it():
    pages = pages_of([100, 90, 80, 70, 60, 50, 40, 30, 20], size=3, overlap=1)  # p0-2, p2-4, p4-6, p6-8
    order, gaps = stitch([pages[0], pages[1], pages[3]])
    assert order == ["p0", "p1", "p2", "p3", "p4", "p6", "p7", "p8"]
    assert gaps == [5]


def test_pages_without_values_keep_their_capture_order():
    order, gaps = stitch([[("a", None), ("b", None)], [("b", None), ("c", None)]])
    assert order == ["a", "b", "c"] and gaps == []


def _tables(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {
            "scores": conn.execute("SELECT rank, rank_exact, tag, name, power, points, readings FROM tb_event_scores "
                                   "ORDER BY rank").fetchall(),
            "rankings": conn.execute("SELECT ranking_id, kind, entries, gaps, screenshots FROM rankings").fetchall(),
            "gaps": conn.execute("SELECT detail FROM review_queue WHERE reason = 'ranking_gap'").fetchall(),
        }
    finally:
        conn.close()


@pytest.mark.slow  # OCR over the sample crops
def test_total_battle_crops_become_one_ranking_with_ranks_and_replay_gives_the_same(home, tmp_path):
    drop = tmp_path / "phone"
    shutil.copytree(TB, drop, ignore=shutil.ignore_patterns("*.json"))
    result = CliRunner().invoke(cli, ["ingest", "--community", "K98", str(drop)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    db = home / "projections" / "observatory.db"
    got = _tables(db)
    assert [(k, n, s) for _, k, n, _, s in got["rankings"]] == [("tb_event_ranking", 36, 11)]
    scores = got["scores"]
    by_name = {row[3]: row for row in scores}
    # the overlap row of two screenshots is one entry read twice, at its place in the list
    assert by_name["Sador"][:2] == (7, 1) and by_name["Sador"][-1] == 2
    assert by_name["RobertCraven"][0] == 1 and by_name["Dexter"][0] == 13 and by_name["Anubi"][0] == 25
    assert by_name["Triple X"][4:6] == (1141887315, 297446582)
    # screenshots 0009-0027 are not in the set: the ranks after that hole are lower bounds, and review says so
    assert by_name["Cheffe Matthias"][:2] == (26, 0)
    assert [r[1] for r in scores] == [1] * 25 + [0] * 11
    assert got["rankings"][0][3] == 2 and "before rank 26, 30" in got["gaps"][0][0]
    (home / "projections" / "observatory.db").unlink()
    assert CliRunner().invoke(cli, ["replay"], catch_exceptions=False).exit_code == 0
    assert _tables(db) == got


@pytest.mark.slow  # OCR of two sample crops
def test_the_packs_canned_query_and_table_description_reach_datasette(home, tmp_path):
    from observatory.serve.config import config_for
    from observatory.settings import load_settings

    drop = tmp_path / "phone"
    drop.mkdir()
    for name in ("event_20260209_16_26_0001.png", "event_20260209_16_26_0002.png"):
        shutil.copy(TB / name, drop / name)
    assert CliRunner().invoke(cli, ["ingest", "--community", "K98", str(drop)], catch_exceptions=False).exit_code == 0
    meta = config_for(load_settings(), "127.0.0.1").metadata["databases"]["observatory"]
    assert "power" in meta["tables"]["tb_event_scores"]["columns"]
    sql = meta["queries"]["tb_event_leaderboard"]["sql"]
    conn = sqlite3.connect(home / "projections" / "observatory.db")
    rows = conn.execute(sql, {"community": "K98"}).fetchall()
    assert [(r[0], r[3]) for r in rows][:5] == [(1, "RobertCraven"), (2, "Herzog der Ropp"), (3, "Cordaginn"),
                                                 (4, "Bumblebee"), (5, "Court Jester Herzi")]
    assert len(rows) == 7


def test_pages_whose_values_tie_stitch_by_their_overlap_whatever_came_first():
    """values 1, 1, 0, 0 over two pages overlapping by two rows: the pages' values tie, the overlap decides."""
    a, b = [("p0", 1), ("p1", 1), ("p2", 0)], [("p1", 1), ("p2", 0), ("p3", 0)]
    assert stitch([b, a]) == (["p0", "p1", "p2", "p3"], [])
    assert stitch([a, b]) == (["p0", "p1", "p2", "p3"], [])
