"""Player identity: normalized names and matching a reading to a known player."""

from .names import PlayerName, normalize, parse_name
from .matching import Match, match_name

__all__ = ["Match", "PlayerName", "match_name", "normalize", "parse_name"]
