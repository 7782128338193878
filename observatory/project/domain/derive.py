"""The domain tables of one community, as a pure function of its screenshots and corrections.

Because the result depends only on the facts (never on the order or batching in which
they arrived), an incremental update and a full replay give the same tables.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from rapidfuzz import fuzz

from ...correct.rows import Reading, address_of, apply_fixes, describe, doubtful_fields, row_name
from ...correct.state import Record, forced_kinds, in_force
from ...eventlog.models import (AddRow, Confirm, DeleteRow, LinkAlias, MergePlayers, NoteCorrection, RenamePlayer, Retract,
                                SetEventTime, SetValue, UnlinkAlias)
from ...games import KindDefinition, kind, ranking_table, read_model, shape_of
from ...identity import normalize, parse_name
from ...identity.matching import MIN_FUZZY_LENGTH
from .crosscheck import Measured, disagreements
from .grouping import cluster
from .matches import our_team, per_full_match, result, shown_date, team_totals
from .ranking import stitch
from .model import DomainConfig, Shot, iso, local_to_utc, parse_time, stable_id
from .players import Identity, likely_duplicates, resolve_players
from .votes import Vote, settle, vanished

Rows = dict[str, list[dict[str, Any]]]
ROW_FIXES = (SetValue, Confirm, DeleteRow, AddRow)
IDENTITY_FIXES = (LinkAlias, UnlinkAlias, MergePlayers, RenamePlayer)


@dataclass(slots=True)
class Used:
    """A screenshot that counts: its effective reading and the time it stands for."""

    shot: Shot
    reading: Reading
    time: datetime  # capture time, or an admin's time
    mail: datetime | None  # the mail time the screen shows (UTC), if any
    pids: list[str | None]
    outvoted: set[int] = field(default_factory=set)  # rows whose name reading lost a vote (votes.py)

    @property
    def event_time(self) -> datetime:
        return self.mail or self.time


@dataclass(slots=True)
class Pick:
    """One reading of a player's value among several screenshots of the same event."""

    used: Used
    index: int

    @property
    def row(self) -> dict[str, Any]:
        return self.used.reading.rows[self.index]

    @property
    def confidence(self) -> float:
        c = self.used.reading.confidence[self.index]
        return -1.0 if c is None else c

    @property
    def pid(self) -> str:
        return self.used.pids[self.index]  # type: ignore[return-value]


def _monday(dt: datetime, cfg: DomainConfig) -> str:
    local = dt.astimezone(cfg.tz).date()
    return (local - timedelta(days=local.weekday())).isoformat()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def derive(community: str, shots: Sequence[Shot], records: Sequence[Record], cfg: DomainConfig) -> Rows:
    out: Rows = defaultdict(list)
    review = out["review_queue"]
    active = in_force(records)
    forced = forced_kinds(records)
    fixes: dict[str, list[Record]] = defaultdict(list)
    retracted: set[str] = set()
    shot_time: dict[str, datetime] = {}
    event_time: dict[str, datetime] = {}
    notes: dict[str, list[str]] = defaultdict(list)
    per_shot_count: dict[str, int] = defaultdict(int)
    for r in active:
        c = r.correction
        sid = getattr(c, "screenshot_id", None)
        if sid:
            per_shot_count[sid] += 1
        if isinstance(c, ROW_FIXES):
            fixes[c.screenshot_id].append(r)
        elif isinstance(c, Retract):
            retracted.add(c.screenshot_id)
        elif isinstance(c, SetEventTime):
            (shot_time if c.scope == "screenshot" else event_time)[c.screenshot_id] = parse_time(c.at)
        elif isinstance(c, NoteCorrection) and c.screenshot_id:
            notes[c.screenshot_id].append(c.text)

    used: list[Used] = []
    usage: dict[str, dict[str, Any]] = {}
    for s in sorted(shots, key=lambda s: s.ingest_seq):
        want = forced.get(s.id, s.requested_kind)
        t = shot_time.get(s.id) or parse_time(s.captured_at)
        state = None
        if s.id in retracted:
            state = "retracted"
        elif s.status != "extracted":
            state = f"not counted ({s.status})"
        elif want != s.requested_kind:
            state = "awaiting re-extraction"
        elif read_model(s.kind) is None:  # a kind its pack reads but does not project
            state = f"not counted ({s.kind})"
        usage[s.id] = {"screenshot_id": s.id, "community": community, "kind": s.kind, "used_in": state,
                       "group_id": None, "event_time": iso(t), "retracted": int(s.id in retracted),
                       "corrections": per_shot_count.get(s.id, 0)}
        if state is not None:
            continue
        reading = apply_fixes(s.kind, s.meta, s.rows, s.row_confidence, fixes.get(s.id, ()))  # type: ignore[arg-type]
        for cid, why in reading.problems:
            review.append(_review(community, "correction_unmatched", cid, f"correction {cid} on {s.id[:12]}: {why}",
                                  s.id))
        reading = _set_doubtful_aside(community, s, reading, review)
        shown = reading.meta.get("mail_time")
        mail = None if s.id in shot_time or not isinstance(shown, str) else local_to_utc(shown, cfg.tz)
        used.append(Used(s, reading, t, mail, [None] * len(reading.rows)))

    ident = _identity(community, used, [r.correction for r in active if isinstance(r.correction, IDENTITY_FIXES)], cfg)
    groups = _groups(used, cfg)
    _agree(community, used, ident, groups, cfg, review)
    for d in disagreements(Measured(pid, u.shot.kind, row, u.time, (u, i)) for u in used if u.shot.id not in fixes
                           for i, (pid, row) in enumerate(zip(u.pids, u.reading.rows)) if pid is not None):
        u, i = d.exact.ref  # an exact value that no abbreviation of the player's explains: review, not tables
        review.append(_review(community, "doubtful", f"{u.shot.id[:12]}#{i}", f"{u.shot.kind} row #{i}: {d.reason}",
                              u.shot.id, u.pids[i], u.reading.confidence[i]))
        u.pids[i] = None
    _low_confidence(community, used, cfg, review)
    _bear(community, groups.hunts, cfg, event_time, notes, out, usage)
    _contribution(community, groups.contribution, cfg, out, usage)
    _roster(community, groups.rosters, out, usage)
    _alliance_power(community, used, cfg, out, usage)
    _ac(community, groups.ac, cfg, out, usage)
    _foundry(community, groups.signups, groups.foundry_mails, cfg, event_time, notes, out, usage)
    _rankings(community, groups.rankings, out, usage)
    _matches(community, groups.matches, used, cfg, event_time, out, usage)
    _races(community, groups.races, out, usage)
    _players(community, ident, cfg, out)
    times = [parse_time(s.captured_at) for s in shots]
    if times:  # corrections alone (about players or screenshots it never had) do not make a community
        out["communities"].append({"community": community, "screenshots": len(shots), "players": len(out["players"]),
                                   "first_seen": iso(min(times)), "last_seen": iso(max(times))})
    out["screenshot_usage"] = list(usage.values())
    return out


