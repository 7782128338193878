"""Restoring the event log from a backup.

Refused while a daemon is running (its health file names a live pid), because the
daemon holds the log open and would keep appending to the file being replaced.
The backup's hash chain is verified first (with the log's key, and against the head
the backup recorded when it was taken); the current log is kept beside it as a
`.before-restore` copy. The anchor is then reset to the restored head: restoring
is the one deliberate way to move it back.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ..eventlog import LogKeyError, key_source, open_log
from ..eventlog.anchor import Anchor, reset_anchor
from ..eventlog.anchor import utc_now as anchor_time
from ..health.files import utc_now
from ..health.healthfile import running_daemon
from ..settings import Settings
from .online import IN_POSTGRES, BackupError, copy_database, verify_file

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RestoreResult:
    events: int
    previous_copy: Path | None


def resolve_backup(settings: Settings, given: Path) -> Path:
    """A path as given, or a bare name looked up in events/backups/."""
    from .online import backups_dir

    if given.exists():
        return given
    candidate = backups_dir(settings) / given.name
    if candidate.exists():
        return candidate
    raise BackupError(f"no such backup: {given} (see `ls {backups_dir(settings)}`)")


def restore(settings: Settings, backup: Path) -> RestoreResult:
    """Replace the log with `backup`; the caller rebuilds the projections (`observatory replay`)."""
    pid = running_daemon(settings)
    if pid is not None:
        raise BackupError(f"an Observatory daemon is running (pid {pid}); stop it first (Ctrl-C or SIGTERM)")
    if settings.database_url:
        raise BackupError(IN_POSTGRES)
    checked = verify_file(backup, key_source(settings))
    if not checked.ok:
        raise BackupError(f"refusing {backup}: its hash chain is broken at sequence {checked.first_broken_seq} "
                          f"({checked.problem})")
    db = settings.events_db
    db.parent.mkdir(parents=True, exist_ok=True)
    previous: Path | None = None
    if db.exists():
        previous = db.with_name(f"{db.name}.{utc_now().strftime('%Y%m%dT%H%M%SZ')}.before-restore")
        copy_database(db, previous)
    incoming = db.with_name(f".{db.name}.restoring")
    try:
        copy_database(backup, incoming)
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.replace(incoming, db)
    finally:
        incoming.unlink(missing_ok=True)
    try:
        with open_log(settings) as store:  # back in WAL mode, as the daemon expects
            result = store.verify()
            if not result.ok:  # cannot happen after the check above unless the disk lies
                raise BackupError(f"restored log fails verification at sequence {result.first_broken_seq}")
            reset_anchor(settings.log_anchor_path,
                         Anchor(result.head_seq, result.head_hash, store.keyed_from(), store.key_id(), anchor_time()))
    except LogKeyError as exc:
        raise BackupError(str(exc)) from None
    log.info("restored %d events from %s (previous log kept as %s); anchor reset to sequence %d",
             result.checked, backup, previous, result.head_seq)
    return RestoreResult(result.checked, previous)

