"""The `event` shape: a game event with participants (a bear hunt, a Foundry battle). Its kinds' screenshots
are grouped by time and by the evidence they give (pack.yaml `events`); the event gets one row in its own
table, and each kind's participants go to the kind's table."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...games import kinds, kinds_by, pack_of
from ...games.format import EventSpec, Pack, ReadModel
from .columns import Group, one_of, single_fields, table_row
from .model import DomainConfig
from .snapshots import player_rows
from .used import Rows, Used, forced_time, mark, note_of, review_item
from .windows import Found, find


@dataclass(slots=True)
class Event:
    table: str
    pack: Pack
    spec: EventSpec
    found: Found

    def parts(self) -> dict[str, tuple[ReadModel, list[Used]]]:
        """Each participants table, the read model its kinds share, and its screenshots in the event."""
        out: dict[str, tuple[ReadModel, list[Used]]] = {}
        for u in self.found.members:
            rm = kinds()[u.shot.kind or ""].read_model
            assert rm is not None and rm.table is not None
            out.setdefault(rm.table, (rm, []))[1].append(u)
        return dict(sorted(out.items()))


def groups(community: str, table: str, shots: Sequence[Used], cfg: DomainConfig) -> list[Event]:
    """The events of one event table's screenshots (`shots`: its kinds', in the family's order, families.py)."""
    pack = pack_of(kinds_by("event", "event")[table][0])
    assert pack is not None
    spec = pack.events[table]
    prefix = pack.tables[table].id_prefix or table[0]
    return [Event(table, pack, spec, found)
            for found in find(community, prefix, shots, spec.window, spec.group_by, cfg, evidence=evidence(spec))]


def evidence(spec: EventSpec):  # type: ignore[no-untyped-def]
    """An identical reading (the same player, or the same position, with the same large value) is one event's."""
    ev = spec.evidence
    if ev is None:
        return None
    position, field = (ev.by[0], ev.by[-1]) if len(ev.by) == 2 else (None, ev.by[0])

    def readings(u: Used) -> Iterable[Hashable]:
        for i, row in enumerate(u.reading.rows):
            v = row.get(field)
            if isinstance(v, int) and not isinstance(v, bool) and v >= ev.min:
                yield ("pd", u.base[i], v)
                if position is not None and row.get(position) is not None:
                    yield ("rd", row.get(position), v)
    return readings


def _started(e: Event, event_time: dict[str, datetime]) -> tuple[datetime, str]:
    """A time an admin set; else the earliest mail time the screens show; else the earliest capture; of the kinds
    that date the event when there are any (a battle's result mail, not its sign-ups)."""
    members = e.found.members
    forced = forced_time(members, event_time)
    if forced is not None:
        return forced, "correction"
    dating = [u for u in members if u.shot.kind in e.spec.dated_by] or members
    mails = [u.mail for u in dating if u.mail is not None]
    if mails:
        return min(mails), "mail"
    return min(u.time for u in dating), "capture"


def rows(community: str, e: Event, cfg: DomainConfig, event_time: dict[str, datetime], notes: dict[str, list[str]],
         out: Rows, usage: dict[str, dict[str, Any]]) -> None:
    members = e.found.members
    review = out["review_queue"]
    started, source = _started(e, event_time)
    meta: dict[str, Any] = {}  # the screens' meta, the dating kinds' last so theirs win
    for u in sorted(members, key=lambda u: (u.shot.kind in e.spec.dated_by, u.time)):
        meta.update({k: v for k, v in u.reading.meta.items() if v is not None})
    summaries = [u for u in members if (rm := kinds()[u.shot.kind or ""].read_model) is not None and rm.summary]
    summary = max(summaries, key=lambda u: (u.shot.confidence or 0, u.shot.id), default=None)
    g = Group(community, e.found.id, e.found.key, members, started, source, meta,
              summary.reading.meta if summary else {}, note_of(members, notes))
    for table, (rm, part) in e.parts().items():
        g.tables[table] = player_rows(table, e.pack, rm, part, g, cfg, review)
        out[table] += g.tables[table]
    anchor = min(members, key=lambda u: u.shot.ingest_seq)
    for field in single_fields(e.table, e.pack):
        shown = one_of(members, field)
        if len(shown) > 1:
            review.append(review_item(community, "conflict", f"{e.table} {g.id} {field}",
                                      f"screenshots of one {e.table} row show {field} {shown}", anchor.shot.id))
    out[e.table].append(table_row(e.table, e.pack, g))
    mark(usage, members, e.table, g.id)