def _review(community: str, reason: str, subject: str, detail: str, screenshot_id: str | None = None,
            player_id: str | None = None, confidence: float | None = None) -> dict[str, Any]:
    return {"community": community, "reason": reason, "subject": subject, "detail": detail,
            "screenshot_id": screenshot_id, "player_id": player_id, "confidence": confidence}


def _set_doubtful_aside(community: str, s: Shot, reading: Reading, review: list[dict[str, Any]]) -> Reading:
    """Rows the extractor marked doubtful are no facts until an admin confirms or sets them: review, not tables."""
    doubtful = [i for i, row in enumerate(reading.rows) if doubtful_fields(row)]
    if not doubtful:
        return reading
    for i in doubtful:
        row = reading.rows[i]
        fields = doubtful_fields(row)
        reasons = row.get("doubt_reasons") if isinstance(row.get("doubt_reasons"), dict) else {}
        why = "; ".join(f"{f}: {reasons[f]}" if reasons.get(f) else f for f in fields)
        ref = address_of(s.kind or "", row)
        where = describe(ref) if ref is not None else f"#{i}"
        values = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("doubtful", "doubt_reasons"))
        review.append(_review(community, "doubtful", f"{s.id[:12]}#{i}",
                              f"{s.kind} row {where} ({values}) is doubtful: {why}; kept out of the tables until "
                              f"`observatory correct confirm {s.id[:12]} {_cli_row(ref, i)}` or `set-value`",
                              s.id, None, reading.confidence[i]))
    keep = [i for i in range(len(reading.rows)) if i not in set(doubtful)]
    return Reading(reading.kind, reading.meta, [reading.rows[i] for i in keep], [reading.confidence[i] for i in keep],
                   reading.problems)


def _cli_row(ref: Any, i: int) -> str:
    if ref is None:
        return str(i)
    if ref.field == "power":
        return f"power:{ref.value}"
    return str(ref.value) if ref.field != "name" else f"'name:{ref.value}'"


def _names(u: Used) -> list[Any]:
    """The names identity sees: as read, except that on a team screen a leading word most of a team's rows share
    (`ΣND Zach`, `ΣND ruko`, `ΣND rey`) is the clan's tag, as `[ΣND]` would be, so Zach is Zach on every screen."""
    names = [row.get("name") for row in u.reading.rows]
    if shape_of(u.shot.kind) != "team_match":
        return names
    teams: dict[Any, list[int]] = defaultdict(list)
    for i, row in enumerate(u.reading.rows):
        teams[row.get("team")].append(i)
    for rows in teams.values():
        split = {i: names[i].strip().split(" ", 1) for i in rows
                 if isinstance(names[i], str) and " " in names[i].strip()}
        firsts = Counter(normalize(first) for first, _ in split.values() if normalize(first))
        if not firsts:
            continue
        key, count = firsts.most_common(1)[0]  # compared as identity does: ΣND read as END is the same tag
        if count < 3 or count * 2 < len(rows):
            continue
        shown = Counter(first for first, _ in split.values() if normalize(first) == key).most_common(1)[0][0]
        for i, (first, rest) in split.items():
            if normalize(first) == key and rest.strip():
                names[i] = f"[{shown}]{rest.strip()}"
    return names


def _identity(community: str, used: list[Used], corrections: list[Any], cfg: DomainConfig) -> Identity:
    names = [(u, _names(u)) for u in used if _of_players(u.shot.kind)]
    sightings = [(name, iso(u.time), u.shot.id, u.shot.ingest_seq) for u, shown in names for name in shown
                 if isinstance(name, str) and normalize(name)]
    ident = resolve_players(community, sightings, corrections, threshold=cfg.fuzzy_threshold)
    for u, shown in names:
        for i, name in enumerate(shown):
            if isinstance(name, str) and normalize(name):
                u.pids[i] = ident.resolve(name)
    return ident


