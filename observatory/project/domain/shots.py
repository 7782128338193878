"""A community's screenshots as the derivation reads them, decoded once per extraction in a process.

A settle re-derives a whole community, and reading its screenshots back from
`screenshots`/`extracted_rows` meant decoding every row's JSON again, each time one new
screenshot arrived (a third of a settle). What a screenshot gives the derivation
changes only when its row changes, and every such change sets its `updated_seq` to the
seq of the event that made it; in one log (`log_id`) that event fixes the rows. So the
decoded readings of the communities settled last are kept here, keyed by
(log, screenshot, updated_seq), and a settle decodes only what is new or changed. The
derivation treats readings as read-only (correct/rows.py copies before fixing), so they
are shared. A replay derives each community once and passes no cache: its memory stays
one community's.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from ..framework import META
from .model import Shot

KEEP_COMMUNITIES = 4  # the communities settled last; a daemon's new screenshots come from a few at a time
_COLUMNS = "SELECT id, ingest_seq, captured_at, status, kind, confidence, requested_kind, meta, updated_seq, community"
_SELECT = f"{_COLUMNS} FROM screenshots WHERE community = ? ORDER BY ingest_seq"

Decoded = tuple[int, dict[str, Any], list[dict[str, Any]], list[float | None]]  # updated_seq, meta, rows, confidence


class ShotCache:
    """Decoded readings of the last few communities settled, for one process."""

    def __init__(self, keep: int = KEEP_COMMUNITIES) -> None:
        self.keep = keep
        self._communities: OrderedDict[tuple[str, str], dict[str, Decoded]] = OrderedDict()

    def get(self, log_id: str, community: str) -> dict[str, Decoded]:
        found = self._communities.get((log_id, community), {})
        if found:
            self._communities.move_to_end((log_id, community))
        return found

    def put(self, log_id: str, community: str, decoded: dict[str, Decoded]) -> None:
        self._communities[(log_id, community)] = decoded
        self._communities.move_to_end((log_id, community))
        while len(self._communities) > self.keep:
            self._communities.popitem(last=False)

    def clear(self) -> None:
        self._communities.clear()


CACHE = ShotCache()


def load_shots(conn: Any, community: str, cache: ShotCache | None = None) -> list[Shot]:
    """`community`'s screenshots with their newest extraction's rows, in ingest order."""
    loads = json.loads
    log_id = None
    known: dict[str, Decoded] = {}
    if cache is not None:
        row = conn.execute(f"SELECT value FROM [{META}] WHERE key = 'log_id'").fetchone()
        log_id = row[0] if row else None
        if log_id is not None:
            known = cache.get(log_id, community)
    shots: dict[str, Shot] = {}
    decoded: dict[str, Decoded] = {}
    missing: list[str] = []
    for sid, seq, captured, status, kind, conf, requested, meta, updated, _ in conn.execute(_SELECT, [community]):
        hit = known.get(sid)
        if hit is not None and hit[0] == updated:
            _, m, rows, confidence = hit
            shots[sid] = Shot(sid, community, seq or 0, captured, status, kind, conf, requested, m, rows, confidence)
        else:
            shots[sid] = Shot(sid, community, seq or 0, captured, status, kind, conf, requested,
                              loads(meta) if meta else {})
            missing.append(sid)
        decoded[sid] = (updated, shots[sid].meta, shots[sid].rows, shots[sid].row_confidence)
    if len(missing) * 4 > len(shots):  # most of it: one pass over the community's rows
        wanted = set(missing)
        rows = conn.execute(
            "SELECT r.screenshot_id, r.data, r.confidence FROM extracted_rows r JOIN screenshots s "
            "ON s.id = r.screenshot_id WHERE s.community = ? ORDER BY r.screenshot_id, r.row_index", [community])
        for sid, data, conf in rows:
            if sid in wanted:
                s = shots[sid]
                s.rows.append(loads(data))
                s.row_confidence.append(conf)
    else:
        for sid in missing:
            s = shots[sid]
            for data, conf in conn.execute("SELECT data, confidence FROM extracted_rows WHERE screenshot_id = ? "
                                           "ORDER BY row_index", [sid]):
                s.rows.append(loads(data))
                s.row_confidence.append(conf)
    if cache is not None and log_id is not None:
        cache.put(log_id, community, decoded)
    return list(shots.values())


def load_shots_by_id(conn: Any, ids: Iterable[str]) -> list[Shot]:
    """These screenshots with their newest extraction's rows (those the projections hold), in ingest order."""
    loads = json.loads
    shots: list[Shot] = []
    for sid in sorted(set(ids)):
        row = conn.execute(f"{_COLUMNS} FROM screenshots WHERE id = ?", [sid]).fetchone()
        if row is None:
            continue
        sid, seq, captured, status, kind, conf, requested, meta, _, community = row
        s = Shot(sid, community, seq or 0, captured, status, kind, conf, requested, loads(meta) if meta else {})
        for data, c in conn.execute("SELECT data, confidence FROM extracted_rows WHERE screenshot_id = ? "
                                    "ORDER BY row_index", [sid]):
            s.rows.append(loads(data))
            s.row_confidence.append(c)
        shots.append(s)
    return sorted(shots, key=lambda s: (s.ingest_seq, s.id))
