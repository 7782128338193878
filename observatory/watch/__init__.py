"""The watch daemon: `Inbox` observes watch_dir/ and ingests finished files."""

from .daemon import Hook, Inbox
from .stability import StabilityTracker

__all__ = ["Hook", "Inbox", "StabilityTracker"]
