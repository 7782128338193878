"""Extraction work asked for by admins: a screenshot reclassified as another kind.

A `reclassify` correction in force means the newest result must have been extracted
with that kind forced; when the reclassification is reverted, the newest result must be
an automatic one again. Anything else is work for the processor, found from the log
alone, so it survives restarts like every other pending job.
"""

from __future__ import annotations

from ..correct.state import Record, forced_kinds, record_from_payload
from ..eventlog import EventStore


def _records(store: EventStore) -> list[Record]:
    """The reclassifications and reverts in the log: all that decides a forced kind.

    A running daemon asks every few seconds, so the other corrections are not even decoded.
    """
    return [record_from_payload(e.event_id, e.seq, e.payload) for e in store.corrections(("reclassify", "revert"))]


def forced_kinds_in(store: EventStore) -> dict[str, str | None]:
    return forced_kinds(_records(store))


def reclassify_jobs(store: EventStore, job_type: type) -> list:  # type: ignore[type-arg]
    """Jobs re-extracting screenshots whose newest result does not honour the kind an admin forced."""
    records = _records(store)
    wanted = forced_kinds(records)
    if not wanted:
        return []
    jobs = []
    for sha, kind in sorted(wanted.items()):
        stream = f"screenshot-{sha}"
        result = store.latest(("ScoresExtracted", "ExtractionFailed"), stream_id=stream)
        ingested = store.earliest(("ScreenshotIngested",), stream_id=stream)
        if result is None or ingested is None or result.event.requested_kind == kind:  # type: ignore[attr-defined]
            continue
        blob = ingested.event.blob_path  # type: ignore[attr-defined]
        jobs.append(job_type(sha, blob, kind, f"kind-{kind or 'auto'}-{_newest(records, sha)}"))
    return jobs


def _newest(records, sha: str) -> str:  # type: ignore[no-untyped-def]
    """The newest correction bearing on `sha`'s kind (a reclassify, or a revert anywhere in its chain).

    It names the job's request, so each change of mind is extracted exactly once.
    """
    chain = {r.cid for r in records if r.kind == "reclassify" and r.correction.screenshot_id == sha}
    newest = ""
    for r in sorted(records, key=lambda r: r.seq):
        if r.cid in chain or (r.kind == "revert" and r.correction.correction_id in chain):
            chain.add(r.cid)
            newest = r.cid
    return newest
