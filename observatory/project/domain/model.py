"""Inputs and settings of the domain derivation (plain data, no I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from ...games import kinds, packs
from ...identity import KEY_VERSION


@lru_cache(maxsize=1)
def read_models() -> str:
    """A digest of what the packs say about the read model (shapes, grouping, events): part of the projection."""
    parts = [(k.name, k.read_model.model_dump_json() if k.read_model else "") for k in kinds().values()]
    parts += [(p.game, repr(sorted((n, e.model_dump_json()) for n, e in p.events.items()))) for p in packs()]
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class DomainConfig:
    """Grouping windows and review thresholds; part of the projection, so a change triggers a recompute."""

    timezone: str = "UTC"
    hunt_window_minutes: float = 60.0
    snapshot_window_minutes: float = 30.0
    fuzzy_threshold: float = 85.0
    duplicate_threshold: float = 75.0
    low_confidence: float = 0.6
    name_key_version: str = KEY_VERSION  # another folding table is another matching: recompute
    read_models: str = field(default_factory=read_models)  # a pack's grouping changed: recompute

    @classmethod
    def from_settings(cls, settings: Any) -> "DomainConfig":
        return cls(
            timezone=settings.screenshot_timezone,
            hunt_window_minutes=settings.hunt_window_minutes,
            snapshot_window_minutes=settings.snapshot_window_minutes,
            fuzzy_threshold=settings.name_match_threshold,
            duplicate_threshold=settings.duplicate_player_threshold,
            low_confidence=settings.review_confidence_below,
        )

    @property
    def fingerprint(self) -> str:
        return repr(tuple(getattr(self, f) for f in self.__dataclass_fields__))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hunt_window(self) -> timedelta:
        return timedelta(minutes=self.hunt_window_minutes)

    @property
    def snapshot_window(self) -> timedelta:
        return timedelta(minutes=self.snapshot_window_minutes)


@dataclass(slots=True)
class Shot:
    """One screenshot with its newest extraction, as the screenshots projector keeps it."""

    id: str
    community: str
    ingest_seq: int
    captured_at: str
    status: str
    kind: str | None = None
    confidence: float | None = None
    requested_kind: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_confidence: list[float | None] = field(default_factory=list)


def log_order(s: Shot) -> tuple[int, str]:
    """Where a screenshot stands in the log (its first ingest), ties by id: the order identity and votes read in."""
    return (s.ingest_seq, s.id)


def parse_time(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def local_to_utc(shown: str, tz: ZoneInfo) -> datetime | None:
    """A time as the screen shows it ("2025-11-11 22:30:05", in the screenshots' zone) in UTC."""
    try:
        dt = datetime.strptime(shown.strip(), "%Y-%m-%d %H:%M:%S")
    except (ValueError, AttributeError):
        return None
    return dt.replace(tzinfo=tz).astimezone(timezone.utc)


def stable_id(prefix: str, *parts: object) -> str:
    """Ids that depend only on what identifies the thing, so they survive replay."""
    digest = hashlib.sha1("\x00".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}_{digest[:10]}"
