"""The steps of a community's derivation, each a pure function of its part of the facts.

A screenshot's reading (`use`), the names it shows (`sightings`), one group's votes (`vote`) and rows
(`group_rows`), a player's or an alias's row (`player_row`, `alias_row`, people.py keeps them): state.py
runs them over a whole community, or over just what a new screenshot touches, and both give the same
tables, because these steps are all there is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rapidfuzz import fuzz

from ...correct.rows import Reading, address_of, apply_fixes, describe, doubtful_fields, row_name
from ...correct.state import Record, forced_kinds, in_force
from ...eventlog.models import (AddRow, Confirm, DeleteRow, LinkAlias, MergePlayers, NoteCorrection, RenamePlayer, Retract,
                                SetEventTime, SetValue, UnlinkAlias)
from ...games import KindDefinition, kind, ranking_table, read_model, shape_of
from ...games.format import VoteRule
from ...identity import normalize, parse_name
from ...identity.matching import MIN_FUZZY_LENGTH
from . import events, snapshots
from .crosscheck import Measured
from .families import Grp
from .matches import our_team, per_full_match, result, shown_date, team_totals
from .ranking import stitch
from .model import DomainConfig, Shot, iso, local_to_utc, parse_time, stable_id
from .players import Alias, Identity, Player
from .used import Rows, Used, as_json, best, conflict, forced_time, mark, picks_of, positive, review_item, source_ids
from .votes import Vote, settle

ROW_FIXES = (SetValue, Confirm, DeleteRow, AddRow)
IDENTITY_FIXES = (LinkAlias, UnlinkAlias, MergePlayers, RenamePlayer)


@dataclass(slots=True)
class Context:
    """What a community's corrections in force say, sorted by what each step needs."""

    identity: list[Any] = field(default_factory=list)  # links, unlinks, merges, renames, in log order
    forced: dict[str, str | None] = field(default_factory=dict)
    fixes: dict[str, list[Record]] = field(default_factory=dict)
    retracted: set[str] = field(default_factory=set)
    shot_time: dict[str, datetime] = field(default_factory=dict)
    event_time: dict[str, datetime] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    per_shot: dict[str, int] = field(default_factory=dict)


def context(records: Sequence[Record]) -> Context:
    active = in_force(records)
    ctx = Context(identity=[r.correction for r in active if isinstance(r.correction, IDENTITY_FIXES)],
                  forced=forced_kinds(records))
    fixes: dict[str, list[Record]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)
    per_shot: dict[str, int] = defaultdict(int)
    for r in active:
        c = r.correction
        sid = getattr(c, "screenshot_id", None)
        if sid:
            per_shot[sid] += 1
        if isinstance(c, ROW_FIXES):
            fixes[c.screenshot_id].append(r)
        elif isinstance(c, Retract):
            ctx.retracted.add(c.screenshot_id)
        elif isinstance(c, SetEventTime):
            (ctx.shot_time if c.scope == "screenshot" else ctx.event_time)[c.screenshot_id] = parse_time(c.at)
        elif isinstance(c, NoteCorrection) and c.screenshot_id:
            notes[c.screenshot_id].append(c.text)
    ctx.fixes, ctx.notes, ctx.per_shot = dict(fixes), dict(notes), dict(per_shot)
    return ctx


def use(community: str, s: Shot, ctx: Context, cfg: DomainConfig) -> tuple[dict[str, Any], Used | None,
                                                                          list[dict[str, Any]]]:
    """A screenshot's `screenshot_usage` row, its reading if it counts, and the review items of that reading."""
    want = ctx.forced.get(s.id, s.requested_kind)
    t = ctx.shot_time.get(s.id) or parse_time(s.captured_at)
    state = None
    if s.id in ctx.retracted:
        state = "retracted"
    elif s.status != "extracted":
        state = f"not counted ({s.status})"
    elif want != s.requested_kind:
        state = "awaiting re-extraction"
    elif read_model(s.kind) is None:  # a kind its pack reads but does not project
        state = f"not counted ({s.kind})"
    usage = {"screenshot_id": s.id, "community": community, "kind": s.kind, "used_in": state,
             "group_id": None, "event_time": iso(t), "retracted": int(s.id in ctx.retracted),
             "corrections": ctx.per_shot.get(s.id, 0)}
    if state is not None:
        return usage, None, []
    review: list[dict[str, Any]] = []
    reading = apply_fixes(s.kind, s.meta, s.rows, s.row_confidence, ctx.fixes.get(s.id, ()))  # type: ignore[arg-type]
    for cid, why in reading.problems:
        review.append(review_item(community, "correction_unmatched", cid, f"correction {cid} on {s.id[:12]}: {why}",
                                  s.id))
    reading = _set_doubtful_aside(community, s, reading, review)
    shown = reading.meta.get("mail_time")
    mail = None if s.id in ctx.shot_time or not isinstance(shown, str) else local_to_utc(shown, cfg.tz)
    return usage, Used(s, reading, t, mail, [None] * len(reading.rows)), review


