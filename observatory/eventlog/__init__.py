"""The append-only event log: typed events, upcasting and the store (SQLite, or PostgreSQL)."""

from .models import (
    AnyEvent,
    CorrectionApplied,
    DuplicateSighted,
    Event,
    EVENT_TYPES,
    ExtractionFailed,
    IngestRejected,
    LogRepaired,
    ScoresExtracted,
    ScreenshotClassified,
    ScreenshotIngested,
)
from .factory import log_exists, log_location, log_name, open_store
from .keys import KeySource, LogKeyError, key_source, open_log
from .location import LogUnavailable
from .store import ConcurrencyError, EventStore, Pending, StoredEvent, VerifyResult, utc_now

__all__ = [
    "AnyEvent",
    "ConcurrencyError",
    "CorrectionApplied",
    "DuplicateSighted",
    "EVENT_TYPES",
    "Event",
    "EventStore",
    "ExtractionFailed",
    "IngestRejected",
    "KeySource",
    "LogKeyError",
    "LogRepaired",
    "LogUnavailable",
    "Pending",
    "ScoresExtracted",
    "ScreenshotClassified",
    "ScreenshotIngested",
    "StoredEvent",
    "VerifyResult",
    "key_source",
    "log_exists",
    "log_location",
    "log_name",
    "open_log",
    "open_store",
    "utc_now",
]
