"""The processor and projector as a background loop, nudged by the inbox.

OCR takes seconds per screenshot; running it on the inbox thread would delay the
ingest of everything dropped meanwhile. So the inbox only nudges this loop, which
drains what is pending (in the process pool) and then projects. A periodic wake-up
also picks up work appended by other processes (`observatory ingest --no-process`).
When the log is in PostgreSQL, other machines append to it too: a follower thread
wakes the loop on each append's NOTIFY, and the periodic wake-up is the polling
fallback should the notifications stop.
With OBSERVATORY_LOCAL_OCR=false it reads nothing itself: every second it looks at the
log's head and projects what `observatory worker` processes (on this or other machines)
appended since.

During a burst the screenshots' own rows are projected after every chunk, but the
domain tables (hunts, players, ...) are re-derived per community, which takes seconds
for a community with years of screenshots: they settle at the end of the burst, and
meanwhile only when the last settle is long enough ago to keep settling under a fifth
of the loop's time.
"""

from __future__ import annotations

import logging
import threading
import time

from ..eventlog import EventStore, open_log
from ..settings import Settings
from .pipeline import processor_for, project_now
from .processor import RESULT_TYPES, Processor, pending_screenshots

log = logging.getLogger(__name__)

FOLLOW_SECONDS = 1.0  # OBSERVATORY_LOCAL_OCR=false: how often the log's head is checked for the workers' results


class BackgroundPipeline:
    def __init__(self, settings: Settings, *, idle_seconds: float = 5.0) -> None:
        self.settings = settings
        self.idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._follower: threading.Thread | None = None
        self.cycles = 0
        self.settles = 0
        self._settled_at = float("-inf")
        self._settle_seconds = 0.0
        self._followed = -1  # the log's head when last projected (following remote workers)
        if not settings.local_ocr:  # nothing to read here: look at the log's head every second instead
            self.idle_seconds = min(idle_seconds, FOLLOW_SECONDS)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pipeline", daemon=True)
        self._thread.start()
        if self.settings.database_url:  # a shared log: appends from other machines wake the loop
            self._follower = threading.Thread(target=self._follow, name="follow-log", daemon=True)
            self._follower.start()

    def nudge(self, *_: object) -> None:
        """Called by the inbox after an ingest: there is work."""
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop promptly: OCR in hand gets a short grace (then is abandoned, and redone next start), then project."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._follower is not None:
            self._follower.join(timeout)

    def _follow(self) -> None:
        """Nudge the loop whenever the shared log grows, whoever appended."""
        try:
            store = open_log(self.settings, readonly=True)
        except Exception:  # noqa: BLE001 - the periodic wake-up still follows the log
            log.exception("cannot follow the shared log; projecting on the periodic wake-up only")
            return
        try:
            seen = store.last_seq()
            while not self._stopping.is_set():
                if store.wait_for_append(seen, timeout=1.0):
                    seen = store.last_seq()
                    self.nudge()
        except Exception:  # noqa: BLE001
            log.exception("following the shared log failed; projecting on the periodic wake-up only")
        finally:
            store.close()

    def _run(self) -> None:
        store = open_log(self.settings)
        processor = processor_for(self.settings, store)
        try:
            while not self._stopping.is_set():
                try:
                    self._cycle(store, processor)
                except Exception:  # noqa: BLE001 - the daemon must outlive any one bad cycle
                    log.exception("pipeline cycle failed; retrying after a pause")
                    self._stopping.wait(self.idle_seconds)
                self._wake.wait(self.idle_seconds)
                self._wake.clear()
        finally:
            processor.close()
            try:
                project_now(self.settings, store)
            finally:
                store.close()

    def _cycle(self, store: EventStore, processor: Processor) -> None:
        if not self.settings.local_ocr:  # `observatory worker` processes read them: follow what they append
            head = store.last_seq()
            if head != self._followed:
                self._project(store, last=not store.unanswered("ScreenshotIngested", RESULT_TYPES))
                self._followed = head
            self.cycles += 1
            return
        jobs = pending_screenshots(store)
        self._project(store, last=not jobs)  # ingest events show up (status "ingested") before OCR is done
        chunk = max(1, processor.workers) * 2  # small chunks: rows appear while a burst is still being read
        for i in range(0, len(jobs), chunk):
            if self._stopping.is_set():
                break
            processor.run(jobs[i : i + chunk], stop=self._stopping)
            self._project(store, last=i + chunk >= len(jobs))
        self.cycles += 1

    def _project(self, store: EventStore, *, last: bool) -> None:
        started = time.monotonic()
        settle = last or started - self._settled_at >= 4 * self._settle_seconds
        project_now(self.settings, store, settle=settle)
        if settle:
            self._settled_at = time.monotonic()
            self._settle_seconds = self._settled_at - started
            self.settles += 1
