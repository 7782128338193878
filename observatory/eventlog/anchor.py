"""The anchor: the last verified head of the log (sequence and hash), kept outside the log file.

Someone who can rewrite `events.db` can make its chain look whole after deleting
its newest events, or after recomputing every hash; they cannot also move a head
recorded in another file. The anchor only moves forward, and only to a head that
was just verified (`integrity.check_log`), except on `restore`, which resets it on
purpose. Written to a temp name, fsynced and renamed under a lock, so concurrent
checkers (status, verify, the nightly job, a backup) never leave half a file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..jsonfiles import locked, write_json_atomic

ANCHOR_FILE_NAME = "anchor.json"


class AnchorError(Exception):
    """The anchor file exists but cannot be read as an anchor."""


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    hash: str
    keyed_from: int | None
    key_id: str | None
    anchored_at: str  # UTC ISO-8601


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_anchor(path: Path) -> Anchor | None:
    """The anchor, None when there is no file yet; a file that is not an anchor is an AnchorError."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AnchorError(f"the anchor file {path} is unreadable: {exc}") from None
    try:
        return Anchor(int(data["seq"]), str(data["hash"]),
                      None if data.get("keyed_from") is None else int(data["keyed_from"]),
                      data.get("key_id"), str(data.get("anchored_at", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnchorError(f"the anchor file {path} is not an anchor: {exc!r}") from None


def _write(path: Path, anchor: Anchor) -> None:
    write_json_atomic(path, asdict(anchor))


def advance_anchor(path: Path, anchor: Anchor) -> Anchor:
    """Record `anchor` unless the file already holds a later head; returns what the file holds."""
    with locked(path):
        try:
            current = read_anchor(path)
        except AnchorError:
            current = None
        if current is not None and current.seq >= anchor.seq:
            return current
        _write(path, anchor)
        return anchor


def reset_anchor(path: Path, anchor: Anchor) -> None:
    """Replace the anchor, even with an earlier head: only for a deliberate restore."""
    with locked(path):
        _write(path, anchor)