def sightings(u: Used) -> list[tuple[int, str]]:
    """The rows whose names identity resolves, with the names it sees."""
    if not _of_players(u.shot.kind):
        return []
    return [(i, name) for i, name in enumerate(_names(u)) if isinstance(name, str) and normalize(name)]


def measured(u: Used, ctx: Context) -> list[Measured]:
    """The readings of `u` the cross-check compares (crosscheck.py), by its voted players."""
    if u.shot.id in ctx.fixes:
        return []
    return [Measured(pid, u.shot.kind, row, u.time, (u, i))  # type: ignore[arg-type]
            for i, (pid, row) in enumerate(zip(u.voted, u.reading.rows)) if pid is not None]


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
        review.append(review_item(community, "doubtful", f"{s.id[:12]}#{i}",
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


def _of_players(kind: str | None) -> bool:
    """Whether a kind's rows are players (their names go through identity), as its pack declares."""
    rm = read_model(kind)
    return rm is not None and rm.players


def _vote_key(vote: VoteRule):  # type: ignore[no-untyped-def]
    """A row's identity in its list, as its kind declares it: a position and a value, or a value alone."""
    if len(vote.by) == 1:
        (only,) = vote.by

        def one(row: dict[str, Any]) -> tuple[Any, ...] | None:
            v = row.get(only)
            return (v,) if positive(v) else None
        return one
    position, field = vote.by

    def two(row: dict[str, Any]) -> tuple[Any, ...] | None:
        p, v = row.get(position), row.get(field)
        return (p, v) if positive(p) and positive(v) else None
    return two


def _sources(g: Grp, alike: Any) -> list[tuple[str, list[Used], Any, tuple[str, str], Any]]:
    """The lists whose rows `g`'s readings vote on: (table, screenshots, a row's key, its labels, name test)."""
    out: list[tuple[str, list[Used], Any, tuple[str, str], Any]] = []
    shape = g.family.shape
    declared: list[tuple[str, list[Used], VoteRule]] = []
    if shape == "event":
        declared = [(table, part, rm.vote) for table, (rm, part) in g.obj.parts().items() if rm.vote is not None]
    elif shape == "snapshot" and g.obj.rm.vote is not None:
        declared = [(g.obj.table, g.members, g.obj.rm.vote)]
    out += [(table, m, _vote_key(v), (v.by[0], v.by[1] if len(v.by) > 1 else ""), alike if v.alike else None)
            for table, m, v in declared]
    if shape == "ranking":
        out.append((_ranking_kind(g.members).name, g.members, _value_of(_ranking_kind(g.members)), ("", ""), alike))
    elif shape == "team_match":
        out.append(("war_scores", g.members, _vote_key(VoteRule(by=["team", "score"])), ("team", "score"), alike))
    elif shape == "race":
        out.append(("race_results", g.members, _vote_key(VoteRule(by=["rank", "score"])), ("rank", "score"), alike))
    return out


def vote(community: str, g: Grp, ident: Identity, seen: Mapping[str, int], first: Mapping[str, int],
         cfg: DomainConfig) -> None:
    """Readings of one row of one of `g`'s lists under different names become one player's (see votes.py).

    Strong evidence (the same rank or order with the same value in one event) settles it
    whatever the names; a shared power alone only joins names that look alike (Mar and
    Marra with one power stay two). Sets the members' `voted` players and `g.moves` (a
    player left with no row of its own was a misreading: `absorb`), `g.deps` (the players
    whose sightings elsewhere the outcome weighed, with the row counts their sightings were weighed against) and
    `g.review`.
    """
    def alike(a: str, b: str) -> bool:  # as long as a name a fuzzy match accepts, and close enough to review
        return min(len(a), len(b)) >= MIN_FUZZY_LENGTH and fuzz.ratio(a, b) >= cfg.duplicate_threshold

    for u in g.members:
        u.pids, u.outvoted = list(u.base), set()
    by_id = {u.shot.id: u for u in g.members}
    moves: list[tuple[str, str]] = []
    deps: dict[str, set[int]] = {}
    review: list[dict[str, Any]] = []
    for table, members, key_of, labels, similar in _sources(g, alike):
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
            if len({v.pid for v in votes}) > 1 and len({v.shot_id for v in votes}) > 1:
                for pid, n in Counter(v.pid for v in votes).items():  # a player seen more than n times tips it
                    deps.setdefault(pid, set()).add(n)
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
            review.append(review_item(community, "name_disagreement", f"{table} {anchor[:12]} {where}",
                                      f"{where} read under different names: {readings}; counted as {won.name!r} "
                                      "(`observatory correct unlink-alias` or `set-value … name` if that is wrong)",
                                      moved[0].shot_id, ident.final.get(winner, winner), won.confidence))
    for u in g.members:
        u.voted = u.pids
    g.moves, g.deps, g.review = moves, {pid: frozenset(n) for pid, n in deps.items()}, review


def _low_confidence(community: str, u: Used, cfg: DomainConfig, review: list[dict[str, Any]]) -> None:
    for i, row in enumerate(u.reading.rows):
        c = u.reading.confidence[i]
        if c is not None and c < cfg.low_confidence:
            shown = row_name(row) or "?"
            values = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("name", "alliance"))
            review.append(review_item(community, "low_confidence", f"{u.shot.id[:12]}#{i}",
                                      f"{u.shot.kind} row {shown!r} ({values}) read with confidence {c:.2f}",
                                      u.shot.id, u.pids[i], c))


def doubt(u: Used, doubts: Mapping[tuple[str, int], str]) -> None:
    """`u`'s players once the cross-check's doubtful exact values are set aside (crosscheck.py)."""
    sid = u.shot.id
    u.pids = [None if pid is not None and (sid, i) in doubts else pid for i, pid in enumerate(u.voted)]


def group_rows(community: str, g: Grp, ctx: Context, cfg: DomainConfig, doubts: Mapping[tuple[str, int], str],
               elsewhere: Any, usage: dict[str, dict[str, Any]]) -> Rows:
    """`g`'s rows in every table it writes, with its review items (`doubt` already applied to its members).

    `elsewhere(pids, members)`: those of `pids` read on screenshots outside `members` (team_match only).
    `usage`: its members' `screenshot_usage` rows, marked here with the group."""
    out: Rows = defaultdict(list)
    review = out["review_queue"]
    review += g.review
    for u in g.members:
        for i, pid in enumerate(u.voted):
            reason = doubts.get((u.shot.id, i)) if pid is not None else None
            if reason is not None:  # an exact value that no abbreviation of the player's explains: review, not tables
                review.append(review_item(community, "doubtful", f"{u.shot.id[:12]}#{i}",
                                          f"{u.shot.kind} row #{i}: {reason}", u.shot.id, pid,
                                          u.reading.confidence[i]))
        _low_confidence(community, u, cfg, review)
    shape = g.family.shape
    if shape == "event":
        events.rows(community, g.obj, cfg, ctx.event_time, ctx.notes, out, usage)
    elif shape == "snapshot":
        snapshots.rows(community, g.obj, cfg, out, usage)
    elif shape == "ranking":
        _ranking(community, g, out, usage)
    elif shape == "team_match":
        _match(community, g, cfg, ctx.event_time, elsewhere, out, usage)
    else:
        _race(community, g, out, usage)
    return out


# --- the generic `ranking` shape ------------------------------------------------------------------


def _ranking_kind(members: Sequence[Used]) -> KindDefinition:
    k = kind(members[0].shot.kind)
    assert k is not None and k.read_model is not None
    return k


def _value_of(k: KindDefinition):  # type: ignore[no-untyped-def]
    """Within one ranking, the same positive value read under two names is one row (votes.py)."""
    field = k.read_model.value if k.read_model else None

    def key(row: dict[str, Any]) -> tuple[Any, ...] | None:
        return (row.get(field),) if field and positive(row.get(field)) else None
    return key


def _ranking(community: str, g: Grp, out: Rows, usage: dict[str, dict[str, Any]]) -> None:
    """A ranking's rows in list order, stitched across its overlapping screenshots (ranking.py)."""
    for members in (g.members,):
        k = _ranking_kind(members)
        rm = k.read_model
        assert rm is not None
        table = ranking_table(k)
        members = sorted(members, key=lambda u: (u.time, u.shot.ingest_seq))
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        rid = stable_id("k", community, anchor.shot.id)
        picks = picks_of(members)
        pages = [[(u.pids[i], row.get(rm.value) if rm.value else None) for i, row in enumerate(u.reading.rows)
                  if u.pids[i] is not None] for u in members]
        order, gaps = stitch(pages)
        fields = [f for f in k.row_fields() if f != "rank"]
        certain = gaps[0] if gaps else len(order)
        for rank, pid in enumerate(order, start=1):
            win = best(picks[pid])
            if rm.value:
                conflict(community, table, rid, rm.value, picks[pid], out["review_queue"])
            out[table].append({"ranking_id": rid, "player_id": pid, "community": community, "rank": rank,
                               "rank_exact": int(rank <= certain), **{f: win.row.get(f) for f in fields},
                               "confidence": win.used.reading.confidence[win.index],
                               "screenshot_id": win.used.shot.id, "readings": len(picks[pid])})
        if gaps:
            out["review_queue"].append(review_item(
                community, "ranking_gap", f"{table} {rid}",
                f"{len(gaps)} place(s) where consecutive screenshots of this {k.name} share no row (before rank "
                f"{', '.join(str(g + 1) for g in gaps)}): rows may be missing there, so ranks from {certain + 1} on "
                "are lower bounds (rank_exact = 0); a screenshot of the missing part fills them in", anchor.shot.id))
        group_key = {g: members[0].reading.meta.get(g) for g in rm.group_by}
        out["rankings"].append({
            "ranking_id": rid, "community": community, "game": k.game, "kind": k.name,
            "group_key": as_json(group_key) if group_key else None, "started_at": iso(members[0].time),
            "captured_at": iso(members[-1].time), "entries": len(order), "gaps": len(gaps), "screenshots": len(members),
            "screenshot_ids": source_ids(members)})
        mark(usage, members, table, rid)


# --- the `team_match` and `race` shapes -------------------------------------------------------------

def _shown_day(text: Any, cfg: DomainConfig) -> datetime | None:
    """The date a table shows (`18 Jul 2025`), as the start of that day in the screenshots' time zone."""
    day = shown_date(text) if isinstance(text, str) else None
    return datetime.combine(day, datetime.min.time(), cfg.tz).astimezone(timezone.utc) if day else None


def _match(community: str, g: Grp, cfg: DomainConfig, event_time: dict[str, datetime], elsewhere_of: Any,
           out: Rows, usage: dict[str, dict[str, Any]]) -> None:
    """A war: each team's players and scores, the community's own team (the one whose players it sees elsewhere),
    the result, and each score scaled to a full match for subs (matches.py)."""
    for members in (g.members,):
        members = sorted(members, key=lambda u: (u.time, u.shot.ingest_seq))
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        rm = read_model(anchor.shot.kind)
        assert rm is not None
        wid = stable_id("w", community, anchor.shot.id)
        picks = picks_of(members, lambda r: r.get("score") is not None)
        kept = {pid: best(p) for pid, p in picks.items()}
        teams: dict[int, list[str]] = defaultdict(list)
        for pid, win in sorted(kept.items()):
            teams[win.row.get("team") or 1].append(pid)
        ours = our_team(teams, elsewhere_of(set(kept), members)) if teams else 1
        meta: dict[str, Any] = {}
        for u in members:
            meta.update({k: v for k, v in u.reading.meta.items() if v is not None and k not in meta})
        sums = team_totals((w.row.get("team"), w.row.get("score")) for w in kept.values())
        shown = {1: meta.get("team1_total"), 2: meta.get("team2_total")}
        our_total = shown.get(ours) if shown.get(ours) is not None else sums.get(ours)
        their = 2 if ours == 1 else 1
        their_total = shown.get(their) if shown.get(their) is not None else sums.get(their)
        off = [f"team {t}: rows add up to {sums.get(t, 0)}, the screen shows {v}" for t, v in shown.items()
               if isinstance(v, int) and sums.get(t, 0) != v]
        check = None if not any(isinstance(v, int) for v in shown.values()) else ("; ".join(off) or "ok")
        if off:
            out["review_queue"].append(review_item(community, "conflict", f"wars {wid} totals",
                                               f"war {meta.get('title') or wid}: {'; '.join(off)} (a row is "
                                               "missing, doubtful or misread)", anchor.shot.id))
        full = rm.full_races
        races = meta.get("races") if isinstance(meta.get("races"), int) else full
        for pid, win in sorted(kept.items()):
            row = win.row
            played = row.get("races") if isinstance(row.get("races"), int) else races
            score = row.get("score")
            conflict(community, "war_scores", wid, "score", picks[pid], out["review_queue"])
            out["war_scores"].append({
                "war_id": wid, "player_id": pid, "community": community, "team": row.get("team"),
                "ours": int((row.get("team") or 1) == ours), "name": row.get("name"), "score": score,
                "races": played, "score_full": per_full_match(score, played, full),
                "score_per_race": round(score / played, 2) if isinstance(score, int) and played else None,
                "confidence": win.used.reading.confidence[win.index], "screenshot_id": win.used.shot.id,
                "readings": len(picks[pid])})
        out["wars"].append({
            "war_id": wid, "community": community, "kind": anchor.shot.kind,
            "played_at": iso(forced_time(members, event_time) or _shown_day(meta.get("date"), cfg) or members[0].time),
            "date_text": meta.get("date"), "title": meta.get("title"), "our_team": ours, "our_total": our_total,
            "their_total": their_total,
            "diff": (our_total - their_total) if isinstance(our_total, int) and isinstance(their_total, int) else None,
            "result": result(our_total, their_total), "races": races, "players": len(kept), "totals_check": check,
            "screenshots": len(members), "screenshot_ids": source_ids(members)})
        mark(usage, members, "wars", wid)


def _race(community: str, g: Grp, out: Rows, usage: dict[str, dict[str, Any]]) -> None:
    for members in (g.members,):
        members = sorted(members, key=lambda u: (u.time, u.shot.ingest_seq))
        anchor = min(members, key=lambda u: u.shot.ingest_seq)
        rid = stable_id("c", community, anchor.shot.id)
        picks = picks_of(members)
        for pid, p in sorted(picks.items()):
            win = best(p)
            conflict(community, "race_results", rid, "score", p, out["review_queue"])
            out["race_results"].append({
                "race_id": rid, "player_id": pid, "community": community, "rank": win.row.get("rank"),
                "name": win.row.get("name"), "score": win.row.get("score"),
                "confidence": win.used.reading.confidence[win.index], "screenshot_id": win.used.shot.id,
                "readings": len(p)})
        out["races"].append({"race_id": rid, "community": community, "kind": anchor.shot.kind,
                             "captured_at": iso(members[0].time), "players": len(picks), "screenshots": len(members),
                             "screenshot_ids": source_ids(members)})
        mark(usage, members, "races", rid)


# --- players ---------------------------------------------------------------------------------------


def player_row(community: str, p: Player) -> dict[str, Any]:
    return {"player_id": p.player_id, "community": community, "display_name": p.display_name, "tag": p.tag,
            "name_key": p.name_key, "first_seen": p.first_seen or None, "last_seen": p.last_seen or None,
            "sightings": p.sightings}


def alias_row(community: str, key: str, a: Alias, final: str, evidence: bool, player: Player | None
              ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """An alias's row (`final`: the player its names count for; `evidence`: its own player was absorbed as a
    misreading, derive.vote) and its review item, if it needs one."""
    row = {"community": community, "name_key": key, "player_id": final, "name": a.name, "tag": a.tag,
           "match": "evidence" if evidence else a.match, "score": round(a.score, 1), "first_seen": a.first_seen,
           "last_seen": a.last_seen, "screenshot_id": a.screenshot_id, "sightings": a.sightings}
    item = None
    if a.match == "ambiguous" and not evidence:
        item = review_item(community, "unmatched_name", f"alias {key}",
                           f"{a.name!r} is close to several players ({', '.join(a.candidates)}); kept apart",
                           a.screenshot_id, final)
    elif a.match == "new" and not evidence and a.sightings == 1 and player is not None and player.sightings == 1:
        item = review_item(community, "unmatched_name", f"alias {key}",
                           f"{a.name!r} matched no known player and was seen once", a.screenshot_id, final)
    return row, item


def duplicate_item(community: str, a: str, b: str, score: float, pa: Player, pb: Player) -> dict[str, Any]:
    return review_item(community, "duplicate_player", f"{a}~{b}",
                       f"{pa.display_name!r} and {pb.display_name!r} look alike ({score:.0f}); "
                       f"`observatory correct merge-players` if they are one", None, a, None)


def community_row(community: str, shots: int, players: int, first: str, last: str) -> dict[str, Any]:
    return {"community": community, "screenshots": shots, "players": players, "first_seen": first, "last_seen": last}
