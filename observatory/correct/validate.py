"""Checking a correction against the current state before it is appended.

Everything here reads the projections (brought up to date first) and raises
`Invalid` with a message for the admin; nothing is appended unless it passes.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from ..eventlog.models import (AddRow, Confirm, DeleteRow, LinkAlias, MergePlayers, NoteCorrection, Reclassify,
                               RenamePlayer, Retract, Revert, RowRef, SetEventTime, SetValue, UnlinkAlias)
from ..games import event_tables
from ..identity import normalize, parse_name
from .fields import KINDS, ROW_FIELDS, FieldError, coerce, field_type
from .rows import Reading, address_of, apply_fixes, describe, doubtful_fields, find_row, parse_ref
from .state import RECORD_SELECT, Record, in_force, record_from_row


ROW_FIX_TYPES = (SetValue, Confirm, DeleteRow, AddRow)  # the fixes that change a screenshot's rows


class Invalid(Exception):
    """The correction does not fit the current state; nothing was appended."""


class State:
    """Read access to the projections for validation."""

    def __init__(self, conn: sqlite3.Connection, tz: ZoneInfo) -> None:
        self.conn = conn
        self.tz = tz

    def one(self, sql: str, params: list[Any]) -> Any:
        return self.conn.execute(sql, params).fetchone()

    # --- screenshots ------------------------------------------------------------------------------
    def screenshot(self, ref: str) -> dict[str, Any]:
        ref = ref.strip().lower()
        if len(ref) < 6:
            raise Invalid(f"screenshot id {ref!r} is too short: give at least 6 hex digits")
        rows = self.conn.execute(
            "SELECT id, community, status, kind, meta FROM screenshots WHERE id >= ? AND id < ? LIMIT 2",
            [ref, ref + "g"]).fetchall()
        if not rows:
            raise Invalid(f"no screenshot {ref!r} in the log")
        if len(rows) > 1:
            raise Invalid(f"screenshot id {ref!r} is ambiguous: give more digits")
        sid, community, status, kind, meta = rows[0]
        return {"id": sid, "community": community, "status": status, "kind": kind, "meta": json.loads(meta or "{}")}

    def corrections_for(self, sid: str) -> list[Record]:
        out = [record_from_row(r) for r in self.conn.execute(RECORD_SELECT + " ORDER BY seq")]
        return [r for r in out if getattr(r.correction, "screenshot_id", None) == sid or r.kind == "revert"]

    def reading(self, shot: dict[str, Any]) -> Reading:
        """The screenshot's rows as the projections count them: OCR plus the fixes in force."""
        if shot["status"] != "extracted":
            raise Invalid(f"screenshot {shot['id'][:12]} has no extracted rows (status {shot['status']})")
        rows, conf = [], []
        for data, c in self.conn.execute(
                "SELECT data, confidence FROM extracted_rows WHERE screenshot_id = ? ORDER BY row_index", [shot["id"]]):
            rows.append(json.loads(data))
            conf.append(c)
        fixes = [r for r in in_force(self.corrections_for(shot["id"])) if isinstance(r.correction, ROW_FIX_TYPES)]
        return apply_fixes(shot["kind"], shot["meta"], rows, conf, fixes)

    def retracted(self, sid: str) -> bool:
        row = self.one("SELECT retracted FROM screenshot_usage WHERE screenshot_id = ?", [sid])
        return bool(row and row[0])

    # --- players ------------------------------------------------------------------------------------
    def player(self, ref: str, community: str | None = None) -> tuple[str, str, str]:
        """(player id, community, display name) from an id, a name or an alias."""
        ref = ref.strip()
        if ref.startswith("p_"):
            row = self.one("SELECT player_id, community, display_name FROM players WHERE player_id = ?", [ref])
            if row is None:
                raise Invalid(f"no player {ref!r}")
            return row
        key = normalize(parse_name(ref).name)
        sql = ("SELECT DISTINCT p.player_id, p.community, p.display_name FROM player_aliases a "
               "JOIN players p ON p.player_id = a.player_id WHERE a.name_key = ?")
        params: list[Any] = [key]
        if community:
            sql += " AND a.community = ?"
            params.append(community)
        rows = self.conn.execute(sql, params).fetchall()
        if not rows:
            raise Invalid(f"no player named {ref!r}" + (f" in {community}" if community else ""))
        if len(rows) > 1:
            listed = ", ".join(f"{pid} ({c})" for pid, c, _ in rows)
            raise Invalid(f"{ref!r} names several players: {listed}; use the id or --community")
        return rows[0]

    def alias(self, name: str, community: str) -> tuple[str, str] | None:
        row = self.one("SELECT player_id, match FROM player_aliases WHERE community = ? AND name_key = ?",
                       [community, normalize(parse_name(name).name)])
        return None if row is None else (row[0], row[1])

    # --- events -------------------------------------------------------------------------------------
    def event_anchor(self, ref: str) -> tuple[str, str]:
        """(screenshot id, what it is) for an event's id (a hunt, foundry event, war, race or ranking) or a
        screenshot id."""
        ref = ref.strip()
        events = [(table, key, label) for table, key, _, label in event_tables()]
        events += [("wars", "war_id", "war"), ("races", "race_id", "race"), ("rankings", "ranking_id", "ranking")]
        for table, key, label in events:
            try:
                row = self.one(f"SELECT screenshot_ids FROM [{table}] WHERE [{key}] = ?", [ref])
            except sqlite3.OperationalError:  # projections built before this table existed
                continue
            if row is not None:
                return json.loads(row[0])[0], f"{label} {ref}"
        if ref[:2] in {f"{prefix}_" for _, _, prefix, _ in event_tables()} | {"w_", "c_", "k_"}:
            labels = [label for _, _, label in events]
            raise Invalid(f"no {', '.join(labels[:-1])} or {labels[-1]} {ref!r}")
        shot = self.screenshot(ref)
        return shot["id"], f"screenshot {shot['id'][:12]}"

    def correction(self, ref: str) -> tuple[str, str, str]:
        ref = ref.strip().lower()
        rows = self.conn.execute("SELECT correction_id, kind, status FROM corrections WHERE correction_id LIKE ? LIMIT 2",
                                 [ref.replace("%", "") + "%"]).fetchall()
        if not rows or len(ref) < 4:
            raise Invalid(f"no correction {ref!r} (see `observatory corrections`)")
        if len(rows) > 1:
            raise Invalid(f"correction id {ref!r} is ambiguous: give more digits")
        return rows[0]

    def parse_time(self, text: str) -> str:
        """ISO-8601 with an offset, or `YYYY-MM-DD HH:MM[:SS]` in the screenshots' time zone -> UTC ISO."""
        try:
            dt = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
        except ValueError:
            raise Invalid(f"{text!r} is not a time: use 2025-11-11 22:30:05 or 2025-11-11T22:30:05+00:00") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.tz)
        return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def _typed(kind: str, field: str, value: Any, *, meta: bool) -> Any:
    try:
        return coerce(field, field_type(kind, field, meta=meta), value)
    except FieldError as exc:
        raise Invalid(str(exc)) from None


