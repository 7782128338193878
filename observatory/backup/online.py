"""Online backup of events/events.db while the daemon keeps appending.

SQLite's backup API copies a consistent snapshot page by page; the copy is then
switched out of WAL mode so a backup is one self-contained file, and its hash
chain is verified, and checked against the anchor, before it counts. Each backup
carries the head it was taken at (table `backup_heads`: sequence, hash, when), so
a backup file cut short later fails its own verification, and a backup moves the
anchor forward. Names carry the UTC time, so sorting them sorts by age and pruning
keeps the newest N.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from ..eventlog import EventStore, KeySource, LogKeyError, key_source
from ..eventlog.anchor import Anchor, advance_anchor
from ..eventlog.anchor import utc_now as anchor_time
from ..eventlog.integrity import check_log
from ..eventlog.store import BACKUP_HEADS, VerifyResult
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
    head_hash: str = ""


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


def verify_file(path: Path, key: KeySource) -> VerifyResult:
    """The hash-chain check of a log file (with the log's key); a file that is not an event log is a BackupError."""
    try:
        with EventStore(path, readonly=True, key=key) as store:
            return store.verify()
    except (sqlite3.DatabaseError, FileNotFoundError) as exc:
        raise BackupError(f"{path} is not a readable event log: {exc}") from None


def record_head(path: Path, seq: int, hash_: str, at: str) -> None:
    """Write the head this backup was taken at into the backup file itself."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {BACKUP_HEADS} (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, "
                     "backed_up_at TEXT NOT NULL)")
        conn.execute(f"INSERT OR IGNORE INTO {BACKUP_HEADS} VALUES (?, ?, ?)", (seq, hash_, at))
        conn.commit()


def backup_head(path: Path) -> tuple[int, str] | None:
    """The newest head a backup file carries (None: made before backups carried one)."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (BACKUP_HEADS,)).fetchone():
            return None
        row = conn.execute(f"SELECT seq, hash FROM {BACKUP_HEADS} ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), row[1]) if row else None


IN_POSTGRES = ("the event log is in PostgreSQL (OBSERVATORY_DATABASE_URL): back it up with the server's own tools "
               "(pg_dump), or copy it into a file with `observatory migrate-log --to sqlite:FILE`")


def backup_now(settings: Settings) -> BackupResult:
    """Back up the log into events/backups/, verify the copy, and keep the newest OBSERVATORY_BACKUP_KEEP."""
    if settings.database_url:
        raise BackupError(IN_POSTGRES)
    if not settings.events_db.exists():
        raise BackupError(f"no event log at {settings.events_db}: nothing to back up")
    folder = backups_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    final = _new_name(folder)
    tmp = final.with_name(final.name + ".tmp")
    key = key_source(settings)
    try:
        copy_database(settings.events_db, tmp)
        try:
            with EventStore(tmp, readonly=True, key=key) as copy:
                report = check_log(copy, settings.log_anchor_path, full=True, advance=False)
                keyed_from, key_id = copy.keyed_from(), copy.key_id()
        except (sqlite3.DatabaseError, LogKeyError) as exc:
            raise BackupError(f"the copy of {settings.events_db} cannot be checked: {exc}") from None
        if not report.chain_ok:
            raise BackupError(f"the copy's hash chain is broken at sequence {report.first_broken_seq}: "
                              f"{report.chain_problem} (the live log has the same problem: run `observatory verify`)")
        at = anchor_time()
        record_head(tmp, report.head_seq, report.head_hash, at)
        tmp.rename(final)
    finally:
        tmp.unlink(missing_ok=True)
    advance_anchor(settings.log_anchor_path, Anchor(report.head_seq, report.head_hash, keyed_from, key_id, at))
    pruned = prune(settings)
    size = final.stat().st_size
    log.info("backed up %d events to %s (%d bytes, head %d); %d old backup(s) pruned", report.head_seq, final, size,
             report.head_seq, len(pruned))
    return BackupResult(final, report.head_seq, size, pruned, report.head_hash)


def prune(settings: Settings) -> list[Path]:
    old = list_backups(settings)[: -settings.backup_keep]
    for p in old:
        p.unlink(missing_ok=True)
    return old
