"""The `screenshots`, `extracted_rows` and `rejected_files` tables.

One row per screenshot with its latest classification/extraction status, the rows
of its newest extraction, and every inbox file that was refused and why. A refusal
that a later ingest (or duplicate sighting) of the same community and path answered,
e.g. a half-written JPEG that later completed, is marked superseded by that event's
sequence number: it no longer stands, but the history stays visible.

For replay speed a batch is folded in memory first: a screenshot ingested,
classified and extracted inside one batch becomes one INSERT instead of an INSERT
and two UPDATEs. The fold gives exactly what event-by-event application would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import c_encode_basestring as _encode_basestring  # type: ignore[attr-defined]
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from typing import Any

import sqlite_utils

from ..eventlog import StoredEvent
from .framework import Projector

SCREENSHOT_COLUMNS = {
    "id": str,
    "community": str,
    "original_path": str,
    "file_name": str,
    "byte_size": int,
    "format": str,
    "width": int,
    "height": int,
    "blob_path": str,
    "captured_at": str,
    "captured_at_source": str,
    "ingested_at": str,
    "status": str,
    "kind": str,
    "confidence": float,
    "evidence": str,
    "engine": str,
    "engine_version": str,
    "row_count": int,
    "dropped_count": int,
    "warnings": str,
    "error": str,
    "sightings": int,
    "sighting_paths": str,
    "updated_seq": int,
    "ingest_seq": int,
    "meta": str,
    "requested_kind": str,
}
SCREENSHOT_FIELDS = tuple(SCREENSHOT_COLUMNS)
_SIGHTING_PATHS = SCREENSHOT_FIELDS.index("sighting_paths")
ROW_FIELDS = ("screenshot_id", "row_index", "kind", "rank", "name", "data", "confidence", "doubtful")

_INSERT_SCREENSHOT = (
    f"INSERT OR IGNORE INTO screenshots ({', '.join(SCREENSHOT_FIELDS)}) "
    f"VALUES ({', '.join('?' * len(SCREENSHOT_FIELDS))})"
)
_SIGHTING = (
    "UPDATE screenshots SET sightings = sightings + 1, "
    "sighting_paths = json_insert(sighting_paths, '$[#]', ?) WHERE id = ?"
)
_ANY_STANDING = "SELECT 1 FROM rejected_files WHERE superseded_seq IS NULL LIMIT 1"
_SUPERSEDE = (
    "UPDATE rejected_files SET superseded_seq = ? WHERE original_path = ? AND community = ? "
    "AND event_seq < ? AND (superseded_seq IS NULL OR superseded_seq > ?)"
)
_INSERT_ROW = f"INSERT INTO extracted_rows ({', '.join(ROW_FIELDS)}) VALUES ({', '.join('?' * len(ROW_FIELDS))})"


def _json_slow(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Replay encodes ~10 JSON values per extraction event, and `json.dumps` with non-default
# arguments builds a new JSONEncoder (and C encoder) on every call: build the C encoder
# once. Same arguments as json.dumps above (ensure_ascii=False, compact separators), so the
# text is identical. Values come from decoded JSON payloads, hence can't be circular
# (markers=None); on any error we fall back to json.dumps, which raises the usual error.
_c_encode = (
    _c_make_encoder(None, json.JSONEncoder().default, _encode_basestring, None, ":", ",", False, False, True)
    if _c_make_encoder is not None and _encode_basestring is not None
    else None
)


def _json(value: Any) -> str:
    if _c_encode is not None:
        try:
            return "".join(_c_encode(value, 0))
        except Exception:
            pass
    return _json_slow(value)


def rows_for(sha: str, payload: dict[str, Any]) -> list[tuple[Any, ...]]:
    """extracted_rows tuples for one ScoresExtracted payload."""
    kind = payload["kind"]
    conf = payload.get("row_confidence") or []
    n_conf = len(conf)
    dump = _json
    out = []
    for i, row in enumerate(payload.get("rows") or []):
        rank = row.get("rank", row.get("order"))
        if not isinstance(rank, int) or isinstance(rank, bool):
            rank = None
        name = row.get("name")
        doubtful = row.get("doubtful")  # the fields the extractor was unsure of: shown, so analysts see why
        out.append((sha, i, kind, rank, name if isinstance(name, str) else None, dump(row), conf[i] if i < n_conf else None,
                    dump(doubtful) if doubtful else None))
    return out


def _classified(p: dict[str, Any], seq: int) -> dict[str, Any]:
    return {
        "kind": p["kind"],
        "confidence": p["confidence"],
        "evidence": _json(p.get("evidence") or []),
        "engine": p["engine"],
        "engine_version": p["engine_version"],
        "status": "classified",
        "updated_seq": seq,
    }


def _extracted(p: dict[str, Any], seq: int) -> dict[str, Any]:
    return {
        "kind": p["kind"],
        "engine": p["engine"],
        "engine_version": p["engine_version"],
        "status": "extracted",
        "row_count": len(p.get("rows") or []),
        "dropped_count": len(p.get("dropped_rows") or []),
        "warnings": _json(p.get("warnings") or []),
        "error": None,
        "updated_seq": seq,
        "meta": _json(p.get("meta") or {}),
        "requested_kind": p.get("requested_kind"),
    }


def _failed(p: dict[str, Any], seq: int) -> dict[str, Any]:
    return {
        "status": "failed",
        "engine": p["engine"],
        "engine_version": p["engine_version"],
        "row_count": 0,
        "dropped_count": 0,
        "error": f"{p['stage']}: {p['reason']}",
        "updated_seq": seq,
        "meta": None,
        "requested_kind": p.get("requested_kind"),
    }


class ScreenshotsProjector(Projector):
    name = "screenshots"
    handles = frozenset(
        {"ScreenshotIngested", "DuplicateSighted", "IngestRejected", "ScreenshotClassified", "ScoresExtracted", "ExtractionFailed"}
    )
    tables = ("screenshots", "extracted_rows", "rejected_files")

    def setup(self, db: sqlite_utils.Database) -> None:
        if "screenshots" not in db.table_names():
            db["screenshots"].create(SCREENSHOT_COLUMNS, pk="id", not_null={"community", "status"})
            db["screenshots"].create_index(["community", "captured_at"])
            db["screenshots"].create_index(["status"])
            db["screenshots"].create_index(["kind"])
            # screenshots_needing_attention walks the newest screenshots, of one community or of all
            db["screenshots"].create_index(["captured_at"])
        if "extracted_rows" not in db.table_names():
            db["extracted_rows"].create(
                {"screenshot_id": str, "row_index": int, "kind": str, "rank": int, "name": str, "data": str, "confidence": float,
                 "doubtful": str},
                pk=("screenshot_id", "row_index"),
                foreign_keys=[("screenshot_id", "screenshots", "id")],
            )
            db["extracted_rows"].create_index(["kind", "rank"])
            db["extracted_rows"].create_index(["name"])
        if "rejected_files" not in db.table_names():
            db["rejected_files"].create(
                {
                    "original_path": str,
                    "fingerprint": str,
                    "file_name": str,
                    "community": str,
                    "code": str,
                    "reason": str,
                    "byte_size": int,
                    "rejected_at": str,
                    "event_seq": int,
                    "superseded_seq": int,
                },
                pk=("original_path", "fingerprint"),
            )
            db["rejected_files"].create_index(["code"])

    def apply(self, db: sqlite_utils.Database, events: Sequence[StoredEvent]) -> None:
        new: dict[str, dict[str, Any]] = {}  # screenshots first ingested in this batch
        ops: list[tuple[str, str, Any]] = []  # changes to screenshots that existed before the batch
        row_sets: dict[str, list[tuple[Any, ...]]] = {}  # sha -> replacement extracted rows
        rejected: list[tuple[Any, ...]] = []
        taken: list[tuple[int, str, str, int, int]] = []  # paths ingested or sighted: they supersede earlier refusals
        for ev in events:
            p, t = ev.payload, ev.type
            if t == "IngestRejected":
                rejected.append(
                    (p["original_path"], p["fingerprint"], p["file_name"], p["community"], p["code"], p["reason"],
                     p.get("byte_size"), ev.recorded_at, ev.seq)
                )
                continue
            sha = p["sha256"]
            if t in ("ScreenshotIngested", "DuplicateSighted"):
                taken.append((ev.seq, p["original_path"], p["community"], ev.seq, ev.seq))
            if t == "ScreenshotIngested":
                if sha not in new:
                    new[sha] = {
                        "id": sha,
                        **{k: p[k] for k in ("community", "original_path", "file_name", "byte_size", "format",
                                             "width", "height", "blob_path", "captured_at", "captured_at_source")},
                        "ingested_at": ev.recorded_at,
                        "status": "ingested",
                        "row_count": 0,
                        "dropped_count": 0,
                        "sightings": 1,
                        "sighting_paths": [p["original_path"]],
                        "updated_seq": ev.seq,
                        "ingest_seq": ev.seq,
                    }
                continue
            if t == "DuplicateSighted":
                change: tuple[str, Any] = ("sighting", p["original_path"])
            elif t == "ScreenshotClassified":
                change = ("set", _classified(p, ev.seq))
            elif t == "ScoresExtracted":
                change = ("set", _extracted(p, ev.seq))
                row_sets[sha] = rows_for(sha, p)
            else:  # ExtractionFailed: the newest result is a failure, so no rows stand
                change = ("set", _failed(p, ev.seq))
                row_sets[sha] = []
            if sha in new:
                _fold(new[sha], change)
            else:
                ops.append((sha, *change))

        conn = db.conn
        preexisting: set[str] = set()
        if new:
            values = []
            for r in new.values():
                v = list(map(r.get, SCREENSHOT_FIELDS))
                v[_SIGHTING_PATHS] = _json(r["sighting_paths"])
                values.append(tuple(v))
            before = conn.total_changes
            conn.executemany(_INSERT_SCREENSHOT, values)
            if conn.total_changes - before != len(values):
                # Some "new" screenshot was already there (a repeated ingest event): its folded
                # changes must be applied as updates on the existing row instead.
                for sha, row in new.items():
                    exists = conn.execute("SELECT updated_seq FROM screenshots WHERE id = ?", [sha]).fetchone()
                    if exists and exists[0] != row["updated_seq"]:
                        preexisting.add(sha)
                        ops.extend(_ops_from_fold(sha, row))  # after its earlier changes: log order
        # Updates run in log order; consecutive ones with the same statement go in one executemany.
        run_sql: str | None = None
        run: list[list[Any]] = []
        for sha, op, value in ops:
            if op == "sighting":
                sql = _SIGHTING
                params = [value, sha]
            else:
                sql = f"UPDATE screenshots SET {', '.join(f'{k} = ?' for k in value)} WHERE id = ?"
                params = [*value.values(), sha]
            if sql != run_sql:
                if run:
                    conn.executemany(run_sql, run)  # type: ignore[arg-type]
                run_sql, run = sql, []
            run.append(params)
        if run:
            conn.executemany(run_sql, run)  # type: ignore[arg-type]
        stale = [(sha,) for sha in row_sets if sha not in new or sha in preexisting]
        if stale:
            conn.executemany("DELETE FROM extracted_rows WHERE screenshot_id = ?", stale)
        inserts = [r for rows in row_sets.values() for r in rows]
        if inserts:
            conn.executemany(_INSERT_ROW, inserts)
        if rejected:
            conn.executemany(
                "INSERT OR IGNORE INTO rejected_files (original_path, fingerprint, file_name, community, code, reason, "
                "byte_size, rejected_at, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rejected,
            )
        if taken and (rejected or conn.execute(_ANY_STANDING).fetchone()):
            # Order-independent: each refusal ends up marked by the first later take of its path.
            conn.executemany(_SUPERSEDE, taken)


def _fold(row: dict[str, Any], change: tuple[str, Any]) -> None:
    op, value = change
    if op == "sighting":
        row["sightings"] += 1
        row["sighting_paths"].append(value)
    else:
        row.update(value)
    row.setdefault("_changes", []).append(change)


def _ops_from_fold(sha: str, row: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(sha, op, value) for op, value in row.get("_changes", [])]
