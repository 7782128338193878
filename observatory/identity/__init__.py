"""Player identity: normalized names and matching a reading to a known player."""

from .names import KEY_VERSION, PlayerName, normalize, parse_name
from .matching import Match, match_name

__all__ = ["KEY_VERSION", "Match", "PlayerName", "match_name", "normalize", "parse_name"]
