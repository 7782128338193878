"""The small duration and schedule languages of the operations settings (`24h`, `every 10m`, a cron line).

Pure functions, so settings validation and `observatory schedule` agree on meaning.
A schedule is `off`, `every <duration>` or a five-field cron line read in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


def parse_duration(value: str | float | int) -> float:
    """Seconds in "90", "90s", "90m", "24h", "2d", "1w", or a compound like "1h30m"."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 24h, 90m, 2d or a number of seconds")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw]?)", text)
        if not text or "".join(n + u for n, u in parts) != text or (len(parts) > 1 and not all(u for _, u in parts)):
            raise ValueError(f"expected a duration like 24h, 90m, 2d or a number of seconds, not {value!r}")
        seconds = sum(float(n) * UNITS[u or "s"] for n, u in parts)
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def format_duration(seconds: float) -> str:
    """Short human form: 86400 -> "1d", 5400 -> "1h30m", 42 -> "42s"."""
    seconds = int(round(seconds))
    if seconds <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out[:2])


@dataclass(frozen=True, slots=True)
class Spec:
    """A parsed schedule: kind is "off", "interval" (every `seconds`) or "cron" (`cron` line, UTC)."""

    kind: str
    seconds: float | None = None
    cron: str | None = None

    def __str__(self) -> str:
        if self.kind == "interval":
            return f"every {format_duration(self.seconds or 0)}"
        if self.kind == "cron":
            return f"cron {self.cron} (UTC)"
        return "off"


def parse_spec(text: str, *, auto_seconds: float | None = None) -> Spec:
    """`off`, `every <duration>`, a 5-field cron line, or `auto` (every `auto_seconds`, where allowed)."""
    value = " ".join(str(text).split())
    low = value.lower()
    if low in ("off", "none", "disabled", "false", "0"):
        return Spec("off")
    if low == "auto":
        if auto_seconds is None:
            raise ValueError("`auto` is only accepted for the rescan schedule")
        return Spec("interval", seconds=float(auto_seconds))
    if low.startswith("every "):
        return Spec("interval", seconds=parse_duration(low[6:]))
    fields = value.split(" ")
    if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
        _check_cron(value)
        return Spec("cron", cron=value)
    raise ValueError(f"expected `off`, `every <duration>` (e.g. every 10m) or a cron line (e.g. 0 3 * * *), not {text!r}")


def _check_cron(line: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(line, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"bad cron line {line!r}: {exc}") from None
