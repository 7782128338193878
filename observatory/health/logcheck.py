"""The event log's integrity as `status` reports it: checked incrementally from the anchor.

Cheap enough to run on every `status` (and so every supervisor poll): only the rows
after the last verified head are hashed, and the anchor then moves to the new head.
The full walk stays with `observatory verify` and the nightly job.
"""

from __future__ import annotations

from typing import Any

from ..eventlog import log_exists, open_log
from ..eventlog.integrity import check_log
from ..settings import Settings


def log_integrity(settings: Settings) -> dict[str, Any]:
    """{ok, events, anchored_seq, checked, first_broken_seq, missing_triggers, problems}; events None without a log."""
    if not log_exists(settings):
        return {"ok": True, "events": None, "anchored_seq": None, "checked": 0, "first_broken_seq": None,
                "missing_triggers": [], "problems": []}
    with open_log(settings, readonly=True) as store:
        head_seq, _ = store.head()
        report = check_log(store, settings.log_anchor_path, full=False)
    anchored = report.anchored_now or report.anchor
    return {
        "ok": report.ok,
        "events": head_seq,
        "anchored_seq": anchored.seq if anchored is not None else None,
        "checked": report.checked,
        "first_broken_seq": report.first_broken_seq,
        "missing_triggers": report.missing_triggers,
        "problems": report.problems,
    }