def _of_players(kind: str | None) -> bool:
    """Whether a kind's rows are players (their names go through identity), as its pack declares."""
    rm = read_model(kind)
    return rm is not None and rm.players


def _shaped(used: Iterable[Used], shape: str) -> list[Used]:
    return [u for u in used if shape_of(u.shot.kind) == shape]


def _number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _at(position: str, field: str):  # type: ignore[no-untyped-def]
    """The row's identity in its list: its position (rank/order) and its value."""
    def key(row: dict[str, Any]) -> tuple[Any, ...] | None:
        pos, value = row.get(position), row.get(field)
        return (pos, value) if _number(pos) and _number(value) else None
    return key


def _power(row: dict[str, Any]) -> tuple[Any, ...] | None:
    return (row.get("power"),) if _number(row.get("power")) else None


@dataclass(frozen=True)
class Groups:
    """Each kind's events, found once: the name vote (`_agree`) and the tables read the same groups.

    Grouping looks at times, kinds and readings, never at player ids, so the vote's moves do not change it.
    """
    hunts: list[list[Used]]
    contribution: dict[tuple[str, str], list[Used]]  # (period, period start)
    rosters: list[list[Used]]
    ac: dict[tuple[str, str], list[Used]]  # (week, lane)
    signups: dict[tuple[Any, str], list[Used]]  # (legion, week)
    foundry_mails: list[list[Used]]  # one result mail, shot as several pages
    rankings: list[list[Used]]  # the `ranking` shape: one kind's capture session (and group_by meta)
    matches: list[list[Used]]  # the `team_match` shape: the screenshots of one match
    races: list[list[Used]]  # the `race` shape: the screenshots of one race's standings


def _groups(used: Sequence[Used], cfg: DomainConfig) -> Groups:
    return Groups(_bear_groups(used, cfg), _contribution_groups(used, cfg), _sessions(used, "roster", cfg),
                  _ac_groups(used, cfg), _signup_groups(used, cfg), _sessions(used, "legion_result", cfg),
                  _ranking_groups(used), _result_groups(used, "team_match"), _result_groups(used, "race"))


def _agree(community: str, used: list[Used], ident: Identity, groups: Groups, cfg: DomainConfig,
           review: list[dict[str, Any]]) -> None:
    """Readings of one row of one list under different names become one player's (see votes.py).

    Strong evidence (the same rank or order with the same value in one event) settles it
    whatever the names; a shared power alone only joins names that look alike (Mar and
    Marra with one power stay two). A player left with no row of its own was a misreading:
    its names become aliases of the player that won (match `evidence`).
    """
    seen = Counter(pid for u in used for pid in u.pids if pid is not None)
    def alike(a: str, b: str) -> bool:  # as long as a name a fuzzy match accepts, and close enough to review
        return min(len(a), len(b)) >= MIN_FUZZY_LENGTH and fuzz.ratio(a, b) >= cfg.duplicate_threshold

    first: dict[str, int] = {}  # the order players were first read in: ties go to the earlier
    for u in used:
        for pid in u.pids:
            if pid is not None:
                first.setdefault(pid, len(first))
    sources: list[tuple[str, list[Used], Any, tuple[str, str], Any]] = []
    sources += [("bear_scores", m, _at("rank", "damage"), ("rank", "damage"), None) for m in groups.hunts]
    sources += [("contribution_snapshots", m, _at("rank", "contribution"), ("rank", "contribution"), None)
                for _, m in sorted(groups.contribution.items())]
    sources += [("foundry_results", m, _at("rank", "points"), ("rank", "points"), None)
                for m in groups.foundry_mails]
    sources += [("ac_signups", m, _at("order", "power"), ("order", "power"), None)
                for _, m in sorted(groups.ac.items())]
    sources += [("foundry_signups", m, _power, ("power", ""), alike)
                for _, m in sorted(groups.signups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))]
    sources += [("roster_snapshots", m, _power, ("power", ""), alike) for m in groups.rosters]
    sources += [(_ranking_kind(m).name, m, _value_of(_ranking_kind(m)), ("", ""), alike) for m in groups.rankings]
    sources += [("war_scores", m, _at("team", "score"), ("team", "score"), alike) for m in groups.matches]
    sources += [("race_results", m, _at("rank", "score"), ("rank", "score"), alike) for m in groups.races]
    by_id = {u.shot.id: u for u in used}
    moves: list[tuple[str, str]] = []
    for table, members, key_of, labels, similar in sources:
        buckets: dict[tuple[Any, ...], list[Vote]] = defaultdict(list)
        for u in members:
            for i, row in enumerate(u.reading.rows):
                pid, key = u.pids[i], key_of(row)
                if pid is None or key is None:
                    continue
                pn = parse_name(row.get("name") or "")
                c = u.reading.confidence[i]
                buckets[key].append(Vote(u.shot.id, i, pid, pn.display, pn.key, -1.0 if c is None else c,
                                         pn.key in ident.pinned))
        anchor = min(members, key=lambda u: u.shot.ingest_seq).shot.id
        for key, votes in sorted(buckets.items(), key=lambda kv: repr(kv[0])):
            settled = settle(votes, seen, first, similar)
            if settled is None:
                continue
            winner, moved = settled
            for v in moved:
                by_id[v.shot_id].pids[v.index] = winner
                by_id[v.shot_id].outvoted.add(v.index)
                moves.append((v.pid, winner))
            where = " ".join(f"{label} {value}" for label, value in zip(labels, key) if label)
            won = next(v for v in votes if v.pid == winner)
            readings = "; ".join(f"{v.name!r} in {v.shot_id[:12]} ({v.confidence:.2f})" for v in votes)
            review.append(_review(community, "name_disagreement", f"{table} {anchor[:12]} {where}",
                                  f"{where} read under different names: {readings}; counted as {won.name!r} "
                                  "(`observatory correct unlink-alias` or `set-value … name` if that is wrong)",
                                  moved[0].shot_id, ident.final.get(winner, winner), won.confidence))
    for loser, winner in vanished(moves, seen).items():
        _absorb(ident, loser, winner)


