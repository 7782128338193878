"""When a screenshot was taken: from its file name, else EXIF, else the file's mtime.

Phones and desktop tools put the local capture time in the file name; that is the
most faithful source because sync clients rewrite mtimes. Local times are read in
the configured IANA zone and stored as UTC ISO-8601 with an explicit offset.

A file name carries no fold, so the local-to-UTC step must be a function of the
wall-clock text alone: around daylight-saving changes it follows one fixed rule
(`local_to_utc`), whatever `fold` a caller's datetime happens to carry.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

Source = Literal["filename", "exif", "mtime"]

# year month day [sep] hour minute second [subseconds] [AM/PM], with the separators
# real tools use: Screenshot_20251112_173538, IMG_20251112_173538, 2025-11-12 17.35.38,
# "Screenshot 2025-11-12 at 17.35.38", PXL_20251112_173538123, "Screen Shot ... at 5.35.38 PM",
# Screenshot_2025-11-12-17-35-38-123_com.game.
_STAMP = re.compile(
    r"(?<!\d)"
    r"(?P<y>(?:19|20)\d\d)(?P<ds>[-_.]?)(?P<mo>\d\d)(?P=ds)(?P<d>\d\d)"
    r"(?:[ _T-]|\s+at\s+|)"
    r"(?P<h>\d{1,2})(?P<ts>[-_.:h]?)(?P<mi>\d\d)(?P=ts)(?P<s>\d\d)"
    r"(?:[.,_-]?(?P<frac>\d{1,6}))?"
    r"(?:\s?(?P<ampm>[AaPp][Mm])(?![A-Za-z]))?"
    r"(?!\d)"
)


def parse_filename(name: str) -> datetime | None:
    """The naive local timestamp a file name carries, or None."""
    for m in _STAMP.finditer(name):
        hour = int(m["h"])
        if len(m["h"]) == 1 and not m["ampm"] and not m["ts"]:
            continue  # "2025111217..." style without separators needs two-digit hours
        if m["ampm"]:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if m["ampm"].lower() == "pm" else 0)
        frac = m["frac"] or ""
        try:
            return datetime(
                int(m["y"]), int(m["mo"]), int(m["d"]), hour, int(m["mi"]), int(m["s"]),
                int(frac.ljust(6, "0")) if frac else 0,
            )
        except ValueError:
            continue
    return None


def parse_exif(value: str | bytes | None, offset: str | bytes | None = None) -> datetime | None:
    """EXIF 'YYYY:MM:DD HH:MM:SS' (naive, or aware when OffsetTimeOriginal '+01:00' is given)."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if not value:
        return None
    try:
        dt = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    m = re.fullmatch(r"([+-])(\d\d):(\d\d)", (offset or "").strip("\x00 "))
    if m:
        delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
        dt = dt.replace(tzinfo=timezone(delta if m[1] == "+" else -delta))
    return dt


def local_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall-clock reading in `tz`, by one rule for DST changes.

    Ambiguous (the hour repeated when clocks go back): the first occurrence.
    Nonexistent (the hour skipped when clocks go forward): read with the offset in force
    before the jump, so 02:30 in a 02:00→03:00 gap is 03:30 after it, as a clock that
    missed the change would show. Both are zoneinfo's fold=0, set here explicitly.
    """
    return wall.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def to_utc_iso(dt: datetime, tz: ZoneInfo) -> str:
    """A local (naive → read in `tz` by `local_to_utc`) or aware datetime as UTC ISO-8601 with '+00:00'."""
    utc = local_to_utc(dt, tz) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    return utc.isoformat(timespec="seconds")


def captured_at(name: str, exif: datetime | None, mtime_ns: int, tz: ZoneInfo) -> tuple[str, Source]:
    """(UTC ISO-8601, source) by precedence filename > exif > mtime."""
    from_name = parse_filename(name)
    if from_name is not None:
        return to_utc_iso(from_name, tz), "filename"
    if exif is not None:
        return to_utc_iso(exif, tz), "exif"
    mtime = datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc)
    return mtime.isoformat(timespec="seconds"), "mtime"