def _countable(shot: dict[str, Any]) -> str:
    kind = shot["kind"]
    if kind not in ROW_FIELDS:
        raise Invalid(f"screenshot {shot['id'][:12]} is {kind or shot['status']}: it has no rows to fix "
                      "(reclassify it first)")
    return kind


def _row(state: State, shot: dict[str, Any], kind: str, ref_text: str) -> RowRef:
    ref = parse_ref(kind, ref_text)
    reading = state.reading(shot)
    if find_row(reading.rows, ref) is None:
        shown = ", ".join(describe(r) for r in _addresses(kind, reading.rows)) or "none"
        raise Invalid(f"screenshot {shot['id'][:12]} has no row with {describe(ref)} (rows: {shown})")
    return ref


def _addresses(kind: str, rows: list[dict[str, Any]]) -> list[RowRef]:
    return [a for a in (address_of(kind, r) for r in rows) if a is not None]


# --- one builder per command: arguments -> a validated correction -------------------------------------


def set_value(state: State, screenshot: str, row: str, field: str, value: Any) -> SetValue:
    shot = state.screenshot(screenshot)
    kind = _countable(shot)
    if row.strip().lower() == "meta":
        return SetValue(screenshot_id=shot["id"], row=None, field=field, value=_typed(kind, field, value, meta=True))
    typed = _typed(kind, field, value, meta=False)
    return SetValue(screenshot_id=shot["id"], row=_row(state, shot, kind, row), field=field, value=typed)


