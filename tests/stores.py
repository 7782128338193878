"""Real files for tests: append to a real log, project it, read the SQLite back, run the real CLI.

Events come from `builders`; this module only does the I/O around them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from builders import ingested, sample_events
from observatory.cli import cli
from observatory.eventlog import EventStore, Pending, ScreenshotIngested
from observatory.ingest.blobs import BlobStore
from observatory.process.pipeline import project_now
from observatory.project import all_projectors
from observatory.project.rebuild import rebuild
from observatory.settings import Settings


def run(*args: str) -> Result:
    """`observatory <args>` through the real CLI, in this process."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def q(home: Path, sql: str, *params: Any) -> list[tuple]:
    """Rows of a query on the home's projections."""
    conn = sqlite3.connect(home / "projections" / "observatory.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def event_count(home: Path) -> int:
    """How many events the home's log holds (its last seq)."""
    store = EventStore(home / "events" / "events.db")
    try:
        return store.last_seq()
    finally:
        store.close()


def dump(path: Path) -> dict[str, list]:
    """Every table of a SQLite file, rows sorted: two projections compare equal when they hold the same facts
    (the domain projector's tokens are which process settled a community last, no fact)."""
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                  if t != "_domain_tokens"]
        return {t: sorted(conn.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def build(tmp_path: Path, events: list[list[Pending]], **kw: Any) -> sqlite3.Connection:
    """Append each batch to a fresh log in `tmp_path`, rebuild every projection from it, open the result."""
    store = EventStore(tmp_path / "events.db")
    for batch in events:
        store.append(batch)
    rebuild(store, tmp_path / "p.db", all_projectors(), **kw)
    store.close()
    conn = sqlite3.connect(tmp_path / "p.db")
    conn.row_factory = sqlite3.Row
    return conn


def append_events(settings: Settings, events: list[Pending]) -> list[str]:
    """Append to the real log and run the real projectors; returns the ids of the screenshots ingested."""
    with EventStore(settings.events_db) as store:
        store.append(events)
        project_now(settings, store)
    return [e.event.sha256 for e in events if isinstance(e.event, ScreenshotIngested)]


def build_projection(settings: Settings, images: list[Path], community: str = "HEI", **kw: Any) -> list[str]:
    """The samples' events in the real log (their labels standing in for OCR), projected; returns the screenshot ids.

    That gives every table realistic rows in a second, instead of seconds of OCR per image.
    """
    blobs = BlobStore(settings.blobs_dir, settings.events_dir)
    return append_events(settings, [e for image in images for e in sample_events(image, blobs, community, **kw)])


def ingest_bytes(store: EventStore, events_dir: Path, data: bytes, name: str) -> str:
    """Put `data` in the blob store and append its ingest, as ingest would for `HEI/<name>`; returns its id."""
    sha = hashlib.sha256(data).hexdigest()
    blob = BlobStore(events_dir / "blobs", events_dir).put(sha, "jpg", data)
    store.append([ingested(sha, "HEI", name=name, byte_size=len(data), width=1, height=1, blob=blob,
                           captured_at_source="unknown")])
    return sha


def tamper(db_path: Path, sql: str) -> None:
    """Change the log behind the store's back, as an attacker with the file would: drop the guard trigger, run raw SQL."""
    trigger = "events_no_delete" if sql.lstrip().upper().startswith("DELETE") else "events_no_update"
    raw = sqlite3.connect(db_path)
    try:
        raw.execute(f"DROP TRIGGER {trigger}")
        raw.execute(sql)
        raw.commit()
    finally:
        raw.close()
