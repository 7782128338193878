"""Facts about the running system, each read the cheap way from the log, the projections or the disk."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

from ..settings import Settings
from .files import parse_iso


def _ro(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def last_ingest(settings: Settings) -> datetime | None:
    """When the newest ScreenshotIngested was recorded (None: nothing ingested, or no log)."""
    from ..eventlog import log_exists, open_log

    if not log_exists(settings):
        return None
    with open_log(settings, readonly=True) as store:
        newest = store.latest(("ScreenshotIngested",))
    return parse_iso(newest.recorded_at) if newest else None


def queue_depth(settings: Settings) -> int:
    """Screenshots ingested but without an extraction result yet."""
    from ..eventlog import log_exists, open_log
    from ..process.processor import pending_screenshots

    if not log_exists(settings):
        return 0
    with open_log(settings, readonly=True) as store:
        return len(pending_screenshots(store))


def worker_leases(settings: Settings) -> dict[str, int]:
    """Screenshots `observatory worker` processes hold (see eventlog/claims.py)."""
    from ..eventlog import log_exists, open_log
    from ..eventlog.claims import leases_in_hand

    if not log_exists(settings):
        return {"in_hand": 0, "workers": 0, "expired": 0}
    with open_log(settings, readonly=True) as store:
        return leases_in_hand(store)


def blob_usage(settings: Settings) -> dict[str, int]:
    files = size = 0
    for root, _, names in os.walk(settings.blobs_dir):
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
                files += 1
            except OSError:
                continue
    return {"files": files, "bytes": size}


def orphan_blobs(settings: Settings, *, show: int = 5) -> dict[str, Any]:
    """Blobs no ScreenshotIngested names (an interrupted ingest whose file left the inbox, or a restore)."""
    from ..eventlog import log_exists, open_log
    from ..ingest.blobs import BlobStore
    from ..ingest.recovery import IN_FLIGHT_SECONDS, ingested_shas, unclaimed

    out: dict[str, Any] = {"count": 0, "first": []}
    if not settings.blobs_dir.is_dir():
        return out
    have: set[str] = set()
    if log_exists(settings):
        with open_log(settings, readonly=True) as store:
            have = ingested_shas(store)
    found = unclaimed(BlobStore(settings.blobs_dir, settings.events_dir), have,  # type: ignore[arg-type]
                      settled_for=IN_FLIGHT_SECONDS)
    out["count"] = len(found)
    out["first"] = [{"sha256": sha[:12], "path": str(found[sha])} for sha in sorted(found)[:show]]
    return out


def _table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def screenshot_facts(settings: Settings, *, limit: int = 20) -> dict[str, Any]:
    """Counts per kind and status, and the newest failures and rejections, from the projections."""
    out: dict[str, Any] = {"counts": [], "total": 0, "failures": [], "failed": 0, "rejections": [], "rejected": 0}
    if not settings.projections_db.exists():
        return out
    with closing(_ro(settings.projections_db)) as conn:
        if _table_exists(conn, "screenshots"):
            rows = conn.execute(
                "SELECT COALESCE(kind, '-'), status, COUNT(*) FROM screenshots GROUP BY 1, 2 ORDER BY 1, 2"
            ).fetchall()
            out["counts"] = [{"kind": k, "status": s, "count": n} for k, s, n in rows]
            out["total"] = sum(n for _, _, n in rows)
            out["failed"] = sum(n for _, s, n in rows if s == "failed")
            out["failures"] = [
                {"id": i, "original_path": p, "error": e}
                for i, p, e in conn.execute(
                    "SELECT id, original_path, error FROM screenshots WHERE status = 'failed' "
                    "ORDER BY updated_seq DESC LIMIT ?", [limit])
            ]
        if _table_exists(conn, "rejected_files"):
            # a refusal a later ingest of the same path superseded (the file completed) no longer stands
            columns = {r[1] for r in conn.execute("PRAGMA table_info(rejected_files)")}
            standing = "WHERE superseded_seq IS NULL" if "superseded_seq" in columns else ""
            (out["rejected"],) = conn.execute(f"SELECT COUNT(*) FROM rejected_files {standing}").fetchone()
            out["rejections"] = [
                {"original_path": p, "code": c, "reason": r, "rejected_at": t}
                for p, c, r, t in conn.execute(
                    f"SELECT original_path, code, reason, rejected_at FROM rejected_files {standing} "
                    "ORDER BY event_seq DESC LIMIT ?", [limit])
            ]
    return out
