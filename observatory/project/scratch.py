"""The private files a rebuild writes, and clearing those of killed rebuilds.

A rebuild writes `projections/.observatory.db.rebuild-<pid>` and deletes it when done; a
rebuild that was SIGKILLed (or OOM-killed) cannot, and leaves 100+ MB behind; so can its worker
processes' files of one community each (`...rebuild-<worker pid>-part<n>`, domain/fanout.py). Whoever
opens the projections next removes the files of processes that are gone, never those of
a process still alive (another replay may be running right now).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from ..lifecycle import pid_alive

log = logging.getLogger(__name__)


def scratch_path(target: Path, pid: int) -> Path:
    return target.with_name(f".{target.name}.rebuild-{pid}")


def _scratch_pid(target: Path, name: str) -> int | None:
    m = re.fullmatch(re.escape(f".{target.name}.rebuild-") + r"(\d+)(?:-part\d+)?(?:-wal|-shm|-journal)?", name)
    return int(m.group(1)) if m else None


def remove_stale_scratch(target: Path) -> list[Path]:
    """Delete the rebuild files of `target` whose process is dead; returns what was removed."""
    try:
        names = os.listdir(target.parent)
    except FileNotFoundError:
        return []
    removed = []
    for name in names:
        pid = _scratch_pid(target, name)
        if pid is None or pid == os.getpid() or pid_alive(pid):
            continue
        path = target.parent / name
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue  # another process removed it first
        log.warning("removed %s (%d bytes), left by rebuild process %d that is gone", path, size, pid)
        removed.append(path)
    return removed
