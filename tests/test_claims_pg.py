"""OCR claims on a real PostgreSQL (the `pg_url` fixture's server): SKIP LOCKED, leases on the server's clock, roles."""

from __future__ import annotations

import threading

import psycopg
import pytest

from claim_races import claims_for, race
from observatory.eventlog.claims import Claim, PostgresClaims, open_claims
from observatory.eventlog import EventStore, KeySource
from pg_server import APPENDER, OWNER
from polling import wait_for
from stores import run

pytestmark = pytest.mark.slow  # a real server per session: seconds
KEY = KeySource(secret="k" * 32)


def test_a_taken_request_passes_on_only_when_its_lease_expires(pg_url):
    with PostgresClaims(pg_url, lease_seconds=1.5) as board:
        assert board.offer(claims_for(3)) == 3
        assert board.offer(claims_for(3)) == 0
        a = board.take("a", 2)
        assert [c.sha256 for c in a] == [c.sha256 for c in claims_for(2)]  # oldest first
        b = board.take("b", 5)
        assert [c.sha256 for c in b] == [claims_for(3)[2].sha256]
        assert board.take("c", 5) == []
        board.finish(b[0].key)
        taken = wait_for(lambda: board.take("c", 5), 20, interval=0.1, what="a's leases to expire")
        assert {c.key for c in taken} == {c.key for c in a} and all(c.attempts == 2 for c in taken)
        assert board.renew("a", [a[0].key]) == set()
        assert board.renew("c", [a[0].key]) == {a[0].key}
        assert board.release("c") == 2
        assert len(board.take("d", 5)) == 2  # released: at once, no expiry to wait for


def test_a_worker_skips_rows_another_is_taking_instead_of_waiting(pg_url):
    with PostgresClaims(pg_url, lease_seconds=60) as board:
        board.offer(claims_for(2))
        with psycopg.connect(pg_url) as other:  # a worker in the middle of its take: row 1 locked, not committed
            locked = other.execute("SELECT request_key FROM ocr_claims ORDER BY id LIMIT 1 FOR UPDATE").fetchone()[0]
            got: list[list[Claim]] = []
            t = threading.Thread(target=lambda: got.append(board.take("b", 2)))
            t.start()
            t.join(10)
            assert not t.is_alive(), "take waited for the other worker's lock instead of skipping the row"
            assert [c.key for c in got[0]] == [claims_for(2)[1].key] and locked == claims_for(2)[0].key
            other.rollback()
        assert [c.key for c in board.take("c", 2)] == [claims_for(2)[0].key]


def test_racing_worker_processes_never_take_one_request_twice(pg_url):
    with PostgresClaims(pg_url) as board:
        board.offer(claims_for(300))
    keys = race(pg_url, workers=3, batch=3, timeout=120)
    assert sorted(keys) == sorted(c.key for c in claims_for(300))


def test_the_appending_role_may_update_claims_but_not_delete_them_nor_create_the_table(pg_server, home, monkeypatch):
    db = pg_server.new_database()
    owner_url, app_url = pg_server.url(OWNER, db), pg_server.url(APPENDER, db)
    with pytest.raises(PermissionError, match="ocr_claims does not exist"):
        PostgresClaims(app_url)
    monkeypatch.setenv("OBSERVATORY_LOG_KEY", "k" * 32)
    r = run("migrate-log", "--to", owner_url, "--app-role", APPENDER)  # the owner sets the shared log up
    assert r.exit_code == 0, r.output
    app = EventStore(app_url, key=KEY)
    with open_claims(app, lease_seconds=60) as board:
        board.offer(claims_for(1))
        (claim,) = board.take("w", 1)
        assert board.renew("w", [claim.key]) == {claim.key}
        board.finish(claim.key)
        for sql in ("DELETE FROM ocr_claims", "TRUNCATE ocr_claims", "DROP TABLE ocr_claims"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                board.conn.execute(sql)
    app.close()
