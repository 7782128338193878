"""OCR claims with leases on the real SQLite log file: who reads which screenshot, and what happens when a worker dies."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings as hsettings, strategies as st

from observatory.eventlog import EventStore
from claim_races import claims_for, race
from observatory.eventlog.claims import Claim, SqliteClaims, leases_in_hand, open_claims


class Clock:
    """A clock the test moves by hand, so a lease expires when the test says (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_taken_request_is_nobody_elses_until_its_lease_expires(tmp_path: Path):
    clock = Clock()
    board = SqliteClaims(tmp_path / "events.db", lease_seconds=30, clock=clock)
    board.offer(claims_for(3))
    a = board.take("a", 2)
    b = board.take("b", 5)
    assert [c.sha256 for c in a] == [claims_for(3)[0].sha256, claims_for(3)[1].sha256]  # oldest first
    assert [c.sha256 for c in b] == [claims_for(3)[2].sha256]
    assert board.take("c", 5) == []
    clock.now += 31  # a died: it stops renewing, b renews
    assert board.renew("b", [b[0].key]) == {b[0].key}
    taken_over = board.take("c", 5)
    assert {c.key for c in taken_over} == {c.key for c in a}
    assert all(c.attempts == 2 for c in taken_over)
    assert board.renew("a", [a[0].key]) == set()  # a, back from the dead, has lost it


def test_finished_requests_are_never_taken_again_and_offers_are_idempotent(tmp_path: Path):
    clock = Clock()
    board = SqliteClaims(tmp_path / "events.db", lease_seconds=30, clock=clock)
    assert board.offer(claims_for(2)) == 2
    assert board.offer(claims_for(2)) == 0
    first = board.take("a", 1)[0]
    board.finish(first.key)
    clock.now += 3600
    board.offer(claims_for(2))
    assert [c.key for c in board.take("b", 5)] == [claims_for(2)[1].key]
    reprocess = Claim(first.sha256, first.blob_path, None, "reprocess-1")  # a new request for the same screenshot
    board.offer([reprocess])
    assert [c.key for c in board.take("b", 5)] == [reprocess.key]


def test_released_leases_are_taken_at_once(tmp_path: Path):
    board = SqliteClaims(tmp_path / "events.db", lease_seconds=3600)
    board.offer(claims_for(2))
    board.take("a", 2)
    assert board.release("a") == 2
    assert len(board.take("b", 2)) == 2


def test_claims_live_beside_the_chain_not_in_it(tmp_path: Path):
    with EventStore(tmp_path / "events.db") as store:
        head = store.head()
        with open_claims(store, lease_seconds=5) as board:
            board.offer(claims_for(4))
            board.take("a", 2)
        assert store.head() == head and store.count() == 0
        assert store.verify().ok


def test_racing_worker_processes_never_take_one_request_twice(tmp_path: Path):
    path = tmp_path / "events.db"
    board = SqliteClaims(path, lease_seconds=3600)
    board.offer(claims_for(200))
    keys = race(str(path), workers=3, batch=1, timeout=60)
    assert sorted(keys) == sorted(c.key for c in claims_for(200))


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["take", "finish", "release", "tick"]), st.sampled_from("abc"),
                          st.integers(0, 3)), max_size=30))
def test_at_any_moment_an_open_request_has_at_most_one_live_lease(tmp_path_factory, steps):
    clock = Clock()
    board = SqliteClaims(tmp_path_factory.mktemp("claims") / "events.db", lease_seconds=10, clock=clock)
    board.offer(claims_for(4))
    finished: set[str] = set()
    live: dict[str, tuple[str, float]] = {}  # key -> (worker, expiry) as the test saw it granted
    for op, worker, n in steps:
        if op == "take":
            for c in board.take(worker, n):
                assert c.key not in finished
                holder = live.get(c.key)
                assert holder is None or holder[1] < clock.now, f"{c.key} taken while {holder} still held it"
                live[c.key] = (worker, clock.now + 10)
        elif op == "finish" and live:
            key = sorted(live)[n % len(live)]
            board.finish(key)
            finished.add(key)
            live.pop(key)
        elif op == "release":
            board.release(worker)
            live = {k: v for k, v in live.items() if v[0] != worker}
        else:
            clock.now += 4 * n
    board.close()


def test_status_counts_the_screenshots_in_hand_and_the_expired_leases(tmp_path: Path):
    with EventStore(tmp_path / "events.db") as store:
        assert leases_in_hand(store) == {"in_hand": 0, "workers": 0, "expired": 0}  # no worker ever ran
        clock = Clock()
        with SqliteClaims(store.path, lease_seconds=30, clock=clock) as board:
            board.offer(claims_for(4))
            board.take("a", 2)
            clock.now += 20
            board.take("b", 1)
            board.finish(claims_for(4)[0].key)
        assert leases_in_hand(store, now=clock.now + 15) == {"in_hand": 2, "workers": 2, "expired": 1}
