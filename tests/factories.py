"""Builders for realistic events, shared by the foundation tests."""

from __future__ import annotations

import hashlib
import sqlite3

from observatory.eventlog import (
    DuplicateSighted,
    ExtractionFailed,
    IngestRejected,
    Pending,
    ScoresExtracted,
    ScreenshotClassified,
    ScreenshotIngested,
)


def sha(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def ingested(i: int, community: str = "HEI", key: bool = True) -> Pending:
    s = sha(i)
    ev = ScreenshotIngested(
        sha256=s,
        community=community,
        original_path=f"{community}/Screenshot_{i}.jpg",
        file_name=f"Screenshot_{i}.jpg",
        byte_size=1000 + i,
        format="JPEG",
        width=1080,
        height=2340,
        captured_at="2025-11-12T17:35:38+00:00",
        captured_at_source="filename",
        blob_path=f"blobs/{s[:2]}/{s}.jpg",
    )
    return Pending(ev, f"screenshot-{s}", idempotency_key=f"ingest:{s}" if key else None, correlation_id=s)


def classified(i: int, kind: str = "bear_damage", confidence: float = 0.93) -> Pending:
    s = sha(i)
    ev = ScreenshotClassified(sha256=s, kind=kind, confidence=confidence, evidence=["Damage Ranking"], engine="tesseract", engine_version="t1")
    return Pending(ev, f"screenshot-{s}", correlation_id=s)


def extracted(i: int, n_rows: int = 3, version: str = "t1", base: int = 0) -> Pending:
    s = sha(i)
    rows = [{"rank": r + 1, "name": f"[HEI]Player{r}", "damage": 1_000_000 * (n_rows - r) + base} for r in range(n_rows)]
    ev = ScoresExtracted(
        sha256=s,
        kind="bear_damage",
        meta={"trap_id": 1},
        rows=rows,
        row_confidence=[0.9] * n_rows,
        dropped_rows=[{"row": {"name": "Me"}, "reason": "unranked"}],
        engine="tesseract",
        engine_version=version,
    )
    return Pending(ev, f"screenshot-{s}", correlation_id=s)


def failed(i: int, reason: str = "blurred") -> Pending:
    s = sha(i)
    return Pending(ExtractionFailed(sha256=s, stage="extract", reason=reason, engine="tesseract", engine_version="t1"), f"screenshot-{s}")


def duplicate(i: int, path: str) -> Pending:
    s = sha(i)
    return Pending(DuplicateSighted(sha256=s, community="HEI", original_path=path, file_name=path.rsplit("/", 1)[-1]), f"screenshot-{s}")


def rejected(path: str, fingerprint: str = "0:0", code: str = "empty") -> Pending:
    ev = IngestRejected(original_path=path, file_name=path.rsplit("/", 1)[-1], community="HEI", code=code, reason="zero-byte file", fingerprint=fingerprint, byte_size=0)
    return Pending(ev, f"inbox-{path}", idempotency_key=f"reject:{path}:{fingerprint}")


def tamper(db_path, sql: str) -> None:
    """Change the log behind the store's back, as an attacker with the file would: drop the guard trigger, run raw SQL."""
    trigger = "events_no_delete" if sql.lstrip().upper().startswith("DELETE") else "events_no_update"
    raw = sqlite3.connect(db_path)
    try:
        raw.execute(f"DROP TRIGGER {trigger}")
        raw.execute(sql)
        raw.commit()
    finally:
        raw.close()


def output_contract(label: dict) -> dict:
    """A sample label as an engine's output: the labelling keys (`name_plain`, `uncertain`, `*_clipped`, ...) left out."""
    from observatory.extract.scoring import LABEL_ONLY_KEYS

    def row(r: dict) -> dict:
        return {k: v for k, v in r.items() if k not in LABEL_ONLY_KEYS and not k.endswith("_clipped")}

    return {**label, **{k: [row(r) for r in label.get(k) or []] for k in ("rows", "partial_rows", "excluded_rows")}}
