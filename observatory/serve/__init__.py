"""Serve: Datasette, read-only, on the projections database."""

from .datasette_server import DatasetteServer, datasette_argv, find_metadata

__all__ = ["DatasetteServer", "datasette_argv", "find_metadata"]
