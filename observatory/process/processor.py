"""The log-driven OCR processor.

It finds every `ScreenshotIngested` without a result, extracts it in a process pool,
and appends `ScreenshotClassified` + `ScoresExtracted` (or `ExtractionFailed`) as one
atomic batch. Idempotency keys tie a result to the request that asked for it, so a
crash between OCR and append only means the OCR is redone, and two processors racing
on one screenshot still record one result.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..eventlog import (
    EventStore,
    ExtractionFailed,
    Pending,
    ScoresExtracted,
    ScreenshotClassified,
)
from ..logs import for_screenshot
from .worker import init_worker, run_extraction

log = logging.getLogger(__name__)

RESULT_TYPES = ("ScoresExtracted", "ExtractionFailed")


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
    """Ingested screenshots that have no extraction result yet, oldest first."""
    sql = f"""
        SELECT json_extract(e.payload, '$.sha256'), json_extract(e.payload, '$.blob_path')
        FROM events e
        WHERE e.type = 'ScreenshotIngested'
          AND NOT EXISTS (
              SELECT 1 FROM events r
              WHERE r.stream_id = e.stream_id AND r.type IN ({", ".join(f"'{t}'" for t in RESULT_TYPES)}))
        ORDER BY e.seq
    """
    return [Job(sha, blob) for sha, blob in store.conn.execute(sql)]


def ingested_screenshots(store: EventStore, *, kind: str | None = None, screenshot: str | None = None) -> list[Job]:
    """Screenshots to re-run: all, those whose newest classification is `kind`, or one by id (prefix ok)."""
    jobs: list[Job] = []
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
        jobs.append(Job(sha, ev.payload["blob_path"]))
    return jobs


def result_events(job: Job, outcome: dict[str, Any]) -> list[Pending]:
    """Events recording one worker outcome (pure: no I/O)."""
    stream = f"screenshot-{job.sha256}"
    key = f"{job.request}:{job.sha256}"
    common = {"correlation_id": job.sha256}
    if not outcome["ok"]:
        ev = ExtractionFailed(sha256=job.sha256, stage=outcome["stage"], reason=outcome["reason"],
                              engine=outcome["engine"], engine_version=outcome["engine_version"])
        return [Pending(ev, stream, idempotency_key=f"failed:{key}", **common)]
    r = outcome["result"]
    classified = ScreenshotClassified(sha256=job.sha256, kind=r["kind"], confidence=r["confidence"],
                                      evidence=r.get("evidence", []), engine=r["engine"], engine_version=r["engine_version"])
    extracted = ScoresExtracted(sha256=job.sha256, kind=r["kind"], meta=r.get("meta", {}), rows=r.get("rows", []),
                                row_confidence=r.get("row_confidence", []), dropped_rows=r.get("dropped_rows", []),
                                warnings=r.get("warnings", []), engine=r["engine"], engine_version=r["engine_version"])
    return [
        Pending(classified, stream, idempotency_key=f"classified:{key}", **common),
        Pending(extracted, stream, idempotency_key=f"extracted:{key}", **common),
    ]


class Processor:
    """Runs extraction jobs in a process pool and appends their results to the log."""

    def __init__(self, store: EventStore, events_dir: Path, *, workers: int = 1) -> None:
        self.store = store
        self.events_dir = Path(events_dir)
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=init_worker)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

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

    def run(self, jobs: Iterable[Job], progress: Callable[[int], None] | None = None) -> list[Outcome]:
        jobs = list(jobs)
        if not jobs:
            return []
        outcomes: list[Outcome] = []
        pool = self._executor()
        in_flight: dict[Future[dict[str, Any]], Job] = {}
        queue = list(reversed(jobs))
        limit = self.workers * 2  # bounded: results are appended as they come, memory stays flat
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                job = queue.pop()
                path = str(self.events_dir / job.blob_path)
                in_flight[pool.submit(run_extraction, job.sha256, path, job.kind)] = job
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for fut in done:
                job = in_flight.pop(fut)
                outcomes.append(self._record(job, fut.result()))
                if progress is not None:
                    progress(1)
        return outcomes

    def _record(self, job: Job, outcome: dict[str, Any]) -> Outcome:
        appended = self.store.append(result_events(job, outcome))
        extra = for_screenshot(job.sha256)
        if outcome["ok"]:
            r = outcome["result"]
            log.info("extracted kind=%s confidence=%.2f rows=%d dropped=%d", r["kind"], r["confidence"],
                     len(r.get("rows", [])), len(r.get("dropped_rows", [])), extra=extra)
            return Outcome(job.sha256, True, r["kind"], len(r.get("rows", [])), None, bool(appended))
        error = f"{outcome['stage']}: {outcome['reason']}"
        log.warning("extraction failed: %s", error, extra=extra)
        return Outcome(job.sha256, False, None, 0, error, bool(appended))

