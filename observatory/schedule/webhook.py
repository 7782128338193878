"""Posting an alert to a Discord-compatible webhook, with retries and short timeouts.

Only transient failures are retried (connection errors, 429, 5xx); a 4xx means the
URL or payload is wrong and retrying will not help. The URL is a secret: it is
never logged, only the host-free outcome is.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

MAX_CONTENT = 2000  # Discord's limit for `content`


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    attempts: int
    detail: str  # "HTTP 204", "HTTP 500", "timed out", ...


def post_alert(
    url: str,
    content: str,
    *,
    attempts: int = 4,
    timeout: float = 5.0,
    backoff: float = 1.0,
    stop: threading.Event | None = None,
) -> Delivery:
    """POST {"content": ...}; wait backoff, 2*backoff, ... between attempts (cut short by `stop`)."""
    body = json.dumps({"content": content[:MAX_CONTENT]}).encode("utf-8")
    detail = "not sent"
    for attempt in range(1, attempts + 1):
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "observatory"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Delivery(True, attempt, f"HTTP {resp.status}")
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code}"
            if exc.code != 429 and exc.code < 500:
                return Delivery(False, attempt, detail)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            detail = type(reason).__name__ if not isinstance(reason, str) else reason
        if attempt < attempts and (stop or threading.Event()).wait(backoff * 2 ** (attempt - 1)):
            return Delivery(False, attempt, detail + " (shutting down)")
    return Delivery(False, attempts, detail)