def _absorb(ident: Identity, loser: str, winner: str) -> None:
    """`loser` was only ever a misreading of `winner`: its names become the winner's aliases."""
    for a in ident.aliases.values():
        if ident.final.get(a.player_id, a.player_id) == loser:
            a.match = "evidence"
    for founding, final in list(ident.final.items()):
        if final == loser:
            ident.final[founding] = winner
    gone, kept = ident.players.pop(loser, None), ident.players.get(winner)
    if gone is not None and kept is not None:
        kept.sightings += gone.sightings
        kept.first_seen = min(filter(None, (kept.first_seen, gone.first_seen)), default="")
        kept.last_seen = max(kept.last_seen, gone.last_seen)


def _low_confidence(community: str, used: list[Used], cfg: DomainConfig, review: list[dict[str, Any]]) -> None:
    for u in used:
        for i, row in enumerate(u.reading.rows):
            c = u.reading.confidence[i]
            if c is not None and c < cfg.low_confidence:
                shown = row_name(row) or "?"
                values = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("name", "alliance"))
                review.append(_review(community, "low_confidence", f"{u.shot.id[:12]}#{i}",
                                      f"{u.shot.kind} row {shown!r} ({values}) read with confidence {c:.2f}",
                                      u.shot.id, u.pids[i], c))


def _picks(groups_of: Iterable[Used], usable=lambda row: True) -> dict[str, list[Pick]]:  # type: ignore[no-untyped-def]
    by_player: dict[str, list[Pick]] = defaultdict(list)
    for u in groups_of:
        for i, row in enumerate(u.reading.rows):
            if u.pids[i] is not None and usable(row):
                by_player[u.pids[i]].append(Pick(u, i))  # type: ignore[index]
    return by_player


def _best(picks: list[Pick]) -> Pick:
    """A reading whose name won its vote; then highest confidence; ties go to the later screenshot, then the id,
    so the choice is deterministic."""
    return max(picks, key=lambda p: (p.index not in p.used.outvoted, p.confidence, p.used.time, p.used.shot.id,
                                     -p.index))


def _latest_best(picks: list[Pick], window: timedelta) -> tuple[Pick, list[Pick]]:
    """For values that grow (contribution, sign-ups): the best reading of the newest capture session."""
    newest = max(p.used.time for p in picks)
    recent = [p for p in picks if newest - p.used.time <= window]
    return _best(recent), recent


def _conflict(community: str, table: str, group: str, field: str, picks: list[Pick], review: list[dict[str, Any]]) -> None:
    values = {p.row.get(field) for p in picks if p.row.get(field) is not None}
    if len(values) > 1:
        won = _best(picks)
        seen = "; ".join(f"{p.row.get(field)!r} in {p.used.shot.id[:12]} ({p.confidence:.2f})" for p in picks)
        review.append(_review(community, "conflict", f"{table} {group} {won.pid}",
                              f"{field} read differently: {seen}; kept {won.row.get(field)!r}",
                              won.used.shot.id, won.pid, won.confidence))


def _sources(members: Sequence[Used]) -> str:
    return _json([u.shot.id for u in members])


def _mark(usage: dict[str, dict[str, Any]], members: Sequence[Used], table: str, gid: str) -> None:
    for u in members:
        usage[u.shot.id]["used_in"] = table
        usage[u.shot.id]["group_id"] = gid


def _note(members: Sequence[Used], notes: dict[str, list[str]]) -> str | None:
    texts = [t for u in members for t in notes.get(u.shot.id, ())]
    return "\n".join(texts) or None


def _forced_time(members: Sequence[Used], event_time: dict[str, datetime]) -> datetime | None:
    times = [event_time[u.shot.id] for u in members if u.shot.id in event_time]
    return min(times) if times else None


# --- bear hunts ----------------------------------------------------------------------------------


def _trap(u: Used) -> Any:
    return u.reading.meta.get("trap_id")


def _bear_groups(used: Sequence[Used], cfg: DomainConfig) -> list[list[Used]]:
    """The hunts: one trap's rankings within the hunt window, or sharing an identical reading."""
    shots = _shaped(used, "hunt")
    trap = _trap

    def readings(u: Used) -> Iterable[tuple[Any, ...]]:
        for i, row in enumerate(u.reading.rows):
            dmg = row.get("damage")
            if isinstance(dmg, int) and dmg >= 1000:
                yield ("pd", u.pids[i], dmg)
                if row.get("rank") is not None:
                    yield ("rd", row.get("rank"), dmg)

    return cluster(shots, time=lambda u: u.time, window=cfg.hunt_window, key=lambda u: (u.shot.kind, trap(u)),
                   compatible=lambda a, b: trap(a) is None or trap(b) is None or trap(a) == trap(b),
                   evidence=readings)


