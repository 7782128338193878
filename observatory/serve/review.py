"""`/-/review`: what needs a human, with the screenshot beside it and one-click fixes.

Every fix is the CLI's: the same builders of `observatory.correct.validate` check the form
against the current projections (a bad value is a message on the page and nothing is
appended), the same `CorrectionApplied` is appended (actor: the logged-in officer), and the
projections are brought up to date as `observatory correct` does. The page after a fix polls
the projections' checkpoint until they include it. A GET never writes; a POST needs an
officer (or, without logins, a loopback client) and the form's CSRF token.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from datasette.utils.asgi import Forbidden, Response
from rapidfuzz import fuzz, process

from ..correct import validate as v
from ..correct.commands import _pending
from ..correct.fields import KINDS, ROW_FIELDS
from ..correct.rows import address_of, doubtful_fields, row_name
from ..correct.state import correction_id
from ..eventlog import LogKeyError, log_exists, open_log
from ..identity import normalize, parse_name
from ..process.pipeline import project_now
from ..project.domain.projector import DIRTY
from ..project.framework import CHECKPOINTS
from ..settings import Settings
from . import runtime
from .crops import WHOLE, locate
from .roles import writer

LIMIT = 50  # items per page: each row item reads its screenshot's rows and corrections
MAX_LIMIT = 500
_RECORDING = threading.Lock()  # one fix at a time in this process: two catch-ups at once would race on the checkpoint
DEFAULT_REASON = "fixed on the review page"
REASONS = ("doubtful", "low_confidence", "conflict", "name_disagreement", "unmatched_name", "duplicate_player",
           "unknown_screen", "correction_unmatched", "ranking_gap")
CSRF_COOKIE = "ds_csrftoken"


@dataclass
class Item:
    """One thing to look at, with what the page needs to show and fix it."""

    community: str
    reason: str
    subject: str
    detail: str
    screenshot_id: str | None
    player_id: str | None
    confidence: float | None
    captured_at: str | None
    kind: str | None = None
    row_ref: str | None = None  # how the fix forms address the row (`rank:3`, `name:Xoxo`, `power:1303`)
    row: dict[str, Any] = field(default_factory=dict)  # the reading as the projections count it
    fields: list[str] = field(default_factory=list)  # the row's editable fields
    doubtful: list[str] = field(default_factory=list)
    name: str | None = None  # unmatched_name: the name as read
    suggestions: list[tuple[str, str]] = field(default_factory=list)  # (player id, display name)
    players: list[tuple[str, str]] = field(default_factory=list)  # duplicate_player: the two
    others: list[tuple[str, dict[str, Any], float | None]] = field(default_factory=list)  # (screenshot, row, confidence)
    can_retract: bool = False
    crop_row: str | None = None  # the row whose crop is shown (the item's row, or the row an unmatched name was read on)
    crop_field: str = "row"  # the field whose crop is shown: the first doubtful one, else the row
    crop_what: str = WHOLE  # what the crop shows (crops.py)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


QUEUE_SQL = """
SELECT * FROM (
SELECT q.community, q.reason, q.subject, q.detail, q.screenshot_id, q.player_id, q.confidence,
       coalesce(s.captured_at, s.ingested_at) AS at
FROM review_queue q LEFT JOIN screenshots s ON s.id = q.screenshot_id
WHERE (:community = '' OR q.community = :community) AND (:reason = '' OR q.reason = :reason)
UNION ALL
SELECT s.community, 'unknown_screen', s.id,
       'a screen of no known kind (' || coalesce(s.file_name, '') || '): say what it is, or retract it',
       s.id, NULL, s.confidence, coalesce(s.captured_at, s.ingested_at)
FROM screenshots s LEFT JOIN screenshot_usage u ON u.screenshot_id = s.id
WHERE s.kind = 'unknown' AND coalesce(u.retracted, 0) = 0
  AND (:community = '' OR s.community = :community) AND (:reason = '' OR :reason = 'unknown_screen')
)
ORDER BY at IS NULL, at DESC, community, reason, subject
LIMIT :limit
"""


def queue(conn: sqlite3.Connection, settings: Settings, community: str = "", reason: str = "",
          limit: int = LIMIT) -> list[Item]:
    """The open items, newest screenshot first, each with its row and the fixes it offers."""
    state = v.State(conn, settings.tz)
    items = [Item(*r) for r in conn.execute(QUEUE_SQL, {"community": community, "reason": reason, "limit": limit})]
    for item in items:
        _fill(conn, state, item)
    if log_exists(settings):
        with open_log(settings, readonly=True) as store:
            for item in items:
                if item.screenshot_id and item.crop_row:
                    item.crop_what = locate(store, item.screenshot_id, item.crop_row, item.crop_field)[1]
    return items


def _fill(conn: sqlite3.Connection, state: v.State, item: Item) -> None:
    sid = item.screenshot_id
    if sid:
        shot = conn.execute("SELECT kind FROM screenshots WHERE id = ?", [sid]).fetchone()
        item.kind = shot[0] if shot else None
        item.can_retract = not state.retracted(sid)
    if item.reason in ("doubtful", "low_confidence") and sid and "#" in item.subject:
        _fill_row(state, item, int(item.subject.rsplit("#", 1)[1]))
    elif item.reason == "unmatched_name":
        alias = conn.execute("SELECT name FROM player_aliases WHERE community = ? AND name_key = ?",
                             [item.community, item.subject.removeprefix("alias ")]).fetchone()
        item.name = alias[0] if alias else None
        if item.name:
            item.suggestions = suggestions(conn, item.community, item.name, exclude=item.player_id)
            item.crop_row, item.crop_field = f"name:{item.name}", "name"
    elif item.reason == "duplicate_player" and "~" in item.subject:
        a, b = item.subject.split("~", 1)
        names = dict(conn.execute("SELECT player_id, display_name FROM players WHERE player_id IN (?, ?)", [a, b]))
        item.players = [(a, names.get(a, a)), (b, names.get(b, b))]


def _fill_row(state: v.State, item: Item, index: int) -> None:
    """The row the item is about: doubtful items count the screenshot's rows, low-confidence ones its counted rows."""
    try:
        rows = state.reading(state.screenshot(item.screenshot_id or "")).rows
    except v.Invalid:
        return
    if item.reason == "low_confidence":
        rows = [r for r in rows if not doubtful_fields(r)]
    if not 0 <= index < len(rows) or item.kind not in ROW_FIELDS:
        return
    row = rows[index]
    ref = address_of(item.kind, row)
    if ref is None:
        return
    item.row_ref = f"{ref.field}:{ref.value}"  # parse_ref's spelling: rank:3, name:Xoxo, power:1303
    item.row = {k: val for k, val in row.items() if k not in ("doubtful", "doubt_reasons")}
    item.fields = list(ROW_FIELDS[item.kind])
    item.doubtful = doubtful_fields(row)
    item.crop_row = item.row_ref
    item.crop_field = item.doubtful[0] if item.doubtful and item.doubtful[0] in row else "row"
    item.others = other_readings(state.conn, item.screenshot_id or "", item.kind, ref.field, ref.value)


