"""A screenshot that was only ingested (not read yet) changes two rows, not its community.

Until it is read it counts for nothing: `derive` gives it a `screenshot_usage` row ("not
counted (ingested)") and counts it in its community's `communities` row, and that is all.
Re-deriving a whole community for that cost a settle as long as its history (seconds in a
big one) for every file the watcher took in, before OCR had even started. So a batch adds
those two rows itself, the very rows a settle would derive, whenever it can know them:
the community was settled with this configuration and nothing else of it waits, the
screenshot is new to the domain tables and still unread, and no correction names it.
Anything else falls back to marking the community for a settle, which is always right.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..framework import CHECKPOINTS, META
from . import schema
from .state import derive
from .model import DomainConfig, Shot

SHOT_SELECT = ("SELECT id, community, ingest_seq, captured_at, status, kind, confidence, requested_kind, meta "
               "FROM screenshots")


def shot_from_row(row: tuple[Any, ...]) -> Shot:
    """A `screenshots` row (SHOT_SELECT's columns) as the derivation's input, without its extracted rows."""
    sid, community, seq, captured, status, kind, conf, requested, meta = row
    return Shot(sid, community, seq or 0, captured, status, kind, conf, requested, json.loads(meta) if meta else {})


def add_unread(conn: Any, ingested: Mapping[str, str], cfg: DomainConfig, *, dirty_table: str,
               projector: str) -> set[str]:
    """Add the rows of the screenshots in `ingested` (sha -> community) that are still unread, where the tables
    allow it; returns the communities that need a settle instead."""
    if not ingested:
        return set()
    everyone = set(ingested.values())
    stored = conn.execute(f"SELECT value FROM [{META}] WHERE key = 'domain_config'").fetchone()
    if stored is None or stored[0] != cfg.fingerprint:
        return everyone  # never settled (a replay) or another configuration: the settle derives everything anyway
    marks = dict(conn.execute(f"SELECT projector, seq FROM [{CHECKPOINTS}] WHERE projector IN (?, ?)",
                              [projector, "corrections"]).fetchall())
    if marks.get("corrections", 0) < marks.get(projector, 0):
        return everyone  # the corrections table may miss one that names these screenshots
    waiting = {c for (c,) in conn.execute(f"SELECT community FROM [{dirty_table}]")}
    settle: set[str] = set()
    added: dict[str, list[Shot]] = {}
    for sha, community in sorted(ingested.items()):
        row = None if community in waiting else conn.execute(f"{SHOT_SELECT} WHERE id = ?", [sha]).fetchone()
        if (row is None or row[1] != community or row[4] != "ingested"
                # already counted (a repeated ingest event)
                or conn.execute("SELECT 1 FROM screenshot_usage WHERE screenshot_id = ?", [sha]).fetchone()
                # a correction names it: what that says is the settle's business
                or _named(conn, sha)):
            settle.add(community)
        else:
            added.setdefault(community, []).append(shot_from_row(row))
    for community, shots in added.items():
        if community in settle:
            continue
        counted = conn.execute("SELECT screenshots, first_seen, last_seen FROM communities WHERE community = ?",
                               [community]).fetchone()
        if counted is None:
            settle.add(community)  # its first screenshot: the settle makes the community
            continue
        own = derive(community, shots, [], cfg)  # the same function a settle runs, on just these screenshots
        (mine,) = own["communities"]
        cols = schema.COLUMNS["screenshot_usage"]
        conn.executemany(f"INSERT INTO screenshot_usage ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                         [tuple(u.get(c) for c in cols) for u in own["screenshot_usage"]])
        conn.execute("UPDATE communities SET screenshots = ?, first_seen = ?, last_seen = ? WHERE community = ?",
                     [counted[0] + mine["screenshots"], min(counted[1], mine["first_seen"]),
                      max(counted[2], mine["last_seen"]), community])
    return settle


def _named(conn: Any, sha: str) -> bool:
    """Whether a correction names this screenshot (as the derivation reads them: by its `screenshot_id`)."""
    return conn.execute("SELECT 1 FROM corrections WHERE json_extract(detail, '$.screenshot_id') = ? LIMIT 1",
                        [sha]).fetchone() is not None
