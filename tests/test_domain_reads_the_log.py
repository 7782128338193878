"""The domain tables take their corrections from the log, not from the `corrections` audit table.

Built without the corrections projector at all, in small catch-ups, they must equal the
tables every projector builds in one replay.
"""

from __future__ import annotations

import sqlite3

from builders import correction, sha_of, shot
from observatory.correct.state import correction_id
from observatory.eventlog import EventStore
from observatory.identity import normalize
from observatory.project import all_projectors, catch_up, open_db
from observatory.project.domain import DomainConfig, DomainProjector
from observatory.project.domain.players import player_id
from observatory.project.domain.schema import TABLES
from observatory.project.rebuild import rebuild
from observatory.project.screenshots import ScreenshotsProjector

NAME = "Screenshot_20251112_173538_Whiteout Survival.jpg"
OTHER = "Screenshot_20251113_173538_Whiteout Survival.jpg"


def _rows(names: list[str]) -> list[dict]:
    return [{"rank": i + 1, "name": n, "damage": 10**6 * (9 - i)} for i, n in enumerate(names)]


def _tables(path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {t: sorted(map(repr, conn.execute(f"SELECT * FROM [{t}]"))) for t in TABLES}
    finally:
        conn.close()


def test_domain_tables_follow_corrections_without_the_corrections_table(tmp_path):
    store = EventStore(tmp_path / "events.db")
    only = open_db(tmp_path / "without.db")
    projectors = [ScreenshotsProjector(), DomainProjector(DomainConfig())]
    steps = [
        shot(NAME, "bear_damage", _rows(["[HEI]Valorin", "Mar", "Xoxo"]), {"trap_id": 1}),
        shot(OTHER, "bear_damage", _rows(["[HEI]Valorin", "Marra"]), {"trap_id": 1}),
        [correction({"kind": "delete_row", "screenshot_id": sha_of(f"HEI/{NAME}"), "row": {"field": "rank", "value": 3}})],
        [correction({"kind": "retract", "screenshot_id": sha_of(f"HEI/{OTHER}")})],
        [correction({"kind": "rename_player", "player_id": player_id("HEI", normalize("Mar")), "name": "Marra",
                     "community": "HEI"})],
    ]
    retract = None
    for events in steps:
        done = store.append(events)
        if events[0].event.type_name == "CorrectionApplied" and events[0].event.correction.kind == "retract":
            retract = done[0]
        catch_up(store, only, projectors, batch_size=2)
    before_revert = _tables(tmp_path / "without.db")
    store.append([correction({"kind": "revert", "correction_id": correction_id(retract.event_id)})])
    catch_up(store, only, projectors, batch_size=2)
    only.conn.close()

    rebuild(store, tmp_path / "all.db", all_projectors())
    after = _tables(tmp_path / "without.db")
    assert after == _tables(tmp_path / "all.db")
    assert after != before_revert  # the revert, read from the log, brought the retracted screenshot back
    assert not {r[0] for r in sqlite3.connect(tmp_path / "without.db").execute(
        "SELECT name FROM sqlite_master WHERE name = 'corrections'")}
