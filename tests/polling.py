"""Waiting in tests without sleeping-and-hoping: poll with a deadline; free loopback ports."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def wait_for(
    predicate: Callable[[], object],
    timeout: float = 20.0,
    *,
    interval: float = 0.05,
    what: str | None = None,
    tolerate: tuple[type[BaseException], ...] = (),
) -> object:
    """Poll `predicate` until it returns something truthy, and return that.

    Exceptions listed in `tolerate` count as "not yet" (a server still starting).
    At the deadline fail with what was awaited and the last answer.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            last: object = predicate()
        except tolerate as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            name = what or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"condition not met within {timeout}s: {name} (last: {last!r})")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
