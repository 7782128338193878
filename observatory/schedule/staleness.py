"""The staleness alert: nothing ingested for OBSERVATORY_STALE_AFTER.

A stale period is identified by the time of the last ingest; the alert goes out
once per period (the period is remembered in the job's outcome state, so a restart
does not repeat it) and a new ingest starts a new period.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from ..health.facts import last_ingest
from ..health.files import iso, utc_now
from ..settings import Settings
from ..health.outcomes import JobResult
from ..durations import format_duration
from .webhook import post_alert

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Staleness:
    stale: bool
    alert: bool  # stale, and this period was not alerted yet
    age_seconds: float
    period: str  # identifies the stale period: the reference time


def assess(now: datetime, reference: datetime, stale_after: float, alerted_for: str | None) -> Staleness:
    """Pure decision: is ingest stale, and is an alert due for this period."""
    age = (now - reference).total_seconds()
    period = iso(reference) or ""
    stale = age >= stale_after
    return Staleness(stale, stale and alerted_for != period, age, period)


def alert_text(settings: Settings, age: float, last: datetime | None) -> str:
    since = f"since {iso(last)}" if last is not None else "since the daemon started (nothing ingested yet)"
    return (f"Observatory: nothing ingested for {format_duration(age)} ({since}; "
            f"OBSERVATORY_STALE_AFTER={format_duration(settings.stale_after)}). Is the screenshot sync still running? "
            f"Inbox: {settings.watch_dir}")


class StaleCheck:
    """The job: `started_at` is the reference while the log holds no ingest at all."""

    def __init__(self, settings: Settings, *, started_at: datetime | None = None, stop: threading.Event | None = None,
                 retry_backoff: float = 1.0) -> None:
        self.settings = settings
        self.started_at = started_at or utc_now()
        self.stop = stop
        self.retry_backoff = retry_backoff

    def __call__(self, previous_state: dict) -> JobResult:
        last = last_ingest(self.settings)
        reference = last or self.started_at
        s = assess(utc_now(), reference, self.settings.stale_after, previous_state.get("alerted_for"))
        if not s.stale:
            what = f"last ingest {format_duration(s.age_seconds)} ago" if last else "nothing ingested yet"
            return JobResult(True, f"fresh: {what}", {"alerted_for": previous_state.get("alerted_for")})
        text = alert_text(self.settings, s.age_seconds, last)
        if not s.alert:
            return JobResult(True, f"stale for {format_duration(s.age_seconds)} (already alerted)",
                             {"alerted_for": s.period})
        log.warning("%s", text)
        url = self.settings.alert_webhook_url
        if url is None:
            return JobResult(True, f"stale for {format_duration(s.age_seconds)}: warning logged (no webhook set)",
                             {"alerted_for": s.period})
        d = post_alert(url.get_secret_value(), text, stop=self.stop, backoff=self.retry_backoff)
        if d.ok:
            log.info("staleness alert delivered to the webhook (%s after %d attempt(s))", d.detail, d.attempts)
            return JobResult(True, f"stale for {format_duration(s.age_seconds)}: alert delivered ({d.detail}, "
                                   f"{d.attempts} attempt(s))", {"alerted_for": s.period})
        log.error("staleness alert could not be delivered to the webhook: %s after %d attempt(s)", d.detail, d.attempts)
        # Not marked as alerted: the next check tries again.
        return JobResult(False, f"stale for {format_duration(s.age_seconds)}: webhook failed ({d.detail}, "
                                f"{d.attempts} attempt(s))", {"alerted_for": previous_state.get("alerted_for")})
