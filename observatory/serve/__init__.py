"""Serve: Datasette, read-only, on the projections database."""

from .config import build_config, config_for, find_metadata
from .datasette_server import DatasetteServer, datasette_argv

__all__ = ["DatasetteServer", "build_config", "config_for", "datasette_argv", "find_metadata"]
