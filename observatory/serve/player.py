"""`/-/player/<player_id>`: one player on one page, every value beside the pixels it was read from.

Which tables hold a player's events is read from the domain schema (`schema.TABLES`), not named
here: any table with `player_id` and `screenshot_id` columns is a table of readings, and the table
whose single-column key it carries (`hunt_id` -> bear_hunts, `ranking_id` -> rankings) is its event.
A new game's ranking entries table therefore shows up on the page without a line of code, and so do
the values a snapshot kind declares it measures (`read_model.measures`: a roster's chief power), over time.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from datasette.utils.asgi import NotFound, Response

from ..games import kinds, read_model
from ..project.domain.schema import COLUMNS, TABLES
from .review import crop_url



def _measured() -> list[tuple[str, str, str]]:
    """(table, column, measure) of every snapshot kind that declares what its fields measure (a roster's chief
    power): shown over time in a section of their own, not as events."""
    out = []
    for k in kinds().values():
        rm = k.read_model
        if rm is not None and rm.shape == "snapshot" and rm.table and rm.players:
            out += [(rm.table, f, m) for f, m in rm.measures.items() if f in COLUMNS.get(rm.table, ())]
    return sorted(set(out))


MEASURED = _measured()
# Tables about players that are not events (measures over time and the names have their own sections).
NOT_EVENTS = {"players", "player_aliases", "review_queue"} | {t for t, _, _ in MEASURED}
# When an event happened, best first: its start, else the week or period it belongs to, else its capture.
WHEN = ("started_at", "played_at", "week_start", "period_start", "captured_at")
# Columns that say where a value came from or who it is, not what it is.
NOT_VALUES = {"player_id", "community", "name", "tag", "confidence", "screenshot_id", "readings", "rank_exact",
              "captured_at", "period_start", "week_start", "snapshot_id", "score_full", "ours", "team"}
ORDER = ("rank", "order")  # places in a list, shown beside the value rather than as it


@dataclass(frozen=True)
class Source:
    """A table of readings and the event table it belongs to (None: the table is its own event, e.g. a week)."""

    table: str
    key: str | None  # the column naming the event
    parent: str | None
    when: str | None  # the column with the event's time, in the parent if any, else in the table
    when_in_parent: bool
    kind_column: bool  # the parent says which kind of event (rankings.kind, wars.kind)
    values: tuple[str, ...]


@lru_cache(maxsize=1)
def sources() -> tuple[Source, ...]:
    """Every table of player readings in the schema, with its event table."""
    conn = sqlite3.connect(":memory:")
    try:
        for name, cols in TABLES.items():
            conn.execute(f"CREATE TABLE [{name}] ({cols})")
        info = {name: conn.execute(f"PRAGMA table_info([{name}])").fetchall() for name in TABLES}
    finally:
        conn.close()
    columns = {name: [r[1] for r in rows] for name, rows in info.items()}
    single_keys = {rows_pk[0][1]: name for name, rows in info.items()
                   if len(rows_pk := [r for r in rows if r[5]]) == 1 and rows_pk[0][1].endswith("_id")}
    out = []
    for name, cols in columns.items():
        if name in NOT_EVENTS or "player_id" not in cols or "screenshot_id" not in cols:
            continue
        key = next((c for c in cols if c in single_keys and single_keys[c] != name and c not in ("player_id", "screenshot_id")), None)
        parent = single_keys.get(key) if key else None
        when = next((c for c in WHEN if parent and c in columns[parent]), None)
        in_parent = when is not None
        when = when or next((c for c in WHEN if c in cols), None)
        values = tuple(c for c in cols if c not in NOT_VALUES and c != key)
        out.append(Source(name, key, parent, when, in_parent, bool(parent and "kind" in columns[parent]), values))
    return tuple(out)


@dataclass
class Event:
    table: str
    event: str  # what it was: the table, and the event's kind when it has one
    event_id: str | None
    at: str | None
    name: str | None  # the name as read at the time
    values: dict[str, Any]
    field: str | None  # the value the crop shows
    screenshot_id: str | None
    confidence: float | None

    @property
    def value(self) -> Any:
        return self.values.get(self.field) if self.field else None


@dataclass
class Profile:
    player_id: str
    community: str
    name: str | None
    tag: str | None
    first_seen: str | None
    last_seen: str | None
    aliases: list[dict[str, Any]] = field(default_factory=list)
    power: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _has(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [table]).fetchone() is not None


def _in_range(at: str | None, since: str, until: str) -> bool:
    """`since`/`until` are dates (YYYY-MM-DD), inclusive; an event without a time is kept only when no range is set."""
    if not since and not until:
        return True
    if not at:
        return False
    day = at[:10]
    return (not since or day >= since) and (not until or day <= until)


def _value_field(kind: str | None, columns: tuple[str, ...], row: dict[str, Any]) -> str | None:
    """The value a reading is about: its kind's declared value (a ranking's points), else its first number."""
    rm = read_model(kind) if kind else None
    if rm is not None and rm.value in row and row[rm.value] is not None:
        return rm.value
    numbers = [c for c in columns if c not in ORDER and isinstance(row.get(c), (int, float))]
    return numbers[0] if numbers else next((c for c in columns if row.get(c) is not None), None)


def events(conn: sqlite3.Connection, player_id: str, since: str = "", until: str = "") -> list[Event]:
    """Every reading of the player in every event table, newest first."""
    out: list[Event] = []
    for s in sources():
        if not _has(conn, s.table) or (s.parent and not _has(conn, s.parent)):
            continue
        when = f"e.[{s.when}]" if s.when_in_parent else (f"r.[{s.when}]" if s.when else "NULL")
        kind = "e.kind" if s.kind_column else "NULL"
        join = f"LEFT JOIN [{s.parent}] e ON e.[{s.key}] = r.[{s.key}]" if s.parent else ""
        key = f"r.[{s.key}]" if s.key else "NULL"
        cols = ", ".join(f"r.[{c}]" for c in s.values)
        sql = (f"SELECT {when} AS _at, {kind} AS _kind, {key} AS _event, r.name AS _name, r.screenshot_id AS _sid, "
               f"r.confidence AS _conf{', ' + cols if cols else ''} FROM [{s.table}] r {join} WHERE r.player_id = ?")
        for row in _rows(conn, sql, [player_id]):
            at = row.pop("_at")
            if not _in_range(at, since, until):
                continue
            kind, event_id, name = row.pop("_kind"), row.pop("_event"), row.pop("_name")
            sid, conf = row.pop("_sid"), row.pop("_conf")
            shown = _value_field(kind, s.values, row)
            out.append(Event(s.table, f"{s.table} ({kind})" if kind else s.table, event_id, at, name, row, shown,
                             sid, conf))
    out.sort(key=lambda e: (e.at or "", e.table), reverse=True)
    return out


def _corrections(conn: sqlite3.Connection, player_id: str, names: set[str], screenshots: set[str]) -> list[dict[str, Any]]:
    """Corrections naming the player, or fixing a row of theirs (a screenshot of theirs, one of their names)."""
    if not _has(conn, "corrections"):
        return []
    out = []
    for c in _rows(conn, "SELECT correction_id, seq, recorded_at, actor, reason, kind, target, detail, status "
                         "FROM corrections ORDER BY seq DESC", []):
        detail = c["detail"] or ""
        mine = c["target"] == player_id or json.dumps(player_id) in detail
        if not mine and (c["target"] in screenshots or c["kind"] in ("link_alias", "unlink_alias")):
            mine = any(json.dumps(n, ensure_ascii=False)[1:-1] in detail for n in names if n)
        if mine:
            out.append(c)
    return out


def profile(conn: sqlite3.Connection, player_id: str, since: str = "", until: str = "") -> Profile | None:
    """Everything the projections know about one player, or None for a player id they do not hold."""
    found = _rows(conn, "SELECT * FROM players WHERE player_id = ?", [player_id])
    if not found:
        return None
    p = found[0]
    prof = Profile(player_id, p["community"], p["display_name"], p["tag"], p["first_seen"], p["last_seen"])
    prof.aliases = _rows(conn, "SELECT name, tag, match, first_seen, last_seen, sightings, screenshot_id "
                               "FROM player_aliases WHERE player_id = ? ORDER BY first_seen, name", [player_id])
    for table, col, measure in MEASURED:
        prof.power += [r for r in _rows(conn, f"SELECT captured_at, name, [{col}] AS value, confidence, screenshot_id, "
                                              f"? AS measure, ? AS field, ? AS source FROM [{table}] "
                                              "WHERE player_id = ? ORDER BY captured_at", [measure, col, table, player_id])
                       if _in_range(r["captured_at"], since, until)]
    prof.power.sort(key=lambda r: r["captured_at"] or "")
    prof.events = events(conn, player_id, since, until)
    names = {a["name"] for a in prof.aliases} | {e.name for e in prof.events if e.name} | {prof.name or ""}
    shots = {e.screenshot_id for e in prof.events if e.screenshot_id} | {r["screenshot_id"] for r in prof.power}
    prof.corrections = _corrections(conn, player_id, names, shots)
    return prof


CSV_COLUMNS = ("at", "event", "event_id", "name_then", "current_name", "field", "value", "values", "confidence",
               "screenshot_id")


def to_csv(prof: Profile) -> str:
    """The page's events (and power readings) as CSV for a spreadsheet: UTF-8 with a BOM, so Excel reads the names."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    rows = [(e.at, e.event, e.event_id, e.name, prof.name, e.field, e.value,
             "; ".join(f"{k}={v}" for k, v in e.values.items() if v is not None), e.confidence, e.screenshot_id)
            for e in prof.events]
    rows += [(r["captured_at"], r["source"], None, r["name"], prof.name, r["field"], r["value"], "",
              r["confidence"], r["screenshot_id"]) for r in prof.power]
    rows.sort(key=lambda r: r[0] or "", reverse=True)
    w.writerows(rows)
    return "\ufeff" + buf.getvalue()


