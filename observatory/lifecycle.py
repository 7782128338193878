"""Process lives: children that go when their parent goes, whether a process still runs, and how a daemon stops.

A daemon killed with SIGKILL (or by the OOM killer) cannot stop its children. An OCR
worker would wait on its pool's queue forever (forked, it holds the queue's write end
itself), and Datasette would keep the port, so a restarted `observatory run` could not
bind it. Each child therefore watches its parent and exits within a second of losing it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path


def stop_on_signals(log: logging.Logger, doing: str) -> threading.Event:
    """An event SIGTERM or SIGINT sets (logging "received SIGTERM, `doing`"): a daemon's loop ends on it cleanly."""
    stop = threading.Event()

    def on_signal(signum, frame) -> None:  # type: ignore[no-untyped-def]
        log.info("received %s, %s", signal.Signals(signum).name, doing)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def die_with_parent(interval: float = 1.0, *, parent: int | None = None) -> None:
    """Start a daemon thread that ends this process once its parent is gone.

    `parent`: the pid the parent had when it started this child. Given, a child whose
    parent died before this call (a worker forked just before a SIGKILL) exits at once,
    instead of taking its new parent (init) for the one to watch.
    """
    expected = os.getppid() if parent is None else parent
    threading.Thread(target=_watch, args=(expected, interval), name="parent-watch", daemon=True).start()


def _watch(parent: int, interval: float) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(0)


def pid_alive(pid: object) -> bool:
    """Running; a zombie (killed, not yet reaped by its parent) will never write again, so it is not."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: existing is all we know
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]
