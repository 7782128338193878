"""Projections: read tables rebuilt from the event log."""

from __future__ import annotations

from typing import Any

from .domain import CorrectionsProjector, DomainConfig, DomainProjector
from .framework import Projector, ReplayNeeded, catch_up, open_db
from .screenshots import ScreenshotsProjector


def all_projectors(settings: Any = None) -> list[Projector]:
    """Every projector, in the order they apply a batch (facts first, then what is derived from them)."""
    config = DomainConfig.from_settings(settings) if settings is not None else DomainConfig()
    kept = settings.derivations_kept if settings is not None else None
    return [ScreenshotsProjector(), CorrectionsProjector(), DomainProjector(config, kept=kept)]


__all__ = ["Projector", "ReplayNeeded", "all_projectors", "catch_up", "open_db"]
