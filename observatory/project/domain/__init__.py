"""The alliance's data: players, game events and scores, derived from screenshots and corrections."""

from .model import DomainConfig
from .projector import CorrectionsProjector, DomainProjector

__all__ = ["CorrectionsProjector", "DomainConfig", "DomainProjector"]
