"""The append-only event log: typed events, upcasting and the SQLite store."""

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
from .keys import KeySource, LogKeyError, key_source, open_log
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
    "Pending",
    "ScoresExtracted",
    "ScreenshotClassified",
    "ScreenshotIngested",
    "StoredEvent",
    "VerifyResult",
    "key_source",
    "open_log",
    "utc_now",
]
