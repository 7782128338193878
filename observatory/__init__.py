"""Observatory: game screenshots in, a trustworthy, queryable stats database out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("observatory")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"
