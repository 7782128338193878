"""Which corrections are in force: pure functions over the corrections in log order."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..eventlog.models import Reclassify, Revert, correction_adapter


def correction_id(event_id: str) -> str:
    """The short id admins type: 12 hex digits of the event's UUID (`revert c3f0…`)."""
    return event_id.replace("-", "")[:12]


@dataclass(frozen=True, slots=True)
class Record:
    """One CorrectionApplied as the projections see it."""

    cid: str
    seq: int
    correction: Any  # a model from eventlog.models' Correction union
    actor: str = ""
    reason: str = ""
    recorded_at: str = ""

    @property
    def kind(self) -> str:
        return self.correction.kind


def record_from_payload(event_id: str, seq: int, payload: dict[str, Any], recorded_at: str = "") -> Record:
    return Record(correction_id(event_id), seq, correction_adapter.validate_python(payload["correction"]),
                  payload.get("actor", ""), payload.get("reason", ""), recorded_at)


# The columns of the projections' `corrections` table that make a Record, in `record_from_row`'s order.
RECORD_SELECT = "SELECT correction_id, seq, detail, actor, reason, recorded_at FROM corrections"


def record_from_row(row: Sequence[Any]) -> Record:
    """A Record from a row of RECORD_SELECT (the correction is kept there as its JSON)."""
    cid, seq, detail, actor, reason, recorded_at = row
    return Record(cid, seq, correction_adapter.validate_python(json.loads(detail)), actor or "", reason or "",
                  recorded_at or "")


def reverted_by(records: Sequence[Record]) -> dict[str, str]:
    """cid -> id of the revert that is in force against it.

    A revert is itself a correction and can be reverted; deciding from the newest
    backwards settles every chain in one pass (a revert only targets earlier ones).
    """
    undone: dict[str, str] = {}
    for r in sorted(records, key=lambda r: r.seq, reverse=True):
        if isinstance(r.correction, Revert) and r.cid not in undone:
            undone.setdefault(r.correction.correction_id, r.cid)
    return undone


def in_force(records: Iterable[Record]) -> list[Record]:
    """The corrections that count, in log order (reverts themselves excluded)."""
    records = sorted(records, key=lambda r: r.seq)
    undone = reverted_by(records)
    return [r for r in records if r.cid not in undone and not isinstance(r.correction, Revert)]


def forced_kinds(records: Iterable[Record]) -> dict[str, str | None]:
    """screenshot id -> the kind an admin forced (None: a reclassification was reverted, back to automatic).

    Only screenshots that ever had a reclassification appear.
    """
    records = list(records)
    out: dict[str, str | None] = {r.correction.screenshot_id: None for r in records if isinstance(r.correction, Reclassify)}
    for r in in_force(records):
        if isinstance(r.correction, Reclassify):
            out[r.correction.screenshot_id] = r.correction.new_kind
    return out
