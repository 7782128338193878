"""Small JSON state files shared between the daemon and other processes.

Written to a temp name in the same folder, fsynced and renamed, so a reader in
another process (`observatory status`, a supervisor) sees the old or the new
file, never half of one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..clock import iso, parse_iso, utc_now
from ..jsonfiles import locked, write_json_atomic
from ..lifecycle import pid_alive

__all__ = ["iso", "parse_iso", "pid_alive", "read_json", "update_json", "utc_now", "write_json_atomic"]


def read_json(path: Path) -> Any:
    """The file's content, or None when it is missing or unreadable (a reader must never crash on it)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def update_json(path: Path, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Read-modify-write under a file lock, so two processes' updates do not overwrite each other."""
    with locked(path):
        data = read_json(path)
        if not isinstance(data, dict):
            data = {}
        change(data)
        write_json_atomic(path, data)
        return data
