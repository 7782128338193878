"""A process-wide limiter for OpenAI requests: at most `rate` starts per `period`, `concurrency` at once.

Every attempt, retries included, passes through `slot()`, so the bound holds for
everything in the process that talks to the API. The window is sliding (no more
than `rate` starts in ANY `period`), not a per-minute bucket that would allow
twice the rate across a boundary. `pause(seconds)` lets a 429's Retry-After hold
back every caller, not just the one that was told. Clock and sleep are injectable
so the schedule can be checked with a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    def __init__(self, rate: int, *, concurrency: int = 1, period: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if rate < 1 or concurrency < 1 or period <= 0:
            raise ValueError("rate and concurrency must be >= 1 and period > 0")
        self.rate, self.concurrency, self.period = rate, concurrency, period
        self._clock, self._sleep = clock, sleep
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._not_before = float("-inf")

    def wait_needed(self, now: float) -> float:
        """Seconds until a request may start at `now` (0 when it may start now). Pure given the state."""
        while self._starts and self._starts[0] + self.period <= now:  # same arithmetic as the wait below
            self._starts.popleft()
        wait = self._not_before - now
        if len(self._starts) >= self.rate:
            wait = max(wait, self._starts[0] + self.period - now)
        return max(0.0, wait)

    def acquire(self) -> float:
        """Block until a request may start, then record its start; returns the start time."""
        self._slots.acquire()
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    wait = self.wait_needed(now)
                    if wait <= 0:
                        self._starts.append(now)
                        return now
                self._sleep(wait)
        except BaseException:
            self._slots.release()
            raise

    def release(self) -> None:
        self._slots.release()

    @contextmanager
    def slot(self) -> Iterator[float]:
        """One request: a concurrency slot for its whole duration and a start within the rate."""
        start = self.acquire()
        try:
            yield start
        finally:
            self.release()

    def pause(self, seconds: float) -> None:
        """Start nothing for `seconds` (the server asked us to back off)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)
