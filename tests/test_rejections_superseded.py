"""A refusal that a later ingest of the same path answered (the file completed) no longer stands."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st
from PIL import Image

from builders import duplicate, ingested, rejected, sha
from observatory.cli import cli
from observatory.eventlog import EventStore, Pending
from observatory.project import all_projectors, catch_up, open_db


def jpeg_bytes(size: tuple[int, int] = (120, 120)) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def cli_run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def rejected_files(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT original_path, fingerprint, code, event_seq, superseded_seq FROM rejected_files "
                          "ORDER BY event_seq").fetchall()


def test_a_half_written_jpeg_that_completes_is_no_longer_listed_as_rejected(home: Path) -> None:
    inbox = home / "watch_dir" / "HEI"
    inbox.mkdir(parents=True)
    target = inbox / "Screenshot_20251112_173538_Whiteout Survival.jpg"
    full = jpeg_bytes()
    target.write_bytes(full[: len(full) // 2])  # the sync client stalled half-way
    assert cli_run("ingest", "--no-process", str(home / "watch_dir"))[0] == 0
    _, out = cli_run("status", "--json")
    before = json.loads(out)["screenshots"]
    assert before["rejected"] == 1 and before["rejections"][0]["code"] == "corrupt"

    target.write_bytes(full)  # ... and finished
    code, out = cli_run("ingest", "--no-process", str(home / "watch_dir"))
    assert code == 0 and "Ingested 1" in out, out
    _, out = cli_run("status", "--json")
    after = json.loads(out)["screenshots"]
    assert after["rejected"] == 0 and after["rejections"] == []
    _, text = cli_run("status")
    assert "0 file(s) rejected" in text and "rejected  HEI/" not in text

    with EventStore(home / "events" / "events.db", readonly=True) as store:
        (ingest,) = store.read(types=["ScreenshotIngested"])
    db = home / "projections" / "observatory.db"
    live = rejected_files(db)
    assert [(r[0], r[2], r[4]) for r in live] == [("HEI/" + target.name, "corrupt", ingest.seq)]  # kept, marked
    assert cli_run("replay")[0] == 0
    assert rejected_files(db) == live  # a pure projection of the log


# -- the rule, on random histories -----------------------------------------------------------------

PLACES = [("HEI", "HEI/a.jpg"), ("HEI", "HEI/b.jpg"), ("KOR", "HEI/a.jpg")]  # the same path in another community is another file
steps = st.lists(st.tuples(st.sampled_from(["reject", "ingest", "sighting"]), st.sampled_from(range(len(PLACES)))),
                 min_size=1, max_size=25)


def to_events(history: list[tuple[str, int]]) -> list[Pending]:
    out = []
    for n, (what, place) in enumerate(history):
        community, path = PLACES[place]
        if what == "reject":
            out.append(rejected(path, f"{n}:{n}", "corrupt", community=community, reason="does not decode", byte_size=n))
        elif what == "ingest":
            out.append(ingested(sha(n), community, path=path, name=path.rsplit("/", 1)[-1], byte_size=10, width=1, height=1))
        else:
            out.append(duplicate(sha(n), path, community))
    return out


def expected(history: list[tuple[str, int]]) -> list[tuple[int, int | None]]:
    """(event seq, superseded_seq) per refusal: the first later ingest or sighting of the same community and path."""
    rows = []
    for i, (what, place) in enumerate(history):
        if what == "reject":
            later = [j + 1 for j in range(i + 1, len(history)) if history[j][1] == place and history[j][0] != "reject"]
            rows.append((i + 1, later[0] if later else None))
    return rows


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(history=steps, batch=st.integers(min_value=1, max_value=8), split=st.integers(min_value=0, max_value=25))
def test_superseded_refusals_are_a_pure_function_of_the_log(history: list[tuple[str, int]], batch: int, split: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with EventStore(Path(tmp) / "events.db") as store:
            events = to_events(history)
            store.append(events[:split])  # live: some events projected before the rest arrive, in small batches
            live = open_db(Path(tmp) / "live.db")
            catch_up(store, live, all_projectors(), batch_size=batch)
            if events[split:]:
                store.append(events[split:])
            catch_up(store, live, all_projectors(), batch_size=batch)
            fresh = open_db(Path(tmp) / "fresh.db")
            catch_up(store, fresh, all_projectors(), batch_size=5000)  # replay: everything in one batch
        got = live.execute("SELECT event_seq, superseded_seq FROM rejected_files ORDER BY event_seq").fetchall()
        assert got == expected(history)
        assert got == fresh.execute("SELECT event_seq, superseded_seq FROM rejected_files ORDER BY event_seq").fetchall()
        live.conn.close()
        fresh.conn.close()
