"""Projections: read tables rebuilt from the event log."""

from __future__ import annotations

from .framework import Projector, catch_up, open_db
from .screenshots import ScreenshotsProjector


def all_projectors() -> list[Projector]:
    """Every projector, in the order they apply a batch."""
    return [ScreenshotsProjector()]


__all__ = ["Projector", "all_projectors", "catch_up", "open_db"]