OTHERS_SQL = """
SELECT r.screenshot_id, r.data, r.confidence FROM screenshot_usage u
JOIN screenshot_usage o ON o.group_id = u.group_id AND o.screenshot_id != u.screenshot_id
JOIN extracted_rows r ON r.screenshot_id = o.screenshot_id AND r.kind = ?
WHERE u.screenshot_id = ? AND u.group_id IS NOT NULL
ORDER BY r.confidence DESC LIMIT 50
"""


def other_readings(conn: sqlite3.Connection, sid: str, kind: str, key: str, value: Any) -> list[tuple[str, dict[str, Any], float | None]]:
    """The same row (same rank, order or name) as read on the other screenshots of its event."""
    out = []
    want = normalize(parse_name(str(value)).name) if key == "name" else value
    for other, data, conf in conn.execute(OTHERS_SQL, [kind, sid]):
        row = json.loads(data)
        got = row.get(key) if key != "name" else normalize(parse_name(row_name(row) or "").name)
        if got == want:
            out.append((other, {k: x for k, x in row.items() if k not in ("doubtful", "doubt_reasons")}, conf))
    return out


def suggestions(conn: sqlite3.Connection, community: str, name: str, *, exclude: str | None = None,
                limit: int = 5) -> list[tuple[str, str]]:
    """The community's players whose names look most like `name` (best first)."""
    players = [(pid, shown) for pid, shown in conn.execute(
        "SELECT player_id, display_name FROM players WHERE community = ?", [community]) if pid != exclude]
    keys = {i: normalize(parse_name(shown or "").name) for i, (_, shown) in enumerate(players)}
    best = process.extract(normalize(parse_name(name).name), keys, scorer=fuzz.ratio, limit=limit)
    return [players[i] for _, _, i in best]


