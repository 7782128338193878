"""Logging set-up: one line per event, with the screenshot id as correlation id.

Callers pass `extra={"screenshot": sha256}`; lines without one show `-`.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(screenshot)s] %(message)s"


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        sid = getattr(record, "screenshot", None)
        record.screenshot = sid[:12] if isinstance(sid, str) and sid else "-"
        return True


def setup_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_observatory", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._observatory = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z"))
    handler.addFilter(_CorrelationFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # boto3 (S3 blobs) says at INFO where it found credentials, on every start; DEBUG shows it again
    for chatty in ("botocore", "boto3"):
        logging.getLogger(chatty).setLevel(level if level == "DEBUG" else "WARNING")


def for_screenshot(sha256: str | None) -> dict[str, str | None]:
    """`extra=` for a log call about one screenshot."""
    return {"screenshot": sha256}
