"""Writing a community's domain rows: all of them (a full derivation), or just what an incremental settle changed.

A full derivation's rows replace the community's (`replace_rows`, writing only the rows that differ). An
incremental one (state.py) gives a `Delta`: the groups it made anew, each replaced within its scope (the
group's id, or a calendar window's key, in every table the group writes), and the rows of the other
tables by their keys.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ...games import pack_tables, sources
from . import schema
from .families import Grp
from .model import iso, parse_time


@dataclass
class Delta:
    """What `append` changed: each (table, scope) given its rows anew, and the rows keyed by their table's key."""

    scoped: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = field(default_factory=list)
    review_gone: list[dict[str, Any]] = field(default_factory=list)  # items of the scopes made anew, as they were
    review: list[dict[str, Any]] = field(default_factory=list)  # ... and as they are
    usage: list[dict[str, Any]] = field(default_factory=list)  # screenshot_usage rows that changed or are new
    players: list[dict[str, Any]] = field(default_factory=list)
    players_gone: list[str] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    aliases_gone: list[str] = field(default_factory=list)
    players_count: int = 0
    times: list[tuple[str, str]] = field(default_factory=list)  # (screenshot, capture time) of those taken in


def row_tuple(table: str, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(c) for c in schema.COLUMNS[table])


def scope(table: str, g: Grp) -> tuple[tuple[str, Any], ...]:
    """The columns and values that pick `g`'s rows out of `table`: its id, else its calendar key."""
    return tuple((col, _scope_value(op, name, g)) for col, op, name in scope_columns(table))


def _scope_value(op: str, name: str, g: Grp) -> Any:
    if op == "id":
        return g.id
    if op == "community":
        return g.members[0].shot.community
    return g.obj.found.key.get(name)


@lru_cache(maxsize=None)
def scope_columns(table: str) -> tuple[tuple[str, str, str], ...]:
    own = {"rankings": "ranking_id", "wars": "war_id", "war_scores": "war_id", "races": "race_id",
           "race_results": "race_id"}
    if table in own:
        return ((own[table], "id", ""),)
    found = pack_tables().get(table)
    if found is None:  # a ranking kind's entries
        return (("ranking_id", "id", ""),)
    pack = found[0]
    parsed = {col: sources.parse(text) for col, text in pack.tables[table].columns.items()}
    ids = [(col, "id", "") for col, src in parsed.items() if src.op == "id"]
    return tuple(ids) or tuple((col, src.op, src.args[0] if src.args else "") for col, src in parsed.items()
                               if src.op in ("key", "community"))


def write_delta(conn: Any, community: str, d: Delta) -> None:
    """Write what an incremental settle changed (state.py): every scope it made anew, and the rows by their key."""
    for table, scope, rows in d.scoped:
        replace_rows(conn, table, community, rows, where=scope)
    pk = lambda r: (r["community"], r["reason"], r["subject"])  # noqa: E731
    now = {pk(r): r for r in d.review}
    before = {pk(r): r for r in d.review_gone}
    conn.executemany("DELETE FROM review_queue WHERE community = ? AND reason = ? AND subject = ?",
                     [k for k in before if k not in now])
    _upsert(conn, "review_queue", [r for k, r in now.items() if before.get(k) != r])
    fresh = [r for r in d.usage if conn.execute("SELECT 1 FROM screenshot_usage WHERE screenshot_id = ?",
                                                [r["screenshot_id"]]).fetchone() is None]
    _upsert(conn, "screenshot_usage", d.usage)
    conn.executemany("DELETE FROM players WHERE player_id = ?", [(p,) for p in d.players_gone])
    _upsert(conn, "players", d.players)
    conn.executemany("DELETE FROM player_aliases WHERE community = ? AND name_key = ?",
                     [(community, k) for k in d.aliases_gone])
    _upsert(conn, "player_aliases", d.aliases)
    new_ids = {r["screenshot_id"] for r in fresh}
    times = [iso(parse_time(t)) for sid, t in d.times if sid in new_ids]
    found = conn.execute("SELECT screenshots, first_seen, last_seen FROM communities WHERE community = ?",
                         [community]).fetchone()
    if found is None:
        if times:
            _upsert(conn, "communities", [{"community": community, "screenshots": len(times),
                                           "players": d.players_count, "first_seen": min(times),
                                           "last_seen": max(times)}])
        return
    n, first, last = found
    conn.execute("UPDATE communities SET screenshots = ?, players = ?, first_seen = ?, last_seen = ? "
                 "WHERE community = ?", [n + len(times), d.players_count, min([first, *times]), max([last, *times]),
                                         community])


def _upsert(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    cols = schema.COLUMNS[table]
    conn.executemany(f"INSERT OR REPLACE INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) "
                     f"VALUES ({', '.join('?' * len(cols))})", [tuple(r.get(c) for c in cols) for r in rows])


def replace_rows(conn: Any, table: str, community: str, rows: list[dict[str, Any]], *, empty: bool = False,
                 where: dict[str, Any] | None = None) -> None:
    """Make `community`'s rows of `table` exactly `rows`, writing only the ones that changed.

    A new screenshot changes a handful of a big community's hundreds of thousands of rows;
    deleting and re-inserting them all cost more than deriving them, and rewrote every
    index page Datasette had cached. `empty`: the table is known to hold none of them.
    """
    cols = schema.COLUMNS[table]
    names = ", ".join(f"[{c}]" for c in cols)
    insert = f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(cols))})"
    if empty:
        conn.executemany(insert, [tuple(r.get(c) for c in cols) for r in rows])
        return
    wanted = Counter(tuple(r.get(c) for c in cols) for r in rows)
    stale = []
    scope = "".join(f" AND [{c}] = ?" if v is not None else f" AND [{c}] IS NULL" for c, v in (where or {}).items())
    args = [community, *(v for v in (where or {}).values() if v is not None)]
    for rowid, *values in conn.execute(f"SELECT rowid, {names} FROM [{table}] WHERE community = ?{scope}", args):
        row = tuple(values)
        if wanted[row] > 0:
            wanted[row] -= 1
        else:
            stale.append((rowid,))
    conn.executemany(f"DELETE FROM [{table}] WHERE rowid = ?", stale)
    conn.executemany(insert, wanted.elements())
