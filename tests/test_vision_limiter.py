"""The OpenAI rate limiter and retry schedule, on a fake clock: exact schedules, no waiting."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory.extract.vision.ratelimit import RateLimiter
from observatory.extract.vision.retry import Backoff, GaveUp, call_with_retries, retry_after_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the limiter must not spin on zero sleeps"
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(rate: int, period: float = 60.0, concurrency: int = 1) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(rate, concurrency=concurrency, period=period, clock=clock, sleep=clock.sleep), clock


@settings(max_examples=200, deadline=None)
@given(rate=st.integers(1, 6), period=st.sampled_from([1.0, 60.0]),
       gaps=st.lists(st.floats(0, 90, allow_nan=False), min_size=1, max_size=40))
def test_no_window_of_one_period_holds_more_than_rate_starts_and_none_waits_longer_than_needed(rate, period, gaps):
    lim, clock = limiter(rate, period)
    starts: list[float] = []
    for gap in gaps:
        arrival = clock.now + gap * period / 60
        clock.now = arrival  # the next caller turns up
        with lim.slot() as start:
            starts.append(start)
        # the schedule the sliding window allows: now, or when the rate-th previous start leaves the window
        earliest = max(arrival, starts[-rate - 1] + period) if len(starts) > rate else arrival
        assert start == pytest.approx(earliest)
    assert starts == sorted(starts)
    for i in range(len(starts) - rate):
        assert starts[i + rate] - starts[i] >= period - 1e-9


@settings(max_examples=100, deadline=None)
@given(rate=st.integers(1, 5), pause=st.floats(0.01, 120, allow_nan=False), burst=st.integers(1, 8))
def test_a_pause_holds_back_every_later_start(rate, pause, burst):
    lim, clock = limiter(rate, period=1.0)
    lim.pause(pause)
    starts = []
    for _ in range(burst):
        with lim.slot() as start:
            starts.append(start)
    assert starts[0] == pytest.approx(pause)
    assert all(s >= pause for s in starts)


def test_concurrency_slots_are_held_for_the_whole_request():
    lim = RateLimiter(1000, concurrency=2, period=1.0)
    inside, peak, lock = 0, 0, threading.Lock()
    release = threading.Event()

    def request() -> None:
        nonlocal inside, peak
        with lim.slot():
            with lock:
                inside += 1
                peak = max(peak, inside)
            release.wait(0.05)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak == 2


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(1, concurrency=0)


@given(failures=st.integers(1, 12), seed=st.integers(0, 2**32))
def test_backoff_grows_exponentially_with_jitter_and_is_capped(failures, seed):
    b = Backoff(base=1.0, cap=30.0)
    step = min(30.0, 2 ** (failures - 1))
    d = b.delay(failures, random.Random(seed))
    assert step / 2 <= d <= step


def test_retry_after_forms():
    assert retry_after_seconds({"Retry-After": "7"}) == 7
    assert retry_after_seconds({"retry-after": "0.25"}) == 0.25
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    now = datetime(2025, 11, 12, 17, 0, tzinfo=timezone.utc)
    assert retry_after_seconds({"Retry-After": format_datetime(now + timedelta(seconds=30), usegmt=True)}, now) == 30
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


class Flaky(Exception):
    def __init__(self, after: float | None = None) -> None:
        super().__init__("flaky")
        self.after = after


def run(results: list[object], retries: int = 4, backoff: Backoff = Backoff(base=1.0)):
    lim, clock = limiter(100, period=60.0)
    calls: list[float] = []

    def call() -> object:
        calls.append(clock.now)
        r = results.pop(0)
        if isinstance(r, BaseException):
            raise r
        return r

    out = call_with_retries(call, limiter=lim, retries=retries, transient=lambda e: isinstance(e, Flaky),
                            retry_after=lambda e: getattr(e, "after", None), backoff=backoff, sleep=clock.sleep,
                            rng=random.Random(1))
    return out, calls


def test_retry_after_is_waited_before_the_next_attempt():
    (value, attempts), calls = run([Flaky(after=20), Flaky(after=5), "ok"], backoff=Backoff(base=0.1))
    assert (value, attempts) == ("ok", 3)
    assert calls[1] - calls[0] >= 20 and calls[2] - calls[1] >= 5


def test_transient_errors_are_retried_then_given_up():
    with pytest.raises(GaveUp) as exc:
        run([Flaky()] * 4, retries=3)
    assert exc.value.attempts == 4 and "still failing" in str(exc.value)


def test_permanent_errors_and_huge_retry_after_are_not_retried():
    with pytest.raises(GaveUp) as exc:
        run([ValueError("bad request"), "ok"])
    assert exc.value.attempts == 1 and isinstance(exc.value.cause, ValueError)
    with pytest.raises(GaveUp) as exc:
        run([Flaky(after=3600), "ok"])
    assert exc.value.attempts == 1 and "3600" in str(exc.value)
