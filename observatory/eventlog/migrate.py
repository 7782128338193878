"""Copying a log between backends (SQLite <-> PostgreSQL) row for row, so every hash stays as it was.

Rows are copied as stored (sequence, event id, payload text, hash), never re-appended:
a re-append would give new ids, times and hashes, and the anchor and the projections'
log id would no longer match. Both chains are verified before anything is written and
the target again afterwards. Re-running copies only what the target lacks, after
checking that the target's head is the source's row of that sequence (else they are
two different logs and nothing is copied).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .chain import GENESIS_HASH
from .store import EventStore

PAGE = 1000


class MigrationError(Exception):
    """The logs cannot be copied as asked; `str()` says why in one line."""


@dataclass(slots=True)
class Plan:
    source: str
    target: str
    source_head: int
    target_head: int
    meta: dict[str, str] = field(default_factory=dict)  # keying rows the target lacks
    target_exists: bool = True

    @property
    def events(self) -> int:
        return self.source_head - self.target_head

    def describe(self) -> str:
        what = (f"{self.events} events (sequences {self.target_head + 1}-{self.source_head})" if self.events
                else "no events (the target already has all of them)")
        meta = (" and the keying record (" + ", ".join(f"{k}={v}" for k, v in sorted(self.meta.items())) + ")"
                if self.meta else "")
        into = f"{self.target}, which has {self.target_head} events" if self.target_exists else f"a new log at {self.target}"
        return f"copy {what}{meta} from {self.source} ({self.source_head} events) into {into}"


def _checked(store: EventStore | None, side: str) -> tuple[int, str]:
    """(head seq, head hash) after a full walk of the chain; MigrationError when it is broken."""
    if store is None or not store._has_table("events"):
        return 0, GENESIS_HASH
    result = store.verify()
    if not result.ok:
        raise MigrationError(f"the {side} log {store.where} is broken at sequence {result.first_broken_seq}: "
                             f"{result.problem}; nothing copied")
    return result.head_seq, result.head_hash


def plan(source: EventStore | None, target: EventStore | None, *, source_name: str = "", target_name: str = "") -> Plan:
    """What a copy would do, after verifying both chains; MigrationError when the two are different logs.

    None stands for a log that does not exist yet (an empty source; a dry run's new target).
    """
    source_head, _ = _checked(source, "source")
    target_head, target_hash = _checked(target, "target")
    source_meta = source.all_meta() if source is not None else {}
    target_meta = target.all_meta() if target is not None else {}
    for name in sorted(set(source_meta) & set(target_meta)):
        if source_meta[name] != target_meta[name]:
            raise MigrationError(f"the target log has {name}={target_meta[name]}, the source {source_meta[name]}: "
                                 "they are different logs; nothing copied")
    if target_head > source_head:
        raise MigrationError(f"the target log has {target_head} events, more than the source's {source_head}: "
                             "it is another log (or newer); nothing copied")
    if target_head and (source is None or source.hash_at(target_head) != target_hash):
        raise MigrationError(f"the target's event {target_head} is not the source's: they are different logs; "
                             "nothing copied")
    return Plan(source.where if source is not None else source_name,
                target.where if target is not None else target_name, source_head, target_head,
                {k: v for k, v in source_meta.items() if k not in target_meta},
                target_exists=target is not None and target._has_table("events") and bool(target_head or target_meta))


def copy(source: EventStore | None, target: EventStore, todo: Plan,
         progress: Callable[[int], None] | None = None) -> int:
    """Carry out `todo`; returns events copied. The target is verified again, whole, at the end."""
    copied = 0
    if todo.meta:
        target.copy_in([], todo.meta)
    if source is not None and todo.events:
        for rows in source.raw_pages(todo.target_head, until=todo.source_head, page=PAGE):
            copied += target.copy_in(rows)
            if progress is not None:
                progress(len(rows))
    head, _ = _checked(target, "target")
    if head != todo.source_head or (source is not None and target.hash_at(head) != source.hash_at(head)):
        raise MigrationError(f"after the copy the target ends at {head}, not at the source's head {todo.source_head}")
    return copied
