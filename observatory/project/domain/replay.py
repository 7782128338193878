"""One community's derivation straight from the log, for a full replay.

A settle reads a community's screenshots back from `screenshots`/`extracted_rows`
(load_shots): every extraction is decoded from the log, encoded into `extracted_rows`,
then read and decoded again. A replay has the log itself, fixed up to its `until`, so
it folds each community's screenshot events into the very `Shot`s load_shots would
build (the screenshots projector's rules: the first ingest makes the screenshot, later
results replace kind, status, meta and rows) and hands them to `derive`. It reads one
community at a time, through the log's stream index: its memory is that community's,
whatever the size of the log, and communities can be derived in other processes while
the facts are written (fanout.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ...correct.state import Record, record_from_payload
from ...eventlog import EventStore
from ..framework import paused_gc
from .state import derive
from .model import DomainConfig, Shot

Rows = dict[str, list[dict[str, Any]]]  # table -> rows, as derive returns them
SHOT_TYPES = ("ScreenshotIngested", "ScreenshotClassified", "ScoresExtracted", "ExtractionFailed")


def _real(value: Any) -> Any:
    """What a REAL column gives back for `value` (load_shots reads confidences from such columns)."""
    return float(value) if isinstance(value, int) else value


def fold_shots(community: str, pages: Iterable[Sequence[tuple[int, str, dict[str, Any]]]]) -> list[Shot]:
    """The screenshots first ingested into `community`, as load_shots reads them after these events (seq, type,
    payload), in ingest order.

    Events must come in log order within each screenshot (not across them; a screenshot's events may
    even come twice over, each time whole: every event sets what it sets, so the second pass ends
    where the first did); screenshots whose first ingest
    names another community, and results for a screenshot not ingested yet, are left out,
    as the screenshots projector leaves them.
    """
    shots: dict[str, Shot] = {}
    elsewhere: set[str] = set()
    for events in pages:
        for seq, type_, p in events:
            sha = p["sha256"]
            if type_ == "ScreenshotIngested":
                if sha not in shots and sha not in elsewhere:
                    if p["community"] == community:
                        shots[sha] = Shot(sha, community, seq or 0, p["captured_at"], "ingested")
                    else:
                        elsewhere.add(sha)
                continue
            s = shots.get(sha)
            if s is None:
                continue
            if type_ == "ScreenshotClassified":
                s.kind, s.confidence, s.status = p["kind"], _real(p["confidence"]), "classified"
            elif type_ == "ScoresExtracted":
                s.kind, s.status = p["kind"], "extracted"
                s.meta = p.get("meta") or {}
                s.requested_kind = p.get("requested_kind")
                rows = p.get("rows") or []
                conf = p.get("row_confidence") or []
                s.rows = list(rows)
                s.row_confidence = [_real(conf[i]) if i < len(conf) else None for i in range(len(rows))]
            else:  # ExtractionFailed: no rows stand
                s.status, s.meta, s.rows, s.row_confidence = "failed", {}, [], []
                s.requested_kind = p.get("requested_kind")
    return sorted(shots.values(), key=lambda s: s.ingest_seq)


def correction_records(store: EventStore, until: int) -> list[Record]:
    """Every correction up to `until`, in log order, as the domain projector's settle reads them."""
    return [record_from_payload(e.event_id, e.seq, e.payload, e.recorded_at) for e in store.corrections(until=until)]


def community_records(community: str, records: Sequence[Record], shas: set[str]) -> list[Record]:
    """The corrections bearing on `community` (`shas`: its screenshots), by the settle's rule (projector._Corrections):
    its own `community`, else its screenshot's; a revert belongs where what it reverts belongs."""
    mine: dict[str, bool] = {}
    for r in records:
        c = r.correction
        if c.kind == "revert":
            mine[r.cid] = mine.get(c.correction_id, False)
            continue
        named = getattr(c, "community", None)
        if named is not None:
            mine[r.cid] = named == community
        else:
            sid = getattr(c, "screenshot_id", None)
            mine[r.cid] = bool(sid) and sid in shas
    return [r for r in records if mine[r.cid]]


def record_communities(records: Sequence[Record]) -> set[str]:
    """The communities corrections name themselves (the others bear on a screenshot's community, or on none)."""
    return {c for r in records if r.correction.kind != "revert" and (c := getattr(r.correction, "community", None))}


def derive_from_log(store: EventStore, community: str, ingests: Sequence[int], until: int,
                    records: Sequence[Record], cfg: DomainConfig) -> Rows:
    """`community`'s domain rows as a settle after the log up to `until` derives them (`ingests`: the seqs of
    the ScreenshotIngested events naming it, EventStore.ingests_by_community)."""
    with paused_gc():  # 25% of the biggest community's derivation at 100,000 events, same peak RSS
        shots = fold_shots(community, store.streams_payloads(ingests, SHOT_TYPES, until=until))
        return derive(community, shots, community_records(community, records, {s.id for s in shots}), cfg)

