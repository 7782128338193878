"""The log's two tables, declared once for every backend: a log copied from one to the other keeps the same
columns, and so the same hashes."""

from __future__ import annotations


def events_table(seq_type: str) -> str:
    """`seq_type`: SQLite's INTEGER (the rowid itself), PostgreSQL's BIGINT."""
    return f"""
CREATE TABLE IF NOT EXISTS events (
    seq             {seq_type} PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    stream_id       TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    occurred_at     TEXT    NOT NULL,
    recorded_at     TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    idempotency_key TEXT    UNIQUE,
    hash            TEXT    NOT NULL,
    UNIQUE (stream_id, stream_version)
)
"""


EVENTS_INDEX = "CREATE INDEX IF NOT EXISTS events_type ON events (type, seq)"
META_TABLE = "CREATE TABLE IF NOT EXISTS log_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
