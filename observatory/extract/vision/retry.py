"""Retries of one API call: exponential backoff with jitter, the server's Retry-After honoured.

The openai client's own retries are switched off (max_retries=0) so that these are
the only ones, and every attempt goes through the rate limiter. A Retry-After also
pauses the limiter, so every caller in the process backs off, not just this one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

from .ratelimit import RateLimiter

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float = 1.0  # seconds before the first retry (before jitter)
    cap: float = 30.0  # longest backoff between attempts
    max_retry_after: float = 120.0  # a server asking for a longer pause is not waited for: fall back instead

    def delay(self, failures: int, rng: random.Random) -> float:
        """Equal jitter: half the exponential step is fixed, half random, so retries spread out but never hammer."""
        step = min(self.cap, self.base * 2 ** max(0, failures - 1))
        return step / 2 + rng.uniform(0, step / 2)


def retry_after_seconds(headers: Mapping[str, str] | None, now: datetime | None = None) -> float | None:
    """The pause a response asks for: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        if "retry-after-ms" in lower:
            return max(0.0, float(lower["retry-after-ms"]) / 1000)
        value = lower.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


class GaveUp(Exception):
    """The call failed for good: a permanent error, retries used up, or too long a Retry-After."""

    def __init__(self, cause: BaseException, attempts: int, why: str) -> None:
        super().__init__(f"{why} after {attempts} attempt(s): {cause}")
        self.cause, self.attempts, self.why = cause, attempts, why


def call_with_retries(
    call: Callable[[], T],
    *,
    limiter: RateLimiter,
    retries: int,
    transient: Callable[[BaseException], bool],
    retry_after: Callable[[BaseException], float | None],
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> tuple[T, int]:
    """Run `call` inside a limiter slot until it succeeds; returns its result and the attempts made."""
    rng = rng or random.Random()
    attempts = 0
    while True:
        attempts += 1
        try:
            with limiter.slot():
                return call(), attempts
        except Exception as exc:  # noqa: BLE001 - sorted into transient and permanent below
            if not transient(exc):
                raise GaveUp(exc, attempts, "permanent error") from exc
            if attempts > retries:
                raise GaveUp(exc, attempts, "still failing") from exc
            pause = retry_after(exc)
            if pause is not None and pause > backoff.max_retry_after:
                raise GaveUp(exc, attempts, f"server asked to wait {pause:.0f}s") from exc
            if pause is not None:
                limiter.pause(pause)  # the next slot for anyone opens only after the pause
            delay = backoff.delay(attempts, rng)
            if on_retry is not None:
                on_retry(attempts, exc, max(delay, pause or 0.0))
            sleep(delay)
