"""Online backup of events/events.db while the daemon keeps appending.

SQLite's backup API copies a consistent snapshot page by page; the copy is then
switched out of WAL mode so a backup is one self-contained file, and its hash
chain is verified before it counts. Names carry the UTC time, so sorting them
sorts by age and pruning keeps the newest N.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from ..eventlog import EventStore
from ..eventlog.store import VerifyResult
from ..health.files import utc_now
from ..settings import Settings

log = logging.getLogger(__name__)

NAME = re.compile(r"^events-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")


class BackupError(Exception):
    """A backup could not be made or is not sound; `str()` says why."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    events: int
    bytes: int
    pruned: list[Path]


def backups_dir(settings: Settings) -> Path:
    return settings.events_dir / "backups"  # type: ignore[operator]


def list_backups(settings: Settings) -> list[Path]:
    """Backups, oldest first."""
    folder = backups_dir(settings)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if NAME.match(p.name) and p.is_file()]

    def key(p: Path) -> tuple[str, int]:
        m = NAME.match(p.name)
        assert m is not None
        return m.group(1), int(m.group(2) or 0)

    return sorted(found, key=key)


def _new_name(folder: Path) -> Path:
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    path, n = folder / f"events-{stamp}.db", 1
    while path.exists() or path.with_name(path.name + ".tmp").exists():
        n += 1
        path = folder / f"events-{stamp}-{n}.db"
    return path


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file via the backup API, as a single file (no WAL)."""
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")


def verify_file(path: Path) -> VerifyResult:
    """The hash-chain check of a log file; a file that is not an event log is a BackupError."""
    try:
        with EventStore(path, readonly=True) as store:
            return store.verify()
    except (sqlite3.DatabaseError, FileNotFoundError) as exc:
        raise BackupError(f"{path} is not a readable event log: {exc}") from None


def backup_now(settings: Settings) -> BackupResult:
    """Back up the log into events/backups/, verify the copy, and keep the newest OBSERVATORY_BACKUP_KEEP."""
    if not settings.events_db.exists():
        raise BackupError(f"no event log at {settings.events_db}: nothing to back up")
    folder = backups_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    final = _new_name(folder)
    tmp = final.with_name(final.name + ".tmp")
    try:
        copy_database(settings.events_db, tmp)
        result = verify_file(tmp)
        if not result.ok:
            raise BackupError(f"the copy's hash chain is broken at sequence {result.first_broken_seq}: {result.problem} "
                              "(the live log has the same problem: run `observatory verify`)")
        tmp.rename(final)
    finally:
        tmp.unlink(missing_ok=True)
    pruned = prune(settings)
    size = final.stat().st_size
    log.info("backed up %d events to %s (%d bytes); %d old backup(s) pruned", result.checked, final, size, len(pruned))
    return BackupResult(final, result.checked, size, pruned)


def prune(settings: Settings) -> list[Path]:
    old = list_backups(settings)[: -settings.backup_keep]
    for p in old:
        p.unlink(missing_ok=True)
    return old
