"""Every canned query, through Datasette's own test client, on projections built by the real projectors.

The season: all 39 labelled samples of HEI, plus captures that make the comparisons
meaningful (the previous week's contribution, an earlier hunt, the result mail of the
Foundry battle the sample sign-ups are for) and a few corrections.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from builders import correction, label, sample_events
from datasette_client import get, make_datasette, rows
from observatory.eventlog import EventStore
from observatory.ingest.blobs import BlobStore
from observatory.process.pipeline import project_now
from observatory.settings import Settings
from paths import BEAR
from paths import SAMPLES as WOS
from stores import append_events, build_projection

OVERVIEW = "Screenshot_20251113_233005_Whiteout Survival.jpg"
CONTRIBUTION = "Screenshot_20251112_121042_Whiteout Survival.jpg"
FOUNDRY_RESULT = "Screenshot_20251114_001505_Whiteout Survival.jpg"
SHOWED_UP = 2  # Foundry combatants who joined and scored


def joined_names(images: list[Path]) -> list[str]:
    names = [r["name"] for i in images if label(i)["kind"] == "foundry_signup" for r in label(i)["rows"] if r.get("status") == "join"]
    return sorted(set(names))


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    if not WOS.is_dir():
        pytest.skip(f"shared samples not found at {WOS}")
    settings = Settings(home=tmp_path_factory.mktemp("season"))
    images = sorted(WOS.glob("*.jpg"))
    build_projection(settings, images)
    blobs = BlobStore(settings.blobs_dir, settings.events_dir)
    contribution = label(WOS / CONTRIBUTION)["rows"]
    bear = label(WOS / BEAR)["rows"]
    joined = joined_names(images)
    extra = [
        # the week before: everyone had 1,000 points less per rank below first
        *sample_events(WOS / CONTRIBUTION, blobs, copy="prev-", captured="2025-11-05T12:10:42+00:00",
                       rows=[{**r, "contribution": r["contribution"] - 1000 * i} for i, r in enumerate(contribution)]),
        # an earlier hunt, two days before, with 80% of the damage
        *sample_events(WOS / BEAR, blobs, copy="early-", captured="2025-11-09T17:35:38+00:00",
                       rows=[{**r, "damage": r["damage"] * 4 // 5} for r in bear]),
        *sample_events(WOS / OVERVIEW, blobs, copy="early-", captured="2025-11-09T17:40:00+00:00",
                       meta={"rallies": 40, "total_damage": 40_000_000_000, "mail_time": "2025-11-09 17:30:05"},
                       rows=[{**r, "damage": r["damage"] * 4 // 5} for r in label(WOS / OVERVIEW)["rows"]]),
        # the result mail of the battle the sample sign-ups are for: two of the joined players scored
        *sample_events(WOS / FOUNDRY_RESULT, blobs, copy="week-", captured="2025-11-16T00:15:05+00:00",
                       meta={"legion": 1, "mail_time": "2025-11-15 23:00:16", "result": "victory"},
                       rows=[{"rank": i + 1, "name": n, "points": 9000 - 1000 * i} for i, n in enumerate(joined[:SHOWED_UP])]),
    ]
    append_events(settings, extra)
    with EventStore(settings.events_db) as store:
        note = correction({"kind": "note", "target": "hunt", "text": "Trap 1, reset after server merge"}, actor="officer-anna")
        store.append([note])
        project_now(settings, store)
    ds = make_datasette(settings)
    return settings, ds, {"joined": joined, "bear": bear}


def q(ds, name: str, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    from urllib.parse import urlencode

    return rows(ds, f"/observatory/{name}.json?{urlencode(params)}")


def test_hunt_leaderboard_defaults_to_the_latest_hunt_and_ranks_by_damage(season):
    _, ds, facts = season
    board = q(ds, "hunt_leaderboard")
    top = facts["bear"][0]
    assert board[0]["damage"] == top["damage"] and top["name"].endswith(board[0]["name"])
    assert [r["damage"] for r in board] == sorted((r["damage"] for r in board), reverse=True)
    assert [r["rank"] for r in board] == [1, 2, 3, 4, 5, 11, 12, 13, 14, 15]  # the two labelled pages of the ranking
    assert board[0]["started_at"].startswith("2025-11-11")
    assert board[0]["share_pct"] == round(100 * top["damage"] / sum(r["damage"] for r in board), 1)
    earlier = q(ds, "hunt_comparison")[-1]["hunt_id"]
    old = q(ds, "hunt_leaderboard", hunt_id=earlier)
    assert old[0]["damage"] == top["damage"] * 4 // 5 and {r["hunt_id"] for r in old} == {earlier}


def test_hunt_comparison_lists_hunts_with_rallies_and_the_change(season):
    _, ds, _ = season
    hunts = q(ds, "hunt_comparison", community="HEI")
    assert len(hunts) == 2
    latest, earlier = hunts
    assert (latest["rallies"], latest["total_damage"]) == (50, 57815870631)
    assert (earlier["rallies"], earlier["total_damage"]) == (40, 40_000_000_000)
    assert latest["change_vs_previous"] == 57815870631 - 40_000_000_000
    # ranks 1-5 and 11-15 of the labelled pages (the mail's 1-4 are the same players); the earlier hunt is one page
    assert (latest["participants"], earlier["participants"]) == (10, 5) and earlier["change_vs_previous"] is None
    assert q(ds, "hunt_comparison", community="nobody") == []
    # a short page still compares its hunts against the ones it leaves out
    assert q(ds, "hunt_comparison", limit="1") == [latest]


def test_player_history_has_power_damage_and_contribution(season):
    _, ds, facts = season
    xoxo = facts["bear"][3]  # [HEI]Xoxo: on the bear ranking, the roster and the contribution list
    history = q(ds, "player_history", player=xoxo["name"])
    kinds = {r["what"] for r in history}
    assert {"power", "bear damage", "weekly contribution"} <= kinds, kinds
    damage = sorted(r["value"] for r in history if r["what"] == "bear damage")
    assert damage == [xoxo["damage"] * 4 // 5, xoxo["damage"]]
    assert [r["at"] for r in history] == sorted((r["at"] for r in history), reverse=True)
    by_id = q(ds, "player_history", player=history[0]["player_id"])
    assert by_id == history
    untagged = xoxo["name"].split("]", 1)[1]
    assert q(ds, "player_history", player=untagged) == history
    assert q(ds, "player_history", player=f"[ZZZ]{untagged}") == []  # a tag that is not the player's
    assert q(ds, "player_history", player=xoxo["name"], limit="2") == history[:2]


def test_weekly_contribution_shows_the_change_against_the_previous_week(season):
    _, ds, _ = season
    week = q(ds, "weekly_contribution")
    # ranks 1-8 on the first page, then 7 new ranks on each of the 6 others (rank 8, pinned, repeats)
    assert {r["week"] for r in week} == {"2025-11-10"} and len(week) == 50
    top = week[0]
    assert top["contribution"] == max(r["contribution"] for r in week)
    compared = [r for r in week if r["previous_week"] is not None]
    assert all(r["change"] == r["contribution"] - r["previous_week"] for r in compared)
    # the week before is the first page only, with 1,000 less per rank below first
    assert [(r["rank"], r["change"]) for r in compared] == [(i + 1, 1000 * i) for i in range(8)]
    before = q(ds, "weekly_contribution", week="2025-11-03")
    assert len(before) == 8 and all(r["previous_week"] is None for r in before)
    assert q(ds, "weekly_contribution", community="HEI") == week
    assert q(ds, "weekly_contribution", community="nobody") == []


def test_no_shows_lists_foundry_joiners_without_points_and_unordered_championship_registrants(season):
    _, ds, facts = season
    shows = q(ds, "no_shows", community="HEI")
    foundry = {r["name"] for r in shows if r["event"] == "foundry"}
    assert foundry == set(facts["joined"][SHOWED_UP:])
    championship = [r for r in shows if r["event"] == "championship"]
    # the right lane's three pages of registrants after its battle order: 5 names each
    assert len(championship) == 15 and all(r["status"] == "registered, no battle order" for r in championship)


def test_review_queue_filters_by_reason(season):
    _, ds, _ = season
    everything = q(ds, "review_queue_open")
    reasons = {r["reason"] for r in everything}
    by_reason = {reason: sum(r["reason"] == reason for r in everything) for reason in reasons}
    assert by_reason == {"duplicate_player": 1, "unmatched_name": 25}  # Mar/Marra; 25 names seen once
    one = sorted(reasons)[0]
    assert {r["reason"] for r in q(ds, "review_queue_open", reason=one)} == {one}


def test_corrections_audit_shows_who_and_why(season):
    _, ds, _ = season
    audit = q(ds, "corrections_audit")
    assert [(r["actor"], r["kind"], r["status"]) for r in audit] == [("officer-anna", "note", "active")]
    assert q(ds, "corrections_audit", actor="someone-else") == []


def test_screenshots_needing_attention_lists_the_unknown_screen(season):
    _, ds, _ = season
    attention = q(ds, "screenshots_needing_attention")
    assert [(r["problem"], r["kind"]) for r in attention] == [("failed", "unknown")]
    assert attention[0]["original_path"].endswith("Screenshot_20251111_192456_Whiteout Survival.jpg")
    everything = q(ds, "screenshots_needing_attention", min_confidence="0.99")
    assert len(everything) == 43  # every screenshot: 39 samples and 4 extra captures (their readings are 0.93)
    newest = q(ds, "screenshots_needing_attention", min_confidence="0.99", limit="5")
    assert newest == everything[:5]
    assert [r["captured_at"] for r in everything] == sorted((r["captured_at"] for r in everything), reverse=True)
    assert q(ds, "screenshots_needing_attention", community="HEI", min_confidence="0.99") == everything
    assert q(ds, "screenshots_needing_attention", community="nobody") == []


def test_a_canned_query_exports_as_csv_and_json(season):
    _, ds, _ = season
    resp = get(ds, "/observatory/hunt_leaderboard.csv")
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"  # Datasette's CSV, shown in the browser
    table = list(csv.DictReader(io.StringIO(resp.text)))
    as_json = q(ds, "hunt_leaderboard")
    assert len(table) == len(as_json) == 10
    assert [int(r["damage"]) for r in table] == [r["damage"] for r in as_json]
    assert table[0]["name"] == as_json[0]["name"]
    resp = get(ds, "/observatory/hunt_leaderboard.json")
    assert resp.json()["columns"][:4] == ["rank", "name", "current_name", "damage"]


def test_query_pages_show_thumbnails(season):
    _, ds, _ = season
    page = get(ds, "/observatory/hunt_leaderboard")
    assert page.status_code == 200 and "/-/thumbnail/" in page.text
