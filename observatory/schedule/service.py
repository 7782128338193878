"""The scheduler inside `observatory run`: APScheduler's BackgroundScheduler with the jobs from settings.

Each run is wrapped so its outcome lands in projections/jobs.json (readable by
`observatory status` in another process) and an exception is logged, never
fatal. One more job keeps projections/health.json fresh. `stop()` waits for a
running job (a backup in progress finishes) and marks the health file stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timezone

from ..health.files import utc_now
from ..health.healthfile import snapshot, write_health
from ..settings import Settings
from .jobs import JobBody, bodies, job_table, trigger_for
from ..health.outcomes import JobResult, load_outcomes, record_outcome
from ..durations import Spec

log = logging.getLogger(__name__)


class Operations:
    def __init__(self, settings: Settings, *, rescan: Callable[[], None] | None = None,
                 overrides: dict[str, JobBody] | None = None) -> None:
        self.settings = settings
        self.started_at = utc_now()
        self.stop_event = threading.Event()
        self.bodies = {**bodies(settings, rescan=rescan, started_at=self.started_at, stop=self.stop_event),
                       **(overrides or {})}
        self.scheduler = None
        self._health_lock = threading.Lock()

    def describe(self) -> str:
        """One line for the banner."""
        active = [f"{j.name} {j.spec}" for j in job_table(self.settings) if j.spec.kind != "off"]
        return "; ".join(active) or "none"

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # no "Running job" line every few seconds
        sched = BackgroundScheduler(timezone=timezone.utc,
                                    job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
        now = utc_now()
        for job in job_table(self.settings):
            trigger = trigger_for(job.spec, start=now)
            if trigger is None:
                continue
            sched.add_job(self._run, trigger, args=[job.name], id=job.name, name=job.name)
        health = trigger_for(Spec("interval", seconds=self.settings.health_seconds), start=now)
        sched.add_job(self.write_health, health, id="health", name="health")
        self.write_health()
        sched.start()
        self.scheduler = sched
        log.info("scheduler started: %s", self.describe())

    def stop(self) -> None:
        self.stop_event.set()  # cuts webhook retry back-offs short
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        self.write_health(status="stopped")
        log.info("scheduler stopped")

    def _run(self, name: str) -> JobResult:
        started, t0 = utc_now(), time.perf_counter()
        previous = load_outcomes(self.settings).get(name, {}).get("state") or {}
        try:
            result = self.bodies[name](previous)
        except Exception as exc:  # noqa: BLE001 - a job failure is recorded and logged, the daemon goes on
            log.exception("scheduled job %s failed", name)
            result = JobResult(False, f"{type(exc).__name__}: {exc}", previous)
        seconds = time.perf_counter() - t0
        record_outcome(self.settings, name, result, started=started, seconds=seconds)
        level = logging.INFO if result.ok else logging.ERROR
        log.log(level, "job %s %s in %.1fs: %s", name, "ok" if result.ok else "FAILED", seconds, result.summary)
        return result

    def write_health(self, status: str | None = None) -> None:
        try:
            with self._health_lock:
                write_health(self.settings, snapshot(self.settings, self.started_at, load_outcomes(self.settings), status))
        except Exception:  # noqa: BLE001 - a full disk must not stop the daemon; the stale file tells the supervisor
            log.exception("could not write the health file")
