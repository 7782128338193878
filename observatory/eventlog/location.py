"""Where a log lives: a SQLite file (the default) or a PostgreSQL URL, told apart and shown safely.

Kept free of any database driver so that naming a log, or failing to reach one,
costs no import of psycopg.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..settings import redact_url

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class LogUnavailable(Exception):
    """The log's server cannot be reached, or the location names no log we can open; `str()` is one line."""


def is_postgres(target: object) -> bool:
    return isinstance(target, str) and target.lower().startswith(POSTGRES_SCHEMES)


def redact(url: str) -> str:
    """The URL without its password."""
    return redact_url(url)


def parse_target(text: str) -> str | Path:
    """A `--to`/`--from` argument: a PostgreSQL URL as given, else the SQLite file (`sqlite:PATH` or a path).

    ValueError, in one line, for any other URL scheme.
    """
    if is_postgres(text):
        return text
    if text.lower().startswith("sqlite:"):
        rest = text[len("sqlite:"):]
        rest = rest[2:] if rest.startswith("//") else rest
        if not rest:
            raise ValueError("sqlite: needs a file, e.g. sqlite:events/events.db")
        return Path(rest).expanduser()
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ValueError(f"unsupported log location {scheme}://… (expected postgresql://…, sqlite:PATH or a file path)")
    if not text:
        raise ValueError("empty log location")
    return Path(os.path.expanduser(text))


def describe(target: str | os.PathLike[str]) -> str:
    return redact(target) if is_postgres(target) else str(target)