def caught_up(conn: sqlite3.Connection, seq: int) -> bool:
    """Every projector has applied `seq` and the derived tables are settled."""
    (low,) = conn.execute(f"SELECT min(seq) FROM [{CHECKPOINTS}]").fetchone()
    dirty = conn.execute(f"SELECT 1 FROM [{DIRTY}] LIMIT 1").fetchone() if _has_table(conn, DIRTY) else None
    return low is not None and low >= seq and dirty is None


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [name]).fetchone() is not None


# --- the fixes: form fields -> a validated correction, by the CLI's own builders ----------------------

def _need(form: dict[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not (form.get(n) or "").strip()]
    if missing:
        raise v.Invalid(f"missing {', '.join(missing)}")
    return [form[n].strip() for n in names]


ACTIONS: dict[str, Any] = {
    "confirm": lambda s, f: v.confirm(s, *_need(f, "screenshot", "row")),
    "set-value": lambda s, f: v.set_value(s, *_need(f, "screenshot", "row", "field", "value")),
    "link-alias": lambda s, f: v.link_alias(s, *_need(f, "name", "player"), f.get("community") or None),
    "merge-players": lambda s, f: v.merge_players(s, *_need(f, "source", "target"), f.get("community") or None),
    "retract": lambda s, f: v.retract(s, *_need(f, "screenshot")),
    "reclassify": lambda s, f: v.reclassify(s, *_need(f, "screenshot", "kind")),
}


def record(settings: Settings, form: dict[str, str], actor: str) -> tuple[str, int, str]:
    """Validate and append one correction as `observatory correct` does; (correction id, seq, what).

    Raises `validate.Invalid` (nothing appended) when the form does not make a valid correction.
    """
    action = form.get("action", "")
    if action not in ACTIONS:
        raise v.Invalid(f"unknown action {action!r}")
    reason = (form.get("reason") or "").strip() or DEFAULT_REASON
    with _RECORDING:
        return _record(settings, form, action, actor, reason)


def _record(settings: Settings, form: dict[str, str], action: str, actor: str, reason: str) -> tuple[str, int, str]:
    store = open_log(settings)
    try:
        project_now(settings, store)  # validate against everything the log holds now, as the CLI does
        conn = _connect(settings.projections_db)
        try:
            fix = ACTIONS[action](v.State(conn, settings.tz), form)
        finally:
            conn.close()
        (stored,) = store.append([_pending(fix, actor, reason)])
        project_now(settings, store)
    finally:
        store.close()
    return correction_id(stored.event_id), stored.seq, fix.kind


# --- the routes --------------------------------------------------------------------------------------

def _config(datasette) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    config = datasette.plugin_config("observatory")
    if config is None:
        raise Forbidden("Observatory is not configured")
    return config


async def _may_view(datasette, request) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    config = _config(datasette)
    db = config["database"]
    await datasette.ensure_permissions(
        request.actor, [("view-table", (db, "review_queue")), ("view-database", db), "view-instance"])
    return config


def _writer(datasette, request, config: dict[str, Any]) -> str | None:  # type: ignore[no-untyped-def]
    client = request.scope.get("client")
    return writer(config, request.actor, client[0] if client else None)


def _db_path(datasette, config: dict[str, Any]) -> Path:  # type: ignore[no-untyped-def]
    return Path(datasette.get_database(config["database"]).path)


async def review_view(datasette, request):  # type: ignore[no-untyped-def]
    if request.method == "POST":
        return await _post(datasette, request)
    config = await _may_view(datasette, request)
    args = request.args
    limit = args.get("limit", "")
    return await _page(datasette, request, config, community=args.get("community", ""), reason=args.get("reason", ""),
                       done=args.get("done"), seq=args.get("seq"),
                       limit=min(int(limit), MAX_LIMIT) if limit.isdigit() and int(limit) > 0 else LIMIT)


async def _page(datasette, request, config, *, community: str, reason: str, done: str | None = None,  # type: ignore[no-untyped-def]
                seq: str | None = None, error: str | None = None, status: int = 200, form: dict[str, str] | None = None,
                limit: int = LIMIT):
    settings = runtime.current()
    path = _db_path(datasette, config)

    def read() -> tuple[list[Item], list[str], bool]:
        conn = _connect(path)
        try:
            items = queue(conn, settings, community, reason, limit)
            communities = [c for (c,) in conn.execute("SELECT DISTINCT community FROM screenshots ORDER BY 1")]
            waiting = bool(seq and seq.isdigit() and not caught_up(conn, int(seq)))
            return items, communities, waiting
        finally:
            conn.close()

    items, communities, waiting = await asyncio.to_thread(read)
    who = _writer(datasette, request, config)
    here = {k: val for k, val in (("community", community), ("reason", reason)) if val}
    return Response.html(await datasette.render_template("observatory_review.html", {
        "items": items, "limit": limit, "more": len(items) >= limit and limit < MAX_LIMIT,
        "more_url": datasette.urls.path("/-/review?" + urlencode({**here, "limit": str(min(limit * 4, MAX_LIMIT))})),
        "communities": communities, "reasons": REASONS, "community": community, "reason": reason,
        "done": done, "seq": seq, "waiting": waiting, "error": error, "form": form or {}, "writer": who,
        "kinds": KINDS, "back": urlencode(here), "crop_url": crop_url,
        "caught_up_url": datasette.urls.path(f"/-/review/caught-up.json?seq={quote(seq or '0')}"),
        "review_url": datasette.urls.path("/-/review"),
    }, request=request), status=status)


async def _post(datasette, request):  # type: ignore[no-untyped-def]
    config = await _may_view(datasette, request)
    who = _writer(datasette, request, config)
    if who is None:
        raise Forbidden("Only an officer may record corrections")
    # asgi-csrf checks the token only when the request carries cookies; a form of ours always does.
    if CSRF_COOKIE not in request.cookies:
        raise Forbidden("The form's CSRF token is missing: reload the review page and try again")
    form = {k: val for k, val in (await request.post_vars()).items() if k != "csrftoken"}
    settings = runtime.current()
    back = {k: form[k] for k in ("community_filter", "reason_filter") if form.get(k)}
    try:
        cid, seq, kind = await asyncio.to_thread(record, settings, form, who)
    except (v.Invalid, LogKeyError) as exc:
        return await _page(datasette, request, config, community=back.get("community_filter", ""),
                           reason=back.get("reason_filter", ""), error=f"{exc}. Nothing was recorded.",
                           status=400 if isinstance(exc, v.Invalid) else 500, form=form)
    query = {"community": back.get("community_filter", ""), "reason": back.get("reason_filter", ""),
             "done": f"{cid} ({kind})", "seq": str(seq)}
    return Response.redirect(datasette.urls.path("/-/review?" + urlencode({k: x for k, x in query.items() if x})),
                             status=303)


async def caught_up_view(datasette, request):  # type: ignore[no-untyped-def]
    config = await _may_view(datasette, request)
    seq = request.args.get("seq", "0")
    if not seq.isdigit():
        return Response.json({"error": "seq must be a number"}, status=400)
    path = _db_path(datasette, config)

    def check() -> bool:
        conn = _connect(path)
        try:
            return caught_up(conn, int(seq))
        finally:
            conn.close()

    return Response.json({"seq": int(seq), "caught_up": await asyncio.to_thread(check)})


def crop_url(sha: str, row: str | None, field_name: str | None) -> str:
    """Where a value's crop is served (crops.py); the whole screenshot's when the row is not known."""
    return f"/-/crop/{sha}/{quote(row or 'meta', safe='')}/{quote(field_name or 'row', safe='')}"