def confirm(state: State, screenshot: str, row: str, fields: list[str] | tuple[str, ...] = ()) -> Confirm:
    """The row's doubtful readings are right as read (only `fields`, when given)."""
    shot = state.screenshot(screenshot)
    kind = _countable(shot)
    ref = _row(state, shot, kind, row)
    reading = state.reading(shot)
    doubtful = doubtful_fields(reading.rows[find_row(reading.rows, ref)])  # type: ignore[index]
    if not doubtful:
        raise Invalid(f"screenshot {shot['id'][:12]} row {describe(ref)} is not doubtful: nothing to confirm")
    wanted = sorted(dict.fromkeys(f.strip() for f in fields if f.strip()))
    unknown = [f for f in wanted if f not in doubtful]
    if unknown:
        raise Invalid(f"row {describe(ref)} of screenshot {shot['id'][:12]} has no doubtful field(s) "
                      f"{', '.join(unknown)} (doubtful: {', '.join(doubtful)})")
    return Confirm(screenshot_id=shot["id"], row=ref, fields=wanted)


def delete_row(state: State, screenshot: str, row: str) -> DeleteRow:
    shot = state.screenshot(screenshot)
    kind = _countable(shot)
    return DeleteRow(screenshot_id=shot["id"], row=_row(state, shot, kind, row))


def add_row(state: State, screenshot: str, values: dict[str, Any]) -> AddRow:
    shot = state.screenshot(screenshot)
    kind = _countable(shot)
    if not values:
        raise Invalid(f"give the row's fields, e.g. {' '.join(f'{f}=…' for f in ROW_FIELDS[kind])}")
    typed = {f: _typed(kind, f, v, meta=False) for f, v in values.items()}
    need = [f for f in ("name", "alliance") if f in ROW_FIELDS[kind]][:1]
    missing = [f for f in need if not typed.get(f)]
    if missing:
        raise Invalid(f"a {kind} row needs {', '.join(missing)}")
    return AddRow(screenshot_id=shot["id"], values=typed)


def reclassify(state: State, screenshot: str, kind: str) -> Reclassify:
    shot = state.screenshot(screenshot)
    if kind not in KINDS:
        raise Invalid(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return Reclassify(screenshot_id=shot["id"], new_kind=kind)


def retract(state: State, screenshot: str) -> Retract:
    shot = state.screenshot(screenshot)
    if state.retracted(shot["id"]):
        raise Invalid(f"screenshot {shot['id'][:12]} is already retracted (revert the retraction to count it again)")
    return Retract(screenshot_id=shot["id"])


def rename_player(state: State, player: str, name: str, community: str | None = None) -> RenamePlayer:
    pid, comm, _ = state.player(player, community)
    if not parse_name(name).name:
        raise Invalid("the new name is empty")
    return RenamePlayer(community=comm, player_id=pid, name=name.strip())


def merge_players(state: State, source: str, target: str, community: str | None = None) -> MergePlayers:
    a, ca, _ = state.player(source, community)
    b, cb, _ = state.player(target, community)
    if ca != cb:
        raise Invalid(f"{source!r} is in {ca} and {target!r} in {cb}: only players of one community can be merged")
    if a == b:
        raise Invalid(f"{source!r} and {target!r} are already one player ({a})")
    return MergePlayers(community=ca, source_id=a, target_id=b)


def link_alias(state: State, name: str, player: str, community: str | None = None) -> LinkAlias:
    pid, comm, _ = state.player(player, community)
    if not normalize(parse_name(name).name):
        raise Invalid("the name is empty")
    current = state.alias(name, comm)
    if current is not None and current[0] == pid:
        raise Invalid(f"{name!r} already belongs to {pid}")
    return LinkAlias(community=comm, name=name.strip(), player_id=pid)


def unlink_alias(state: State, name: str, community: str | None = None) -> UnlinkAlias:
    pid, comm, _ = state.player(name, community)
    current = state.alias(name, comm)
    if current is None:
        raise Invalid(f"no name {name!r} in {comm}")
    if current[1] == "new":
        raise Invalid(f"{name!r} is the name {pid} was first seen with; merge or rename instead")
    return UnlinkAlias(community=comm, name=name.strip())


def set_event_time(state: State, target: str, when: str, *, screenshot_only: bool = False) -> SetEventTime:
    sid, _ = state.event_anchor(target)
    return SetEventTime(screenshot_id=sid, at=state.parse_time(when), scope="screenshot" if screenshot_only else "event")


def note(state: State, target: str, text: str) -> NoteCorrection:
    if not text.strip():
        raise Invalid("the note is empty")
    sid, what = state.event_anchor(target)
    return NoteCorrection(target=what, text=text.strip(), screenshot_id=sid)


def revert(state: State, correction: str) -> Revert:
    cid, kind, status = state.correction(correction)
    if status == "reverted":
        raise Invalid(f"correction {cid} ({kind}) is already reverted")
    return Revert(correction_id=cid)
