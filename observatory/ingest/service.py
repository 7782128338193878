"""Turning inbox files into events: one batch of candidates → one atomic append.

Exactly-once comes from the log, not from memory: an image's idempotency key is
`ingest:<sha256>`, a second sighting `dup:<sha256>:<path>`, a refusal
`reject:<path>:<size:mtime_ns>`. Re-running over the same files after a crash or a
restart appends nothing new. Blobs are written before the batch is appended.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from ..eventlog import DuplicateSighted, EventStore, IngestRejected, Pending, ScreenshotIngested, StoredEvent
from ..logs import for_screenshot
from ..settings import Settings
from .blobs import open_blobs
from .capture_time import captured_at
from .ignore import IgnoreRules
from .inspect import ImageFacts, ReadResult, Rejection, examine_image, read_file
from .paths import Candidate

log = logging.getLogger(__name__)

Status = Literal["ingested", "duplicate", "rejected", "ignored", "known", "unstable", "gone"]
FINAL: frozenset[str] = frozenset({"ingested", "duplicate", "rejected", "ignored", "known"})

# Files per atomic append, and a cap on the bytes held in memory for one batch.
BATCH_FILES = 64
BATCH_BYTES = 256 * 1024 * 1024


def ingest_key(sha256: str) -> str:
    return f"ingest:{sha256}"


def dup_key(sha256: str, rel: str) -> str:
    return f"dup:{sha256}:{rel}"


def reject_key(rel: str, fingerprint: str) -> str:
    return f"reject:{rel}:{fingerprint}"


def reject_stream(rel: str) -> str:
    return "rejected-" + hashlib.sha256(rel.encode("utf-8")).hexdigest()[:24]


@dataclass(slots=True)
class Outcome:
    """What became of one candidate. `event` is set when this run appended one."""

    candidate: Candidate
    status: Status
    sha256: str | None = None
    fingerprint: str | None = None
    code: str | None = None
    reason: str | None = None
    event: StoredEvent | None = None

    @property
    def final(self) -> bool:
        """False for files to look at again later (still changing, or vanished mid-look)."""
        return self.status in FINAL


@dataclass(slots=True)
class Summary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("ingested", "duplicate", "rejected", "ignored", "known", "unstable", "gone"), 0))
    events: list[StoredEvent] = field(default_factory=list)

    def add(self, outcomes: Iterable[Outcome]) -> None:
        for o in outcomes:
            self.counts[o.status] += 1
            if o.event is not None:
                self.events.append(o.event)


class Ingestor:
    """Inspects candidates (in parallel threads: hashing and decoding release the GIL) and appends their events."""

    def __init__(self, settings: Settings, store: EventStore, *, workers: int | None = None) -> None:
        self.settings = settings
        self.store = store
        self.rules = IgnoreRules(settings.ignore_patterns)
        self.blobs = open_blobs(settings)  # the folder, or S3 (OBSERVATORY_BLOB_URL)
        # Twice the CPUs: decoding keeps them busy while the other half waits on fsync.
        self.pool = ThreadPoolExecutor(max_workers=workers or min(16, 2 * (os.cpu_count() or 1) + 2), thread_name_prefix="ingest")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        if hasattr(self.blobs, "close"):
            self.blobs.close()

    # -- batching ----------------------------------------------------------------
    def ingest_all(self, candidates: Sequence[Candidate], progress: Callable[[int], None] | None = None) -> Iterator[list[Outcome]]:
        """Process many candidates as a series of bounded batches, yielding each batch's outcomes."""
        batch: list[Candidate] = []
        held = 0
        for cand in candidates:
            try:
                size = cand.path.lstat().st_size
            except OSError:
                size = 0
            if batch and (len(batch) >= BATCH_FILES or held + size > BATCH_BYTES):
                yield self._counted(batch, progress)
                batch, held = [], 0
            batch.append(cand)
            held += size
        if batch:
            yield self._counted(batch, progress)

    def _counted(self, batch: list[Candidate], progress: Callable[[int], None] | None) -> list[Outcome]:
        out = self.ingest(batch)
        if progress:
            progress(len(batch))
        return out

    # -- one batch ---------------------------------------------------------------
    def ingest(self, candidates: Sequence[Candidate]) -> list[Outcome]:
        """Look at each candidate and append the resulting events in one transaction."""
        s = self.settings
        outcomes: list[Outcome | None] = [None] * len(candidates)
        todo: list[int] = []
        for i, cand in enumerate(candidates):
            if self.rules.ignored(cand.parts):
                outcomes[i] = Outcome(cand, "ignored")
            else:
                todo.append(i)
        reads: dict[int, ReadResult] = dict(zip(todo, self.pool.map(
            lambda i: read_file(candidates[i].path, root=candidates[i].root, max_bytes=s.max_file_bytes), todo)))

        # Which contents the log already holds, and which need a full look.
        known: dict[str, StoredEvent | None] = {}
        first_new: dict[str, int] = {}
        for i, r in reads.items():
            if r.snapshot is not None:
                sha = r.snapshot.sha256
                if sha not in known:
                    known[sha] = self.store.find_key(ingest_key(sha))
                if known[sha] is None and sha not in first_new:
                    first_new[sha] = i
        # Decode the new contents and store the good ones as blobs, durably, before any event names them.
        # One task per file, so one file's fsync overlaps another's decoding.
        examined: dict[int, tuple[ImageFacts | Rejection, str | None]] = dict(zip(
            first_new.values(), self.pool.map(lambda i: self._examine_and_store(reads[i]), first_new.values())))

        pending: list[Pending] = []
        taken: dict[str, str] = {}  # sha -> path that ingests it in this batch
        for i, r in reads.items():
            cand = candidates[i]
            if r.gone:
                outcomes[i] = Outcome(cand, "gone", fingerprint=r.fingerprint)
                continue
            if r.unstable:
                outcomes[i] = Outcome(cand, "unstable", fingerprint=r.fingerprint)
                continue
            if r.rejection is not None:
                outcomes[i] = self._reject(cand, r, r.rejection, None, pending)
                continue
            snap = r.snapshot
            assert snap is not None
            sha = snap.sha256
            holder = known.get(sha)
            first_path = holder.payload["original_path"] if holder is not None else taken.get(sha)
            if first_path is not None:
                if first_path == cand.rel:
                    outcomes[i] = Outcome(cand, "known", sha, r.fingerprint)
                else:
                    outcomes[i] = Outcome(cand, "duplicate", sha, r.fingerprint)
                    pending.append(self._dup_pending(sha, cand))
                continue
            facts, blob_path = examined[i]
            if isinstance(facts, Rejection):
                outcomes[i] = self._reject(cand, r, facts, sha, pending)
                continue
            when, source = captured_at(cand.file_name, facts.exif_time, snap.mtime_ns, s.tz)
            event = ScreenshotIngested(
                sha256=sha, community=cand.community, original_path=cand.rel, file_name=cand.file_name,
                byte_size=snap.size, format=facts.format, width=facts.width, height=facts.height,
                captured_at=when, captured_at_source=source, blob_path=blob_path,  # type: ignore[arg-type]
            )
            pending.append(Pending(event, f"screenshot-{sha}", idempotency_key=ingest_key(sha), correlation_id=sha))
            taken[sha] = cand.rel
            outcomes[i] = Outcome(cand, "ingested", sha, r.fingerprint)

        done = self._append(pending)
        final: list[Outcome] = []
        for o in outcomes:
            assert o is not None
            self._settle(o, done)
            final.append(o)
        return final

    # -- helpers -------------------------------------------------------------------
    def _examine_and_store(self, r: ReadResult) -> tuple[ImageFacts | Rejection, str | None]:
        snap = r.snapshot
        assert snap is not None
        facts = examine_image(snap.data, max_pixels=self.settings.max_image_pixels)
        if isinstance(facts, Rejection):
            return facts, None
        return facts, self.blobs.put(snap.sha256, facts.extension, snap.data)

    def _dup_pending(self, sha: str, cand: Candidate) -> Pending:
        event = DuplicateSighted(sha256=sha, community=cand.community, original_path=cand.rel, file_name=cand.file_name)
        return Pending(event, f"screenshot-{sha}", idempotency_key=dup_key(sha, cand.rel), correlation_id=sha)

    def _reject(self, cand: Candidate, r: ReadResult, why: Rejection, sha: str | None, pending: list[Pending]) -> Outcome:
        fp = r.fingerprint or "unknown"
        event = IngestRejected(
            original_path=cand.rel, file_name=cand.file_name, community=cand.community,
            code=why.code, reason=why.reason, fingerprint=fp, byte_size=r.size,
        )
        pending.append(Pending(event, reject_stream(cand.rel), idempotency_key=reject_key(cand.rel, fp), correlation_id=sha))
        return Outcome(cand, "rejected", sha, fp, why.code, why.reason)

    def _append(self, pending: list[Pending]) -> dict[str, StoredEvent]:
        if not pending:
            return {}
        return {e.idempotency_key: e for e in self.store.append(pending) if e.idempotency_key}

    def _settle(self, o: Outcome, done: dict[str, StoredEvent]) -> None:
        """Attach the appended event; an event whose key was already used means the log knew it."""
        cand = o.candidate
        if o.status == "ingested":
            key = ingest_key(o.sha256)  # type: ignore[arg-type]
            o.event = done.get(key)
            if o.event is None:
                # Another writer ingested this content between our look-up and our append.
                holder = self.store.find_key(key)
                if holder is not None and holder.payload["original_path"] != cand.rel:
                    o.status = "duplicate"
                    appended = self.store.append([self._dup_pending(o.sha256, cand)])  # type: ignore[arg-type]
                    o.event = appended[0] if appended else None
                else:
                    o.status = "known"
        elif o.status == "duplicate":
            o.event = done.get(dup_key(o.sha256, cand.rel))  # type: ignore[arg-type]
        elif o.status == "rejected":
            o.event = done.get(reject_key(cand.rel, o.fingerprint or "unknown"))
        if o.event is None and o.status in ("duplicate", "rejected"):
            o.status = "known"
        if o.event is not None:
            _log_event(o)


def _log_event(o: Outcome) -> None:
    p = o.event.payload  # type: ignore[union-attr]
    extra = for_screenshot(o.sha256)
    if o.status == "ingested":
        log.info("ingested %s [%s] %s %dx%d, captured %s (%s)", p["original_path"], p["community"], p["format"],
                 p["width"], p["height"], p["captured_at"], p["captured_at_source"], extra=extra)
    elif o.status == "duplicate":
        log.info("duplicate of an ingested screenshot: %s", p["original_path"], extra=extra)
    else:
        log.warning("rejected %s: %s (%s)", p["original_path"], p["reason"], p["code"], extra=extra)
