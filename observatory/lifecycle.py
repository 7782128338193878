"""Children that go when their parent goes.

A daemon killed with SIGKILL (or by the OOM killer) cannot stop its children. An OCR
worker would wait on its pool's queue forever (forked, it holds the queue's write end
itself), and Datasette would keep the port, so a restarted `observatory run` could not
bind it. Each child therefore watches its parent and exits within a second of losing it.
"""

from __future__ import annotations

import os
import threading
import time


def die_with_parent(interval: float = 1.0) -> None:
    """Start a daemon thread that ends this process once its parent is gone."""
    threading.Thread(target=_watch, args=(os.getppid(), interval), name="parent-watch", daemon=True).start()


def _watch(parent: int, interval: float) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(0)
