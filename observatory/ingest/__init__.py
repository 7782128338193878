"""The inbox: recognising finished screenshots and recording them as events.

`Ingestor` turns `Candidate`s (from `locate`) into ScreenshotIngested /
DuplicateSighted / IngestRejected events; `observatory.watch.Inbox` feeds it from a
watched folder, `observatory ingest` from paths on the command line.
"""

from .ignore import IgnoreRules
from .paths import Candidate, locate, walk
from .service import Ingestor, Outcome, Summary

__all__ = ["Candidate", "IgnoreRules", "Ingestor", "Outcome", "Summary", "locate", "walk"]
