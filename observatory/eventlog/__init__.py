"""The append-only event log: typed events, upcasting and the SQLite store."""

from .models import (
    AnyEvent,
    CorrectionApplied,
    DuplicateSighted,
    Event,
    EVENT_TYPES,
    ExtractionFailed,
    IngestRejected,
    ScoresExtracted,
    ScreenshotClassified,
    ScreenshotIngested,
)
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
    "Pending",
    "ScoresExtracted",
    "ScreenshotClassified",
    "ScreenshotIngested",
    "StoredEvent",
    "VerifyResult",
    "utc_now",
]