def _bear(community, groups, cfg, event_time, notes, out, usage) -> None:  # type: ignore[no-untyped-def]
    trap = _trap
    review = out["review_queue"]
    for members in groups:
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        hid = stable_id("h", community, anchor.shot.id)
        traps = sorted({trap(u) for u in members if trap(u) is not None})
        overviews = [u for u in members if (rm := read_model(u.shot.kind)) is not None and rm.summary]
        mails = [u.mail for u in members if u.mail is not None]
        forced = _forced_time(members, event_time)
        if forced is not None:
            started, source = forced, "correction"
        elif mails:
            started, source = min(mails), "mail"
        else:
            started, source = min(u.time for u in members), "capture"
        best_ov = max(overviews, key=lambda u: (u.shot.confidence or 0, u.shot.id), default=None)
        scores = []
        for pid, picks in sorted(_picks(members, lambda r: r.get("damage") is not None).items()):
            win = _best(picks)
            _conflict(community, "bear_scores", hid, "damage", picks, review)
            scores.append({"hunt_id": hid, "player_id": pid, "community": community, "rank": win.row.get("rank"),
                           "damage": win.row.get("damage"), "name": win.row.get("name"),
                           "confidence": win.used.reading.confidence[win.index], "screenshot_id": win.used.shot.id,
                           "readings": len(picks)})
        out["bear_scores"].extend(scores)
        if len(traps) > 1:
            review.append(_review(community, "conflict", f"bear_hunts {hid} trap",
                                  f"screenshots of one hunt show traps {traps}", anchor.shot.id))
        out["bear_hunts"].append({
            "hunt_id": hid, "community": community, "trap_id": traps[0] if traps else None, "started_at": iso(started),
            "time_source": source, "rallies": best_ov.reading.meta.get("rallies") if best_ov else None,
            "total_damage": best_ov.reading.meta.get("total_damage") if best_ov else None,
            "participants": len(scores), "damage_sum": sum(s["damage"] or 0 for s in scores),
            "screenshots": len(members), "screenshot_ids": _sources(members), "note": _note(members, notes)})
        _mark(usage, members, "bear_hunts", hid)


# --- contribution, roster, alliance power, championship -------------------------------------------


def _contribution_groups(used: Sequence[Used], cfg: DomainConfig) -> dict[tuple[str, str], list[Used]]:
    """(period, period start) -> its ranking's screenshots."""
    groups: dict[tuple[str, str], list[Used]] = defaultdict(list)
    for u in _shaped(used, "period_ranking"):
        period = u.reading.meta.get("period") or "unknown"
        local = u.time.astimezone(cfg.tz).date()
        start = _monday(u.time, cfg) if period == "weekly" else local.isoformat()
        groups[(period, start)].append(u)
    return groups


def _contribution(community, groups, cfg, out, usage) -> None:  # type: ignore[no-untyped-def]
    for (period, start), members in sorted(groups.items()):
        gid = f"{period} {start}"
        for pid, picks in sorted(_picks(members, lambda r: r.get("contribution") is not None).items()):
            win, recent = _latest_best(picks, cfg.snapshot_window)
            _conflict(community, "contribution_snapshots", gid, "contribution", recent, out["review_queue"])
            out["contribution_snapshots"].append({
                "community": community, "period": period, "period_start": start, "player_id": pid,
                "name": win.row.get("name"), "rank": win.row.get("rank"), "contribution": win.row.get("contribution"),
                "captured_at": iso(win.used.time), "confidence": win.used.reading.confidence[win.index],
                "screenshot_id": win.used.shot.id, "readings": len(picks)})
        _mark(usage, members, "contribution_snapshots", gid)


def _sessions(used: Sequence[Used], shape: str, cfg: DomainConfig) -> list[list[Used]]:
    return cluster(_shaped(used, shape), time=lambda u: u.time, window=cfg.snapshot_window)


def _roster(community, sessions, out, usage) -> None:  # type: ignore[no-untyped-def]
    for members in sessions:
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        sid = stable_id("r", community, anchor.shot.id)
        at = iso(min(u.time for u in members))
        for pid, picks in sorted(_picks(members).items()):
            win = _best(picks)
            _conflict(community, "roster_snapshots", sid, "power", picks, out["review_queue"])
            row = win.row
            furnace = row.get("furnace_text")
            pn = parse_name(row.get("name") or "")
            out["roster_snapshots"].append({
                "snapshot_id": sid, "community": community, "captured_at": at, "player_id": pid, "name": pn.name,
                "tag": pn.tag, "power": row.get("power"), "power_text": row.get("power_text"),
                "furnace_text": furnace,
                "furnace_level": int(furnace) if isinstance(furnace, str) and furnace.strip().isdigit() else None,
                "tier": row.get("tier"), "confidence": win.used.reading.confidence[win.index],
                "screenshot_id": win.used.shot.id})
        _mark(usage, members, "roster_snapshots", sid)


def _alliance_power(community, used, cfg, out, usage) -> None:  # type: ignore[no-untyped-def]
    for members in _sessions(used, "alliance_ranking", cfg):
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        sid = stable_id("a", community, anchor.shot.id)
        at = iso(min(u.time for u in members))
        best: dict[str, Pick] = {}
        for u in members:
            for i, row in enumerate(u.reading.rows):
                key = normalize(row.get("alliance") or row.get("tag") or "")
                if key:
                    p = Pick(u, i)
                    if key not in best or (p.confidence, u.shot.id) > (best[key].confidence, best[key].used.shot.id):
                        best[key] = p
        for key, p in sorted(best.items()):
            row = p.row
            out["alliance_power_snapshots"].append({
                "snapshot_id": sid, "community": community, "captured_at": at, "rank": row.get("rank"),
                "tag": row.get("tag"), "alliance": row.get("alliance") or row.get("tag"), "power": row.get("power"),
                "screenshot_id": p.used.shot.id})
        _mark(usage, members, "alliance_power_snapshots", sid)


