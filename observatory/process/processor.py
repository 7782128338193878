"""The log-driven OCR processor.

It finds every `ScreenshotIngested` without a result, extracts it in a process pool,
and appends `ScreenshotClassified` + `ScoresExtracted` (or `ExtractionFailed`) as one
atomic batch. Idempotency keys tie a result to the request that asked for it, so a
crash between OCR and append only means the OCR is redone, and two processors racing
on one screenshot still record one result.

The same makes a prompt stop safe: when the daemon is told to stop, queued jobs are
dropped, OCR in hand gets a short grace, and whatever is still running after it is
abandoned (its workers, and the Tesseract processes they started, are ended): one
screenshot can take many CPU-seconds on a loaded machine, and a service manager
will not wait for that. Abandoned screenshots have no result, so the next start
reads them again.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..eventlog import EventStore, Pending
from ..ingest.blobs import BlobStore
from ..logs import for_screenshot
from .engines import EnginePlan, run_vision, with_fallback, with_reason
from .reading import Reading
from .reclassify import forced_kinds_in, reclassify_jobs
from .worker import init_worker, run_extraction

log = logging.getLogger(__name__)

RESULT_TYPES = ("ScoresExtracted", "ExtractionFailed")
STOP_GRACE_SECONDS = 3.0  # how long OCR in hand may still finish once a stop is asked for


@dataclass(frozen=True, slots=True)
class Job:
    sha256: str
    blob_path: str  # relative to the events dir
    kind: str | None = None  # forced kind (reclassification)
    request: str = "initial"  # which request this result answers; part of the idempotency key


@dataclass(frozen=True, slots=True)
class Outcome:
    sha256: str
    ok: bool
    kind: str | None
    rows: int
    error: str | None
    appended: bool  # False when another processor had already recorded this result


def pending_screenshots(store: EventStore) -> list[Job]:
    """Ingested screenshots that have no extraction result yet, oldest first, then admins' reclassifications."""
    ingested = [e.event for e in store.unanswered("ScreenshotIngested", RESULT_TYPES)]
    return [Job(e.sha256, e.blob_path) for e in ingested] + reclassify_jobs(store, Job)  # type: ignore[attr-defined]


def ingested_screenshots(store: EventStore, *, kind: str | None = None, screenshot: str | None = None) -> list[Job]:
    """Screenshots to re-run: all, those whose newest classification is `kind`, or one by id (prefix ok).

    A screenshot an admin reclassified is re-run as that kind, so the correction survives.
    """
    jobs: list[Job] = []
    forced = forced_kinds_in(store)
    newest_kind: dict[str, str] = {}
    if kind is not None:
        for ev in store.read(types=["ScreenshotClassified"]):
            newest_kind[ev.payload["sha256"]] = ev.payload["kind"]
    for ev in store.read(types=["ScreenshotIngested"]):
        sha = ev.payload["sha256"]
        if screenshot is not None and not sha.startswith(screenshot):
            continue
        if kind is not None and newest_kind.get(sha) != kind:
            continue
        jobs.append(Job(sha, ev.payload["blob_path"], forced.get(sha)))
    return jobs


def answered(store: EventStore, job: Job) -> bool:
    """Whether the log already holds the result of this very request (by its idempotency keys)."""
    key = f"{job.request}:{job.sha256}"
    return store.find_key(f"extracted:{key}") is not None or store.find_key(f"failed:{key}") is not None


def result_events(job: Job, reading: Reading) -> list[Pending]:
    """Events recording one worker's reading (pure: no I/O)."""
    stream = f"screenshot-{job.sha256}"
    key = f"{job.request}:{job.sha256}"
    common = {"correlation_id": job.sha256, "metadata": reading.metadata or None}
    if reading.failed is not None:
        return [Pending(reading.failed, stream, idempotency_key=f"failed:{key}", **common)]
    if reading.classified is None or reading.scores is None:
        raise ValueError(f"a reading of {job.sha256} with neither a result nor a failure: {reading.vision_error}")
    return [
        Pending(reading.classified, stream, idempotency_key=f"classified:{key}", **common),
        Pending(reading.scores, stream, idempotency_key=f"extracted:{key}", **common),
    ]


