"""Is the log whole? The chain, its guards and its anchor, checked together.

`check_log` is what `verify`, `status`, the nightly job, backups, `replay` and
`watch`/`run` ask. `full=True` walks every row; otherwise the walk starts at the
anchor (the last verified head), so `status` stays fast on a big log: it proves the
anchored row still carries its hash and every later row chains from it, but an
in-place edit before the anchor is left to the full walk (verify, the nightly job).
A clean check moves the anchor to the head it verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .anchor import Anchor, AnchorError, advance_anchor, read_anchor, utc_now
from .store import EventStore, VerifyResult


@dataclass(slots=True)
class IntegrityReport:
    full: bool
    checked: int = 0
    head_seq: int = 0
    head_hash: str = ""
    first_broken_seq: int | None = None  # the first sequence that cannot be trusted (chain or anchor)
    chain_problem: str | None = None
    missing_triggers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each, chain first
    anchor: Anchor | None = None  # as found before the check
    anchored_now: Anchor | None = None  # written by this check
    keyed_from: int | None = None
    intact_before: int | None = None  # how many rows the walk proved sound before the first broken one

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def chain_ok(self) -> bool:
        """Rows and anchor hold (missing triggers alone leave the chain intact)."""
        return self.first_broken_seq is None and self.chain_problem is None

    def headline(self) -> str:
        if self.ok:
            return f"hash chain intact ({self.head_seq} events)"
        return "; ".join(self.problems)


def _broken(report: IntegrityReport, seq: int, problem: str) -> None:
    report.first_broken_seq = seq if report.first_broken_seq is None else min(seq, report.first_broken_seq)
    report.chain_problem = report.chain_problem or problem
    report.problems.append(f"hash chain broken at sequence {seq}: {problem}")


def trigger_problem(missing: list[str]) -> str:
    return (f"append-only triggers missing: {', '.join(missing)} (UPDATE/DELETE on the log are no longer refused; "
            "`observatory repair-triggers` re-creates them)")


def check_log(store: EventStore, anchor_path: Path, *, full: bool, advance: bool = True) -> IntegrityReport:
    report = IntegrityReport(full=full, keyed_from=store.keyed_from())
    report.missing_triggers = store.missing_triggers()
    try:
        report.anchor = anchor = read_anchor(anchor_path)
    except AnchorError as exc:
        report.problems.append(str(exc))
        anchor = None
    head_seq, _ = store.head()

    if anchor is not None and anchor.seq > head_seq:
        _broken(report, head_seq + 1, f"the log ends before the anchored head (sequence {anchor.seq}): "
                                      f"it has {head_seq} events")
    elif anchor is not None and store.hash_at(anchor.seq) != anchor.hash:
        _broken(report, anchor.seq, f"the anchored head (sequence {anchor.seq}) no longer has its anchored hash: "
                                    "the log was rewritten")
    if anchor is not None and anchor.keyed_from is not None and report.keyed_from != anchor.keyed_from:
        _broken(report, min(anchor.keyed_from, report.keyed_from or anchor.keyed_from),
                f"the log says it is keyed from sequence {report.keyed_from}, the anchor says {anchor.keyed_from}")
    elif anchor is not None and report.keyed_from is not None and anchor.keyed_from is None \
            and report.keyed_from <= anchor.seq:
        _broken(report, report.keyed_from, f"keying cannot start at sequence {report.keyed_from}, "
                                           f"before the anchored head {anchor.seq}")

    source = store.key_source
    if report.keyed_from is None and not source.secret and source.file is not None and source.file.exists() \
            and store.head()[0] > 0:
        # The key file is only ever made by a store that keys the log in the same breath.
        _broken(report, 1, f"the log has no record of its keying, yet its key file {source.file} exists: "
                           "the record was removed (or another log was put in its place)")

    result: VerifyResult | None = None
    anchor_ok = report.chain_ok
    if full or anchor_ok:  # a full check walks every row even past a failed anchor: the first bad row may be earlier
        start = None if full or anchor is None else (anchor.seq, anchor.hash)
        result = store.verify(start=start)
        report.checked = result.checked
        if not result.ok:
            _broken(report, result.first_broken_seq or 0, result.problem or "broken")
            if full and report.first_broken_seq == result.first_broken_seq:
                report.chain_problem = result.problem  # name the row's own problem first
                report.intact_before = result.checked
        else:
            report.head_seq, report.head_hash = result.head_seq, result.head_hash
            if full and report.first_broken_seq == result.head_seq + 1:  # cut short: every row it has is sound
                report.intact_before = result.head_seq
    if report.missing_triggers:
        report.problems.append(trigger_problem(report.missing_triggers))
    unreadable_anchor = any(p.startswith("the anchor file") for p in report.problems)
    if report.chain_ok and advance and result is not None and result.ok and not unreadable_anchor:
        fresh = Anchor(report.head_seq, report.head_hash, report.keyed_from, store.key_id(), utc_now())
        if anchor is None or fresh.seq > anchor.seq:
            report.anchored_now = advance_anchor(anchor_path, fresh)
    return report


def broken_chain_line(report: IntegrityReport) -> str | None:
    """One line for commands that refuse to build projections from a broken chain (None: the chain holds)."""
    if report.chain_ok and not any(p.startswith("the anchor file") for p in report.problems):
        return None
    if report.first_broken_seq is None:
        return f"the event log cannot be trusted: {report.problems[0]}"
    return f"the event log's hash chain is broken at sequence {report.first_broken_seq}: {report.chain_problem}"
