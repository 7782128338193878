"""Do native file events arrive here? Network shares, some containers and FUSE sync
mounts accept inotify watches but never deliver events; only a live test tells."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

PROBE_PREFIX = ".observatory-probe-"


class Probe:
    """Creates a hidden file and waits for the observer's handler to report it via `seen()`."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        self._event = threading.Event()

    def matches(self, path: str) -> bool:
        return os.path.basename(path) == self.path.name

    def seen(self) -> None:
        self._event.set()

    def run(self, timeout: float) -> bool:
        try:
            self.path.write_bytes(b"probe")
            return self._event.wait(timeout)
        finally:
            self.path.unlink(missing_ok=True)