def _ac_groups(used: Sequence[Used], cfg: DomainConfig) -> dict[tuple[str, str], list[Used]]:
    """(week, lane) -> its championship order screenshots."""
    groups: dict[tuple[str, str], list[Used]] = defaultdict(list)
    for u in _shaped(used, "lane_signup"):
        groups[(_monday(u.time, cfg), u.reading.meta.get("lane") or "unknown")].append(u)
    return groups


def _signup_groups(used: Sequence[Used], cfg: DomainConfig) -> dict[tuple[Any, str], list[Used]]:
    """(legion, week) -> its foundry sign-up screenshots."""
    groups: dict[tuple[Any, str], list[Used]] = defaultdict(list)
    for u in _shaped(used, "legion_signup"):
        groups[(u.reading.meta.get("legion"), _monday(u.time, cfg))].append(u)
    return groups


def _ac(community, groups, cfg, out, usage) -> None:  # type: ignore[no-untyped-def]
    for (week, lane), members in sorted(groups.items()):
        gid = f"{week} {lane}"
        for pid, picks in sorted(_picks(members).items()):
            win, _ = _latest_best(picks, cfg.snapshot_window)
            out["ac_signups"].append({
                "community": community, "week_start": week, "lane": lane, "order": win.row.get("order"),
                "player_id": pid, "name": win.row.get("name"), "power": win.row.get("power"),
                "captured_at": iso(win.used.time), "confidence": win.used.reading.confidence[win.index],
                "screenshot_id": win.used.shot.id})
        _mark(usage, members, "ac_signups", gid)


# --- foundry ---------------------------------------------------------------------------------------