# --- the route ---------------------------------------------------------------------------------------

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


async def player_view(datasette, request):  # type: ignore[no-untyped-def]
    """The page, or with `.csv` its events as a spreadsheet; `since`/`until` (YYYY-MM-DD) narrow both alike."""
    config = datasette.plugin_config("observatory")
    if config is None:
        raise NotFound("Observatory is not configured")
    db = config["database"]
    await datasette.ensure_permissions(
        request.actor, [("view-table", (db, "players")), ("view-database", db), "view-instance"])
    pid = unquote(request.url_vars["player_id"])
    since, until = (request.args.get(k, "").strip() for k in ("since", "until"))
    bad = [d for d in (since, until) if d and not DATE.match(d)]
    path = datasette.get_database(db).path

    def read() -> Profile | None:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            return profile(conn, pid, "" if bad else since, "" if bad else until)
        finally:
            conn.close()

    prof = await asyncio.to_thread(read)
    if prof is None:
        raise NotFound(f"No player {pid!r} (merged into another, or never seen)")
    if request.url_vars.get("format") == "csv":
        name = re.sub(r"[^\w.-]+", "_", prof.name or pid)
        return Response(to_csv(prof), content_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="player-{name}.csv"'})
    here = urlencode({k: x for k, x in (("since", since), ("until", until)) if x})
    base = datasette.urls.path(f"/-/player/{quote(pid, safe='')}")
    return Response.html(await datasette.render_template("observatory_player.html", {
        "p": prof, "since": since, "until": until, "error": f"not a date (YYYY-MM-DD): {', '.join(bad)}" if bad else None,
        "crop_url": crop_url, "page_url": base, "csv_url": f"{base}.csv" + (f"?{here}" if here else ""),
        "review_url": datasette.urls.path("/-/review"),
        "row_url": lambda table, sid: datasette.urls.row(db, "screenshots", sid),
    }, request=request))
