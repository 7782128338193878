"""An OCR worker that takes its work from the claims table: any number of them, on any machine.

Each worker offers the log's unanswered screenshots to the claims table, takes as many
as it has free OCR processes, reads them with the product's processor (the same pool,
engines and result events as `observatory run`), appends each result and marks it done.
A thread renews its leases while it reads; a worker that dies stops renewing, and its
screenshots pass to another worker when the lease expires. A late result of a lease
that expired is a no-op append (the result's idempotency key), so every request gets
one result however the workers race.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from ..eventlog import EventStore
from ..eventlog.claims import Claim, worker_id
from ..logs import for_screenshot
from ..settings import Settings
from .engines import plan_for
from .pipeline import processor_for
from .processor import Job, Outcome, answered, pending_screenshots, result_events
from .reading import Reading
from .reclassify import reclassify_jobs

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # takes of one request before it is recorded as failed instead of read again


@dataclass
class Tally:
    read: int = 0
    failed: int = 0
    skipped: int = 0  # taken, but the log already had their result (another process recorded it)
    released: int = 0


class LeasedWorker:
    def __init__(self, settings: Settings, store: EventStore, claims, *,  # type: ignore[no-untyped-def]
                 concurrency: int | None = None, once: bool = False, max_results: int | None = None,
                 poll_seconds: float = 1.0, name: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.claims = claims
        self.concurrency = concurrency or settings.workers
        self.once = once
        self.max_results = max_results
        self.poll_seconds = poll_seconds
        self.name = name or worker_id()
        self.tally = Tally()
        self._held: set[str] = set()
        self._taken = 0
        self._held_lock = threading.Lock()
        self._offered_at = -1  # the log's last seq when the unanswered screenshots were last offered
        self._empty_at = float("-inf")  # when a take last came back empty

    # -- the claims side ---------------------------------------------------------
    def _offer(self) -> None:
        """Offer what the log says is unanswered, when the log has grown since the last offer.

        The first time, every unanswered screenshot; then only those ingested since (and the
        admins' reclassifications), so a long backlog is not offered again after every result.
        """
        last = self.store.last_seq()
        if last == self._offered_at:
            return
        if self._offered_at < 0:
            jobs = pending_screenshots(self.store)
        else:
            jobs = [Job(e.payload["sha256"], e.payload["blob_path"])
                    for e in self.store.read(self._offered_at, types=["ScreenshotIngested"])]
            jobs += reclassify_jobs(self.store, Job)
        self.claims.offer(Claim(j.sha256, j.blob_path, j.kind, j.request) for j in jobs)
        self._offered_at = last

    def _more(self, n: int) -> list[Job]:
        """Up to `n` claimed jobs whose result the log does not have yet."""
        if self.max_results is not None:
            n = min(n, self.max_results - self._taken)
        # with OCR in hand, an empty table is asked again only after a pause
        if n <= 0 or (n < self.concurrency and time.monotonic() - self._empty_at < self.poll_seconds):
            return []
        self._offer()
        jobs: list[Job] = []
        while len(jobs) < n:
            taken = self.claims.take(self.name, n - len(jobs))
            if not taken:
                self._empty_at = time.monotonic()
                break
            for claim in taken:
                job = Job(claim.sha256, claim.blob_path, claim.kind, claim.request)
                if answered(self.store, job):
                    self.claims.finish(claim.key)
                    self.tally.skipped += 1
                    continue
                if claim.attempts > MAX_ATTEMPTS:
                    self._give_up(job, claim)
                    continue
                with self._held_lock:
                    self._held.add(claim.key)
                how = "taken over from an expired lease" if claim.attempts > 1 else "claimed"
                log.info("%s (attempt %d, lease %.0fs)", how, claim.attempts, self.claims.lease_seconds,
                         extra=for_screenshot(claim.sha256))
                jobs.append(job)
        self._taken += len(jobs)
        return jobs

    def _give_up(self, job: Job, claim: Claim) -> None:
        """A screenshot whose workers kept dying (or vanishing) while reading it gets a failure, not a sixth try.

        A worker that the OCR of one image kills (memory, a crash in a native library) would
        otherwise take the whole fleet down one lease at a time, for ever.
        """
        from ..extract import engine_version

        reader = plan_for(self.settings).reader
        reason = (f"gave up after {claim.attempts - 1} attempts: every worker that took it stopped before "
                  "recording a result (killed, or its OCR process died)")
        reading = Reading.failure(job.sha256, stage="internal", reason=reason, engine=reader,
                                  engine_version=engine_version(reader), requested_kind=job.kind)
        appended = self.store.append(result_events(job, reading))
        self.claims.finish(claim.key)
        self.tally.read += 1
        self.tally.failed += 1
        log.error("%s%s", reason, "" if appended else " (another worker recorded it first)",
                  extra=for_screenshot(job.sha256))

    def _done(self, job: Job, outcome: Outcome) -> None:
        key = Claim(job.sha256, job.blob_path, job.kind, job.request).key
        self.claims.finish(key)
        with self._held_lock:
            self._held.discard(key)
        self.tally.read += 1
        self.tally.failed += 0 if outcome.ok else 1
        if not outcome.appended:
            log.info("result already in the log (a late reading of a lease that passed on); appended nothing",
                     extra=for_screenshot(job.sha256))

    def _renew(self, stop: threading.Event) -> None:
        """Keep the leases of the screenshots in hand, every third of a lease."""
        while not stop.wait(self.claims.lease_seconds / 3):
            with self._held_lock:
                held = set(self._held)
            try:
                kept = self.claims.renew(self.name, held)
            except Exception:  # noqa: BLE001 - a missed renewal only risks a second reading, never a second result
                log.exception("could not renew leases; retrying")
                continue
            for key in held - kept:
                with self._held_lock:
                    still_ours = key in self._held
                if still_ours:
                    log.warning("lease lost (expired); another worker may read it too, the log keeps one result",
                                extra=for_screenshot(key.rsplit(":", 1)[-1]))

    # -- the loop ----------------------------------------------------------------
    def run(self, stop: threading.Event) -> Tally:
        """Read claimed screenshots until `stop` (or, with once/max, until done); leases in hand are released."""
        renewing = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(renewing,), name="lease-renewer", daemon=True)
        renewer.start()
        processor = processor_for(self.settings, self.store)
        processor.workers = self.concurrency
        try:
            while not stop.is_set():
                try:
                    processor.run([], stop=stop, more=self._more, done=self._done)
                except Exception:  # noqa: BLE001 - a worker outlives a bad cycle (storage down, a bug in one step)
                    log.exception("worker cycle failed; giving back its leases and retrying after a pause")
                    self._release()
                    stop.wait(5 * self.poll_seconds)
                    continue
                if self.once or (self.max_results is not None and self._taken >= self.max_results):
                    break
                stop.wait(self.poll_seconds)
        finally:
            renewing.set()
            processor.close()
            self._release()
            renewer.join(5)
        return self.tally

    def _release(self) -> None:
        with self._held_lock:
            self._held.clear()
        self.tally.released += self.claims.release(self.name)