def _foundry(community, signups, mails, cfg, event_time, notes, out, usage) -> None:  # type: ignore[no-untyped-def]
    """A foundry event is (legion, week): sign-up screens during the week, and the result mail's pages."""
    events: dict[tuple[Any, str], dict[str, list[Used]]] = defaultdict(lambda: {"signup": [], "result": []})
    for key, members in signups.items():
        events[key]["signup"].extend(members)
    for mail in mails:  # one mail, shot as several pages
        legions = [u.reading.meta.get("legion") for u in mail if u.reading.meta.get("legion") is not None]
        when = min(u.event_time for u in mail)
        events[(legions[0] if legions else None, _monday(when, cfg))]["result"].extend(mail)
    review = out["review_queue"]
    for (legion, week), parts in sorted(events.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        members = parts["signup"] + parts["result"]
        eid = stable_id("f", community, legion, week)
        meta: dict[str, Any] = {}
        for u in sorted(parts["signup"], key=lambda u: u.time) + sorted(parts["result"], key=lambda u: u.time):
            meta.update({k: v for k, v in u.reading.meta.items() if v is not None})
        forced = _forced_time(members, event_time)
        results = parts["result"]
        if forced is not None:
            started = forced
        elif results:
            started = min(u.event_time for u in results)
        else:
            started = min(u.time for u in members)
        for pid, picks in sorted(_picks(parts["signup"]).items()):
            win, _ = _latest_best(picks, cfg.snapshot_window)
            r = win.row
            out["foundry_signups"].append({
                "event_id": eid, "player_id": pid, "community": community, "name": r.get("name"),
                "power": r.get("power"), "status": r.get("status"),
                "voted": None if r.get("voted") is None else int(bool(r.get("voted"))), "tier": r.get("tier"),
                "confidence": win.used.reading.confidence[win.index], "screenshot_id": win.used.shot.id})
        for pid, picks in sorted(_picks(results, lambda r: r.get("points") is not None).items()):
            win = _best(picks)
            _conflict(community, "foundry_results", eid, "points", picks, review)
            out["foundry_results"].append({
                "event_id": eid, "player_id": pid, "community": community, "name": win.row.get("name"),
                "rank": win.row.get("rank"), "points": win.row.get("points"),
                "confidence": win.used.reading.confidence[win.index], "screenshot_id": win.used.shot.id})
        out["foundry_events"].append({
            "event_id": eid, "community": community, "legion": legion, "week_start": week, "started_at": iso(started),
            **{k: meta.get(k) for k in ("result", "our_alliance", "our_score", "opponent", "opponent_score", "joined",
                                       "capacity", "substitutes", "troop_power")},
            "screenshots": len(members), "screenshot_ids": _sources(sorted(members, key=lambda u: u.time)),
            "note": _note(members, notes)})
        _mark(usage, members, "foundry_events", eid)


# --- the generic `ranking` shape ------------------------------------------------------------------


def _ranking_kind(members: Sequence[Used]) -> KindDefinition:
    k = kind(members[0].shot.kind)
    assert k is not None and k.read_model is not None
    return k


def _value_of(k: KindDefinition):  # type: ignore[no-untyped-def]
    """Within one ranking, the same positive value read under two names is one row (votes.py)."""
    field = k.read_model.value if k.read_model else None

    def key(row: dict[str, Any]) -> tuple[Any, ...] | None:
        return (row.get(field),) if field and _number(row.get(field)) else None
    return key


def _ranking_groups(used: Sequence[Used]) -> list[list[Used]]:
    """One ranking per kind, `group_by` meta and capture session (screenshots within `session_minutes`)."""
    shots = _shaped(used, "ranking")
    out: list[list[Used]] = []
    for name in sorted({u.shot.kind for u in shots}):  # type: ignore[type-var]
        rm = read_model(name)
        assert rm is not None
        mine = [u for u in shots if u.shot.kind == name]
        out += cluster(mine, time=lambda u: u.time, window=timedelta(minutes=rm.session_minutes),
                       key=lambda u, rm=rm: tuple(str(u.reading.meta.get(g)) for g in rm.group_by))
    return out


def _rankings(community: str, groups: list[list[Used]], out: Rows, usage: dict[str, dict[str, Any]]) -> None:
    """Each ranking's rows in list order, stitched across its overlapping screenshots (ranking.py)."""
    for members in groups:
        k = _ranking_kind(members)
        rm = k.read_model
        assert rm is not None
        table = ranking_table(k)
        members = sorted(members, key=lambda u: (u.time, u.shot.ingest_seq))
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        rid = stable_id("k", community, anchor.shot.id)
        picks = _picks(members)
        pages = [[(u.pids[i], row.get(rm.value) if rm.value else None) for i, row in enumerate(u.reading.rows)
                  if u.pids[i] is not None] for u in members]
        order, gaps = stitch(pages)
        fields = [f for f in k.row_fields() if f != "rank"]
        certain = gaps[0] if gaps else len(order)
        for rank, pid in enumerate(order, start=1):
            win = _best(picks[pid])
            if rm.value:
                _conflict(community, table, rid, rm.value, picks[pid], out["review_queue"])
            out[table].append({"ranking_id": rid, "player_id": pid, "community": community, "rank": rank,
                               "rank_exact": int(rank <= certain), **{f: win.row.get(f) for f in fields},
                               "confidence": win.used.reading.confidence[win.index],
                               "screenshot_id": win.used.shot.id, "readings": len(picks[pid])})
        if gaps:
            out["review_queue"].append(_review(
                community, "ranking_gap", f"{table} {rid}",
                f"{len(gaps)} place(s) where consecutive screenshots of this {k.name} share no row (before rank "
                f"{', '.join(str(g + 1) for g in gaps)}): rows may be missing there, so ranks from {certain + 1} on "
                "are lower bounds (rank_exact = 0); a screenshot of the missing part fills them in", anchor.shot.id))
        group_key = {g: members[0].reading.meta.get(g) for g in rm.group_by}
        out["rankings"].append({
            "ranking_id": rid, "community": community, "game": k.game, "kind": k.name,
            "group_key": _json(group_key) if group_key else None, "started_at": iso(members[0].time),
            "captured_at": iso(members[-1].time), "entries": len(order), "gaps": len(gaps), "screenshots": len(members),
            "screenshot_ids": _sources(members)})
        _mark(usage, members, table, rid)


# --- the `team_match` and `race` shapes -------------------------------------------------------------

RESULT_WINDOW = timedelta(days=2)  # two copies of one result are posted within this of each other


def _result_groups(used: Sequence[Used], shape: str) -> list[list[Used]]:
    """One result per group: screenshots showing the same totals, or mostly the same rows, are one (sent twice)."""
    def evidence(u: Used) -> Iterable[Hashable]:
        t1, t2 = u.reading.meta.get("team1_total"), u.reading.meta.get("team2_total")
        if isinstance(t1, int) and isinstance(t2, int) and t1 + t2 > 0:
            yield ("totals", t1, t2)
        rows = sorted((str(u.pids[i]), r.get("score")) for i, r in enumerate(u.reading.rows)
                      if u.pids[i] is not None and isinstance(r.get("score"), int))
        if len(rows) >= 4:
            yield ("rows", tuple(rows))
    # each screenshot its own key: only evidence joins (tables downloaded together share their file times)
    return cluster(_shaped(used, shape), time=lambda u: u.time, window=timedelta(0), key=lambda u: u.shot.id,
                   compatible=lambda a, b: abs(a.time - b.time) <= RESULT_WINDOW, evidence=evidence)


def _shown_day(text: Any, cfg: DomainConfig) -> datetime | None:
    """The date a table shows (`18 Jul 2025`), as the start of that day in the screenshots' time zone."""
    day = shown_date(text) if isinstance(text, str) else None
    return datetime.combine(day, datetime.min.time(), cfg.tz).astimezone(timezone.utc) if day else None


def _matches(community: str, groups: list[list[Used]], used: Sequence[Used], cfg: DomainConfig,
             event_time: dict[str, datetime], out: Rows, usage: dict[str, dict[str, Any]]) -> None:
    """Wars: each team's players and scores, the community's own team (the one whose players it sees elsewhere),
    the result, and each score scaled to a full match for subs (matches.py)."""
    shots_of: dict[str, set[str]] = defaultdict(set)  # player -> the screenshots they were read on
    for u in used:
        for pid in u.pids:
            if pid is not None:
                shots_of[pid].add(u.shot.id)
    for members in groups:
        members = sorted(members, key=lambda u: (u.time, u.shot.ingest_seq))
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        rm = read_model(anchor.shot.kind)
        assert rm is not None
        wid = stable_id("w", community, anchor.shot.id)
        mine = {u.shot.id for u in members}
        elsewhere = {pid for pid, shots in shots_of.items() if shots - mine}
        picks = _picks(members, lambda r: r.get("score") is not None)
        best = {pid: _best(p) for pid, p in picks.items()}
        teams: dict[int, list[str]] = defaultdict(list)
        for pid, win in sorted(best.items()):
            teams[win.row.get("team") or 1].append(pid)
        ours = our_team(teams, elsewhere) if teams else 1
        meta: dict[str, Any] = {}
        for u in members:
            meta.update({k: v for k, v in u.reading.meta.items() if v is not None and k not in meta})
        sums = team_totals((w.row.get("team"), w.row.get("score")) for w in best.values())
        shown = {1: meta.get("team1_total"), 2: meta.get("team2_total")}
        our_total = shown.get(ours) if shown.get(ours) is not None else sums.get(ours)
        their = 2 if ours == 1 else 1
        their_total = shown.get(their) if shown.get(their) is not None else sums.get(their)
        off = [f"team {t}: rows add up to {sums.get(t, 0)}, the screen shows {v}" for t, v in shown.items()
               if isinstance(v, int) and sums.get(t, 0) != v]
        check = None if not any(isinstance(v, int) for v in shown.values()) else ("; ".join(off) or "ok")
        if off:
            out["review_queue"].append(_review(community, "conflict", f"wars {wid} totals",
                                               f"war {meta.get('title') or wid}: {'; '.join(off)} (a row is "
                                               "missing, doubtful or misread)", anchor.shot.id))
        full = rm.full_races
        races = meta.get("races") if isinstance(meta.get("races"), int) else full
        for pid, win in sorted(best.items()):
            row = win.row
            played = row.get("races") if isinstance(row.get("races"), int) else races
            score = row.get("score")
            _conflict(community, "war_scores", wid, "score", picks[pid], out["review_queue"])
            out["war_scores"].append({
                "war_id": wid, "player_id": pid, "community": community, "team": row.get("team"),
                "ours": int((row.get("team") or 1) == ours), "name": row.get("name"), "score": score,
                "races": played, "score_full": per_full_match(score, played, full),
                "score_per_race": round(score / played, 2) if isinstance(score, int) and played else None,
                "confidence": win.used.reading.confidence[win.index], "screenshot_id": win.used.shot.id,
                "readings": len(picks[pid])})
        out["wars"].append({
            "war_id": wid, "community": community, "kind": anchor.shot.kind,
            "played_at": iso(_forced_time(members, event_time) or _shown_day(meta.get("date"), cfg) or members[0].time),
            "date_text": meta.get("date"), "title": meta.get("title"), "our_team": ours, "our_total": our_total,
            "their_total": their_total,
            "diff": (our_total - their_total) if isinstance(our_total, int) and isinstance(their_total, int) else None,
            "result": result(our_total, their_total), "races": races, "players": len(best), "totals_check": check,
            "screenshots": len(members), "screenshot_ids": _sources(members)})
        _mark(usage, members, "wars", wid)


def _races(community: str, groups: list[list[Used]], out: Rows, usage: dict[str, dict[str, Any]]) -> None:
    for members in groups:
        members = sorted(members, key=lambda u: (u.time, u.shot.ingest_seq))
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        rid = stable_id("c", community, anchor.shot.id)
        picks = _picks(members)
        for pid, p in sorted(picks.items()):
            win = _best(p)
            _conflict(community, "race_results", rid, "score", p, out["review_queue"])
            out["race_results"].append({
                "race_id": rid, "player_id": pid, "community": community, "rank": win.row.get("rank"),
                "name": win.row.get("name"), "score": win.row.get("score"),
                "confidence": win.used.reading.confidence[win.index], "screenshot_id": win.used.shot.id,
                "readings": len(p)})
        out["races"].append({"race_id": rid, "community": community, "kind": anchor.shot.kind,
                             "captured_at": iso(members[0].time), "players": len(picks), "screenshots": len(members),
                             "screenshot_ids": _sources(members)})
        _mark(usage, members, "races", rid)


# --- players ---------------------------------------------------------------------------------------


def _players(community: str, ident: Identity, cfg: DomainConfig, out: Rows) -> None:
    review = out["review_queue"]
    for pid, p in sorted(ident.players.items()):
        out["players"].append({"player_id": pid, "community": community, "display_name": p.display_name,
                               "tag": p.tag, "name_key": p.name_key, "first_seen": p.first_seen or None,
                               "last_seen": p.last_seen or None, "sightings": p.sightings})
    for key, a in sorted(ident.aliases.items()):
        final = ident.final.get(a.player_id, a.player_id)
        out["player_aliases"].append({
            "community": community, "name_key": key, "player_id": final, "name": a.name, "tag": a.tag,
            "match": a.match, "score": round(a.score, 1), "first_seen": a.first_seen, "last_seen": a.last_seen,
            "screenshot_id": a.screenshot_id, "sightings": a.sightings})
        if a.match == "ambiguous":
            review.append(_review(community, "unmatched_name", f"alias {key}",
                                  f"{a.name!r} is close to several players ({', '.join(a.candidates)}); kept apart",
                                  a.screenshot_id, final))
        elif a.match == "new" and a.sightings == 1 and ident.players.get(final) and ident.players[final].sightings == 1:
            review.append(_review(community, "unmatched_name", f"alias {key}",
                                  f"{a.name!r} matched no known player and was seen once", a.screenshot_id, final))
    for a, b, score in likely_duplicates(list(ident.players.values()), cfg.duplicate_threshold):
        pa, pb = ident.players[a], ident.players[b]
        review.append(_review(community, "duplicate_player", f"{a}~{b}",
                              f"{pa.display_name!r} and {pb.display_name!r} look alike ({score:.0f}); "
                              f"`observatory correct merge-players` if they are one", None, a, None))
