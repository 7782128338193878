"""The watch daemon: a watchdog observer feeding finished files to the Ingestor.

Events only say "look at this path again"; what happens is decided by a single
worker thread, so the log sees one writer and no event storm can race itself.
Missing events are expected (sync clients, network mounts): a start-up scan, a
periodic rescan and a probe that falls back to polling cover them. Anything that
goes wrong with one file is logged and the loop goes on.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from ..eventlog import EventStore, StoredEvent, open_log
from ..ingest.blobs import BlobStore
from ..ingest.ignore import IgnoreRules
from ..ingest.paths import locate, walk
from ..ingest.recovery import clean_temp_files, orphan_blobs
from ..ingest.service import Ingestor, ingest_key
from ..settings import Settings
from .probe import Probe
from .stability import Stat, StabilityTracker, stat_key

log = logging.getLogger(__name__)

Hook = Callable[[list[StoredEvent]], None]

# Event kinds worth a look; opens and read-only closes (our own reads!) are not.
WATCHED_EVENTS = [
    FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileClosedEvent, FileDeletedEvent,
    DirCreatedEvent, DirMovedEvent, DirDeletedEvent,
]


class _Handler(FileSystemEventHandler):
    """Observer thread side: turn events into queue items, nothing else."""

    def __init__(self, inbox: "Inbox") -> None:
        self.inbox = inbox

    def on_any_event(self, event: FileSystemEvent) -> None:
        probe = self.inbox._probe
        for attr in ("src_path", "dest_path"):
            p = getattr(event, attr, "")
            if isinstance(p, bytes):
                p = os.fsdecode(p)
            if probe is not None and p and probe.matches(p):
                probe.seen()
        src = os.fsdecode(event.src_path)
        if event.event_type == "moved":
            self.inbox._notify("gone", src)
            self.inbox._notify("dir" if event.is_directory else "file", os.fsdecode(event.dest_path))
        elif event.event_type == "deleted":
            self.inbox._notify("gone", src)
        elif event.is_directory:
            if event.event_type == "created":
                self.inbox._notify("dir", src)
        else:
            self.inbox._notify("file", src)


class Inbox:
    """Watches `settings.watch_dir` and ingests every finished file exactly once.

    `on_ingested(events)` is called from the worker thread after each batch that
    appended events (ingests, duplicates, rejections); exceptions in it are logged
    and do not stop the daemon. Use `start()`/`stop()`, or `with Inbox(...)`.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: EventStore | None = None,
        on_ingested: Hook | None = None,
        probe_timeout: float = 2.0,
        own_rescan: bool = True,
    ) -> None:
        self.settings = settings
        # off when a scheduler owns the periodic rescan (`observatory run`): one mechanism, not two
        self.rescan_seconds: float | None = settings.rescan_seconds if own_rescan else None
        self.watch_dir: Path = settings.watch_dir  # type: ignore[assignment]
        self.on_ingested = on_ingested
        self.probe_timeout = probe_timeout
        self._own_store = store is None
        self.store = store
        self.rules = IgnoreRules(settings.ignore_patterns)
        self.tracker = StabilityTracker(settings.stability_seconds)
        self._done: dict[str, Stat] = {}  # path -> stat when it was last settled
        self._queue: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self._probe: Probe | None = None
        self._ingestor: Ingestor | None = None
        self._orphans: set[str] = set()
        self.polling = settings.polling
        self.batches = 0  # processed batches, for tests and status

    # -- lifecycle ---------------------------------------------------------------
    def __enter__(self) -> "Inbox":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Recover from any crash, start observing, and queue everything already in the inbox."""
        self.watch_dir.mkdir(parents=True, exist_ok=True)
        if self.store is None:
            self.store = open_log(self.settings)
        self._ingestor = Ingestor(self.settings, self.store)
        blobs = BlobStore(self.settings.blobs_dir, self.settings.events_dir)  # type: ignore[arg-type]
        clean_temp_files(blobs)
        self._orphans = set(orphan_blobs(self.store, blobs))
        if self._orphans:
            log.warning("%d blob(s) have no ScreenshotIngested event (interrupted ingest); "
                        "re-adopting those whose source is still in the inbox", len(self._orphans))
        self._observer = self._start_observer()
        self._queue.put(("scan", os.fspath(self.watch_dir)))
        self._thread = threading.Thread(target=self._run, name="inbox-worker", daemon=True)
        self._thread.start()
        log.info("watching %s (%s observer, stable after %.1fs, %s)", self.watch_dir,
                 "polling" if self.polling else "native", self.settings.stability_seconds,
                 f"rescan every {self.rescan_seconds:.0f}s" if self.rescan_seconds else "rescans scheduled")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop observing and let the worker finish its current batch (nothing half-done is lost either way)."""
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        if self._ingestor is not None:
            self._ingestor.close()
        if self._own_store and self.store is not None:
            self.store.close()
            self.store = None
        log.info("stopped watching %s", self.watch_dir)

    def rescan(self) -> None:
        """Ask for a full rescan of the inbox (thread-safe)."""
        self._notify("scan", os.fspath(self.watch_dir))

    # -- observer --------------------------------------------------------------------
    def _start_observer(self) -> BaseObserver:
        if not self.polling:
            observer = self._schedule(Observer())
            self._probe = Probe(self.watch_dir)
            ok = self._probe.run(self.probe_timeout)
            self._probe = None
            if ok:
                return observer
            log.warning("no native file events arrived from %s within %.1fs (network or FUSE mount?); "
                        "falling back to the polling observer", self.watch_dir, self.probe_timeout)
            observer.stop()
            observer.join(5)
            self.polling = True
        return self._schedule(PollingObserver(timeout=max(0.2, min(1.0, self.settings.stability_seconds))))

    def _schedule(self, observer: BaseObserver) -> BaseObserver:
        observer.schedule(_Handler(self), os.fspath(self.watch_dir), recursive=True, event_filter=WATCHED_EVENTS)
        observer.start()
        return observer

    def _notify(self, kind: str, path: str) -> None:
        self._queue.put((kind, path))
        self._wake.set()

    # -- worker ------------------------------------------------------------------------
    def _run(self) -> None:
        period = self.rescan_seconds if self.rescan_seconds else float("inf")
        next_rescan = time.monotonic() + period
        while not self._stopping.is_set():
            try:
                now = time.monotonic()
                if now >= next_rescan:
                    self._queue.put(("scan", os.fspath(self.watch_dir)))
                    next_rescan = now + period
                self._drain()
                self._process_ready()
                due = self.tracker.next_due(time.monotonic())
                wait = min(due if due is not None else 3600.0, max(0.0, next_rescan - time.monotonic()))
            except Exception:  # one bad file or a full disk must not end the daemon
                log.exception("inbox worker error; continuing")
                wait = 1.0
            self._wake.wait(wait)
            self._wake.clear()

    def _relparts(self, path: str) -> tuple[str, ...] | None:
        rel = os.path.relpath(path, self.watch_dir)
        if rel == "." or rel.startswith(".."):
            return None
        return tuple(Path(rel).parts)

    def _drain(self) -> None:
        while True:
            try:
                kind, path = self._queue.get_nowait()
            except queue.Empty:
                return
            parts = self._relparts(path)
            if kind == "scan":
                self._scan(path)
            elif parts is None:
                continue
            elif kind == "gone":
                self.tracker.forget(path)
                self._done.pop(path, None)
                prefix = path.rstrip(os.sep) + os.sep
                for p in [p for p in self._done if p.startswith(prefix)]:
                    del self._done[p]
            elif kind == "dir":
                if not self.rules.ignored_dir(parts):
                    self._scan(path)
            elif not self.rules.ignored(parts):
                self._consider(path)

    def _consider(self, path: str) -> None:
        st = stat_key(path)
        if st is not None and (path in self.tracker or self._done.get(path) != st):
            self.tracker.touch(path, time.monotonic(), st)

    def _scan(self, folder: str) -> None:
        """Queue every file under `folder` that is new or changed since it was last settled."""
        base = self._relparts(folder) or ()
        prune = lambda parts: self.rules.ignored_dir((*base, *parts))  # noqa: E731
        for p in walk(Path(folder), prune):
            parts = self._relparts(os.fspath(p))
            if parts and not self.rules.ignored(parts):
                self._consider(os.fspath(p))

    def _process_ready(self) -> None:
        ready = [(p, st) for p, st in self.tracker.ready(time.monotonic()) if self._done.get(p) != st]
        if ready:
            assert self._ingestor is not None
            stats = dict(ready)
            cands = [locate(p, self.watch_dir, self.settings.default_community) for p, _ in ready]
            for outcomes in self._ingestor.ingest_all(cands):
                events = []
                for o in outcomes:
                    path = os.fspath(o.candidate.path)
                    if o.final:
                        self._done[path] = stats[path]
                    elif o.status == "unstable":
                        self.tracker.touch(path, time.monotonic(), stat_key(path))
                    if o.event is not None:
                        events.append(o.event)
                self.batches += 1
                if events:
                    self._call_hook(events)
                if self._stopping.is_set():
                    break  # a big drop need not finish before a stop: the next start's scan finds the rest
        if self._orphans and not len(self.tracker):
            self._report_orphans()

    def _report_orphans(self) -> None:
        assert self.store is not None
        for sha in sorted(self._orphans):
            if self.store.find_key(ingest_key(sha)) is None:
                log.warning("orphaned blob %s has no ScreenshotIngested event and no source file in the inbox",
                            sha, extra={"screenshot": sha})
        self._orphans = set()

    def _call_hook(self, events: list[StoredEvent]) -> None:
        if self.on_ingested is None:
            return
        try:
            self.on_ingested(events)
        except Exception:
            log.exception("on_ingested hook failed for %d event(s); the events are safely in the log", len(events))
