"""Upcasters lift stored payloads written by older schema versions to the current one.

The log is immutable, so a schema change never rewrites rows: readers pass every
payload through this chain instead. Each upcaster takes version N to N+1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .models import EVENT_TYPES

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]

UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def current_version(event_type: str) -> int:
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise KeyError(f"unknown event type {event_type!r}")
    return cls.schema_version


def upcast(event_type: str, version: int, payload: Payload) -> Payload:
    target = current_version(event_type)
    while version < target:
        step = UPCASTERS.get((event_type, version))
        if step is None:
            raise LookupError(f"no upcaster for {event_type} v{version} -> v{version + 1}")
        payload = step(dict(payload))
        version += 1
    if version > target:
        raise LookupError(f"{event_type} v{version} is newer than this software understands (v{target}); upgrade Observatory")
    return payload


@upcaster("ScreenshotIngested", 1)
def _ingested_v1_to_v2(p: Payload) -> Payload:
    """v1 (pre-communities) stored `path` and had no community or timestamp source."""
    path = p.pop("path", None) or p.get("original_path") or p.get("file_name", "")
    p["original_path"] = path
    p.setdefault("file_name", path.rsplit("/", 1)[-1])
    p.setdefault("community", "default")
    p.setdefault("captured_at_source", "unknown")
    return p


@upcaster("ScoresExtracted", 1)
def _scores_v1_to_v2(p: Payload) -> Payload:
    """v1 recorded no boxes: where each value was read is unknown (`row_fields` empty)."""
    p.setdefault("row_fields", [])
    return p
