"""The `snapshot` shape: one row per player (or per `entity`) per group of screenshots, in the table the
pack declares: a ranking per period, a roster per capture session, a sign-up list per week and lane."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...games import kinds_by, pack_of, read_model
from ...games.format import Pack, ReadModel
from ...identity import normalize
from .columns import Group, table_row
from .model import DomainConfig
from .used import Pick, Rows, Used, best, conflict, latest_best, mark, picks_of
from .windows import Found, find


@dataclass(slots=True)
class Snapshot:
    table: str
    pack: Pack
    rm: ReadModel  # the first of its kinds' (kinds sharing a table share its rules)
    found: Found


def groups(community: str, table: str, shots: Sequence[Used], cfg: DomainConfig) -> list[Snapshot]:
    """The snapshots of one table's screenshots (`shots`: its kinds', in the family's order, families.py)."""
    names = kinds_by("snapshot", "table")[table]
    rm, pack = read_model(names[0]), pack_of(names[0])
    assert rm is not None and pack is not None
    prefix = pack.tables[table].id_prefix or table[0]
    return [Snapshot(table, pack, rm, found)
            for found in find(community, prefix, shots, rm.window, rm.group_by, cfg, missing="unknown")]


def usable(rm: ReadModel):  # type: ignore[no-untyped-def]
    return lambda row: all(row.get(f) is not None for f in rm.needs)


def rows(community: str, s: Snapshot, cfg: DomainConfig, out: Rows, usage: dict[str, dict[str, Any]]) -> None:
    rm, members = s.rm, s.found.members
    g = Group(community, s.found.id, s.found.key, members, min(u.time for u in members))
    review = out["review_queue"]
    if not rm.players:
        chosen: dict[str, list[Pick]] = defaultdict(list)
        counts = usable(rm)
        for u in members:
            for i, row in enumerate(u.reading.rows):
                key = normalize(next((row.get(f) for f in rm.entity if row.get(f)), "") or "")
                if key and counts(row):
                    chosen[key].append(Pick(u, i))
        for _, picks in sorted(chosen.items()):
            out[s.table].append(table_row(s.table, s.pack, g, best(picks), readings=len(picks)))
    else:
        out[s.table] += player_rows(s.table, s.pack, rm, members, g, cfg, review)
    mark(usage, members, s.table, g.id)


def player_rows(table: str, pack: Pack, rm: ReadModel, members: list[Used], g: Group, cfg: DomainConfig,
                review: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per player of `members`: the reading `keep` says, a conflict for review when they disagree."""
    rows = []
    for pid, picks in sorted(picks_of(members, usable(rm)).items()):
        if rm.keep == "latest":
            win, compared = latest_best(picks, cfg.snapshot_window)
        else:
            win, compared = best(picks), picks
        if rm.value:
            conflict(g.community, table, g.id, rm.value, compared, review)
        rows.append(table_row(table, pack, g, win, pid, len(picks)))
    return rows
