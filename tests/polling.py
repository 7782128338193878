"""Waiting in tests without sleeping-and-hoping: poll with a deadline; free loopback ports; child processes."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


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


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def alive(pid: int) -> bool:
    """Running, not just an unreaped zombie."""
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return False
