"""Retention of originals in watch_dir/ once the log safely holds them.

With OBSERVATORY_RETENTION=move or delete, a file in the inbox is touched only when
all of this holds: its path was recorded by a ScreenshotIngested or DuplicateSighted
event at least OBSERVATORY_RETENTION_DAYS ago, the screenshot's newest result is a
successful extraction, and the file's bytes still hash to that screenshot's sha256
(the blob store has the same bytes). Rejected and failed files, files not yet read,
and files changed since are kept for inspection. `move` keeps the community folder:
watch_dir/HEI/x.jpg goes to watch_dir/.processed/HEI/x.jpg, which the inbox ignores
(dot folders are debris to it).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from ..eventlog import EventStore, log_exists, open_log
from ..clock import parse_iso
from ..logs import for_screenshot
from ..settings import Settings

log = logging.getLogger(__name__)

PROCESSED = ".processed"


@dataclass(frozen=True, slots=True)
class Sighting:
    """A file path the log recorded for a screenshot, and when."""

    rel: str
    sha256: str
    recorded_at: datetime
    extracted: bool  # the screenshot's newest result is ScoresExtracted


@dataclass(slots=True)
class RetentionReport:
    moved: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept_changed: list[str] = field(default_factory=list)  # content differs from what was ingested
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"moved {len(self.moved)}", f"deleted {len(self.deleted)}"]
        if self.kept_changed:
            parts.append(f"kept {len(self.kept_changed)} changed since ingest")
        if self.errors:
            parts.append(f"{len(self.errors)} error(s): {self.errors[0]}")
        return ", ".join(parts)


def sightings(store: EventStore) -> list[Sighting]:
    """Every inbox path the log recorded, with whether its screenshot was extracted successfully."""
    newest: dict[str, str] = {}
    for ev in store.read(types=["ScoresExtracted", "ExtractionFailed"]):
        newest[ev.payload["sha256"]] = ev.type
    out = []
    for ev in store.read(types=["ScreenshotIngested", "DuplicateSighted"]):
        p = ev.payload
        when = parse_iso(ev.recorded_at)
        if when is not None:
            out.append(Sighting(p["original_path"], p["sha256"], when, newest.get(p["sha256"]) == "ScoresExtracted"))
    return out


def due(items: Iterable[Sighting], now: datetime, days: float) -> list[Sighting]:
    """Pure selection: extracted, old enough, and a path inside the inbox (not absolute, no `..`, not already processed)."""
    cutoff = now - timedelta(days=days)
    out = []
    for s in items:
        parts = PurePosixPath(s.rel).parts
        if not s.extracted or s.recorded_at > cutoff or not parts or s.rel.startswith("/"):
            continue
        if ".." in parts or parts[0] == PROCESSED:
            continue
        out.append(s)
    return out


def _sha256(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def _free_name(target: Path) -> Path:
    n = 1
    candidate = target
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.stem}.{n}{target.suffix}")
    return candidate


def apply_retention(settings: Settings, now: datetime, *, store: EventStore | None = None) -> RetentionReport:
    report = RetentionReport()
    mode = settings.retention
    if mode == "keep" or not log_exists(settings):
        return report
    own = store is None
    store = store or open_log(settings, readonly=True)
    try:
        candidates = due(sightings(store), now, settings.retention_days)
    finally:
        if own:
            store.close()
    by_rel: dict[str, dict[str, Sighting]] = {}
    for c in candidates:
        by_rel.setdefault(c.rel, {})[c.sha256] = c
    inbox: Path = settings.watch_dir  # type: ignore[assignment]
    for rel, held in by_rel.items():
        path = inbox / rel
        if not path.is_file() or path.is_symlink():
            continue
        s = held.get(_sha256(path) or "")
        if s is None:
            report.kept_changed.append(rel)
            continue
        try:
            if mode == "delete":
                path.unlink()
                report.deleted.append(s.rel)
                log.info("retention: deleted %s (ingested %s)", s.rel, s.recorded_at.isoformat(), extra=for_screenshot(s.sha256))
            else:
                target = inbox / PROCESSED / s.rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target = target if not target.exists() or _sha256(target) == s.sha256 else _free_name(target)
                os.replace(path, target)
                report.moved.append(s.rel)
                log.info("retention: moved %s to %s", s.rel, target.relative_to(inbox), extra=for_screenshot(s.sha256))
        except OSError as exc:
            report.errors.append(f"{s.rel}: {exc.strerror or exc}")
            log.warning("retention: could not %s %s: %s", mode, s.rel, exc, extra=for_screenshot(s.sha256))
    return report