class Processor:
    """Runs extraction jobs in a process pool and appends their results to the log.

    With an OpenAI plan, vision calls run on a few threads of this process (never in
    the pool, so the engine's one rate limiter bounds them all); a failed vision call
    falls back to the pool's Tesseract reading.
    """

    def __init__(self, store: EventStore, events_dir: Path, *, workers: int = 1, engines: EnginePlan | None = None,
                 stop_grace: float = STOP_GRACE_SECONDS, blobs: Any = None) -> None:
        self.store = store
        self.events_dir = Path(events_dir)
        # where blobs are read: the folder (the default) or S3, whose blobs are downloaded for the pool to read
        self.blobs = blobs if blobs is not None else BlobStore(self.events_dir / "blobs", self.events_dir)
        self.workers = max(1, workers)
        self.engines = engines or EnginePlan()
        self.stop_grace = stop_grace
        self._pool: ProcessPoolExecutor | None = None
        self._scratch: str | None = None
        self._threads: ThreadPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._scratch = tempfile.mkdtemp(prefix="observatory-ocr-")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_init_pool_worker,
                                             initargs=(self._scratch, os.getpid()))
        return self._pool

    def _vision_threads(self) -> ThreadPoolExecutor:
        if self._threads is None:
            assert self.engines.vision is not None
            self._threads = ThreadPoolExecutor(self.engines.vision.limiter.concurrency, thread_name_prefix="openai")
        return self._threads

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._remove_scratch()
        if hasattr(self.blobs, "close"):  # S3: its folder of downloaded copies
            self.blobs.close()
        if self._threads is not None:
            self._threads.shutdown(wait=True, cancel_futures=True)
            self._threads = None

    def __enter__(self) -> "Processor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def process_pending(self, progress: Callable[[int], None] | None = None) -> list[Outcome]:
        return self.run(pending_screenshots(self.store), progress=progress)

    def reprocess(self, jobs: Sequence[Job], *, kind: str | None = None,
                  progress: Callable[[int], None] | None = None) -> list[Outcome]:
        """Re-run extraction; results answer a fresh request id, so they are appended as the newest."""
        request = f"reprocess-{uuid.uuid4().hex[:12]}"
        return self.run([Job(j.sha256, j.blob_path, kind or j.kind, request) for j in jobs], progress=progress)

    def run(self, jobs: Iterable[Job], progress: Callable[[int], None] | None = None, *,
            stop: threading.Event | None = None, more: Callable[[int], Sequence[Job]] | None = None,
            done: Callable[[Job, Outcome], None] | None = None) -> list[Outcome]:
        """Extract `jobs`, appending each result as it comes; once `stop` is set, wind down promptly (see the module doc).

        `more(n)`, when given, is asked for up to n further jobs whenever a worker is free
        (claimed work: only as much is taken as can be read now); `done(job, outcome)` is
        told of each result once it is in the log.
        """
        jobs = list(jobs)
        if not jobs and more is None:
            return []
        outcomes: list[Outcome] = []
        # each future carries its job, which step it is, and the earlier step's outcome if any
        in_flight: dict[Future[Reading], tuple[Job, str, Reading | None]] = {}
        queue = list(reversed(jobs))
        # bounded: results are appended as they come, memory stays flat; claimed work only as much as is read now
        limit = self.workers if more is not None else self.workers * 2
        copies: dict[Job, Path] = {}  # downloaded blobs (S3), removed once the job's result is recorded

        stop_by: float | None = None  # when a stop was asked for: the end of the grace

        def start(job: Job, step: str, earlier: Reading | None = None) -> None:
            if stop_by is not None:
                return  # stopping: a further step is not started; the job is read again next time
            if job not in copies:
                copies[job] = self.blobs.local_copy(job.blob_path)
            path = str(copies[job])
            if step == "vision":
                fut = self._vision_threads().submit(run_vision, self.engines.vision, job.sha256, path, job.kind)
            else:
                fut = self._executor().submit(run_extraction, job.sha256, path, job.kind, self.engines.reader)
            in_flight[fut] = (job, step, earlier)

        while True:
            if more is not None and stop_by is None and not queue and len(in_flight) < limit \
                    and not (stop is not None and stop.is_set()):
                queue = list(reversed(more(limit - len(in_flight))))
            if not (queue or in_flight):
                break
            if stop is not None and stop.is_set():
                if stop_by is None:
                    stop_by = time.monotonic() + self.stop_grace
                    queue.clear()
                    for fut in [f for f in in_flight if f.cancel()]:  # submitted, not yet running
                        del in_flight[fut]
                if not in_flight:
                    break
                if time.monotonic() >= stop_by:
                    self._abandon(len(in_flight))
                    break
            while queue and len(in_flight) < limit:
                start(queue.pop(), "vision" if self.engines.vision_first else "tesseract")
            # with a stop to watch for, wake up now and then to look at it
            timeout = None if stop is None else 0.2 if stop_by is None else max(0.0, min(0.2, stop_by - time.monotonic()))
            finished, _ = wait(in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
            for fut in finished:
                job, step, earlier = in_flight.pop(fut)
                outcome = self._next_step(job, step, fut.result(), earlier, start)
                if outcome is None:
                    continue  # another step was started for this job
                recorded = self._record(job, outcome)
                outcomes.append(recorded)
                copy = copies.pop(job, None)
                if copy is not None:
                    self.blobs.drop_local_copy(copy)
                if done is not None:
                    done(job, recorded)
                if progress is not None:
                    progress(1)
        for copy in copies.values():  # jobs abandoned on a stop
            self.blobs.drop_local_copy(copy)
        return outcomes

    def _abandon(self, running: int) -> None:
        """End the OCR workers (and the Tesseract processes they started) without waiting for them."""
        log.warning("stopping: abandoned the OCR of %d screenshot(s) still running after %.0fs; "
                    "they are read again on the next start", running, self.stop_grace)
        pool, self._pool = self._pool, None
        if pool is not None:
            # no public way to end a pool's workers before Python 3.14's terminate_workers()
            for proc in list(getattr(pool, "_processes", {}).values()):
                helpers = _children_of(proc.pid)
                proc.terminate()
                for pid in helpers:
                    try:
                        os.kill(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            pool.shutdown(wait=True, cancel_futures=True)
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _next_step(self, job: Job, step: str, outcome: Reading, earlier: Reading | None,
                   start: Callable[..., None]) -> Reading | None:
        """The reading to record for `job`, or None after starting its next step."""
        if step == "vision":
            if outcome.ok:
                return outcome if earlier is None else with_reason(outcome, earlier, self.engines.threshold)
            log.warning("%s; using Tesseract", outcome.vision_error, extra=for_screenshot(job.sha256))
            if earlier is not None:  # auto: Tesseract already read it
                return with_fallback(earlier, outcome)
            start(job, "fallback", outcome)
            return None
        if step == "fallback":
            assert earlier is not None
            return with_fallback(outcome, earlier)
        if self.engines.second_opinion(outcome):
            start(job, "vision", outcome)
            return None
        return outcome

    def _record(self, job: Job, reading: Reading) -> Outcome:
        appended = self.store.append(result_events(job, reading))
        extra = for_screenshot(job.sha256)
        c, s = reading.classified, reading.scores
        if c is not None and s is not None:
            log.info("extracted engine=%s kind=%s confidence=%.2f rows=%d dropped=%d", c.engine, s.kind,
                     c.confidence, len(s.rows), len(s.dropped_rows), extra=extra)
            return Outcome(job.sha256, True, s.kind, len(s.rows), None, bool(appended))
        assert reading.failed is not None
        error = f"{reading.failed.stage}: {reading.failed.reason}"
        log.warning("extraction failed: %s", error, extra=extra)
        return Outcome(job.sha256, False, None, 0, error, bool(appended))



def _init_pool_worker(scratch: str, parent: int) -> None:
    """A pool worker; its temporary files (Tesseract's input images) go to a folder removed with the pool."""
    init_worker(parent)
    tempfile.tempdir = scratch


def _children_of(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc; elsewhere none are found and they finish on their own)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []
