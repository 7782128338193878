"""captured_at: file-name timestamps of real tools, EXIF, mtime, and time-zone handling."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from observatory.ingest.capture_time import captured_at, parse_exif, parse_filename

REAL_NAMES = {
    "Screenshot_20251112_173538_Whiteout Survival.jpg": datetime(2025, 11, 12, 17, 35, 38),
    "IMG_20251112_173538.jpg": datetime(2025, 11, 12, 17, 35, 38),
    "2025-11-12 17.35.38.png": datetime(2025, 11, 12, 17, 35, 38),
    "Screenshot 2025-11-12 at 17.35.38.png": datetime(2025, 11, 12, 17, 35, 38),
    "PXL_20251112_173538123.jpg": datetime(2025, 11, 12, 17, 35, 38, 123000),
    "Screen Shot 2025-11-12 at 5.35.38 PM.png": datetime(2025, 11, 12, 17, 35, 38),
    "Screen Shot 2025-11-12 at 12.05.00 AM.png": datetime(2025, 11, 12, 0, 5, 0),
    "Screenshot_2025-11-12-17-35-38-123_com.gof.global.jpg": datetime(2025, 11, 12, 17, 35, 38, 123000),
    "WhatsApp Image 2025-11-12 at 17.35.38.jpeg": datetime(2025, 11, 12, 17, 35, 38),
    "20251112_173538.jpg": datetime(2025, 11, 12, 17, 35, 38),
}


@pytest.mark.parametrize("name,expected", REAL_NAMES.items())
def test_real_tool_names(name: str, expected: datetime) -> None:
    assert parse_filename(name) == expected


@pytest.mark.parametrize("name", ["foo.png", "IMG_20251332_173538.jpg", "Screenshot_20251112.png", "123456789.png", "IMG_20251112_253538.jpg"])
def test_names_without_a_valid_timestamp(name: str) -> None:
    assert parse_filename(name) is None


TEMPLATES = [
    "Screenshot_{d:%Y%m%d_%H%M%S}",
    "IMG_{d:%Y%m%d_%H%M%S}",
    "{d:%Y-%m-%d %H.%M.%S}",
    "Screenshot {d:%Y-%m-%d} at {d:%H.%M.%S}",
    "PXL_{d:%Y%m%d_%H%M%S}",
    "Screenshot_{d:%Y-%m-%d-%H-%M-%S}",
    "{d:%Y%m%d%H%M%S}",
]
words = st.text(st.characters(whitelist_categories=("L", "Zs"), whitelist_characters="_ ()"), max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)),
    template=st.sampled_from(TEMPLATES),
    suffix=words,
    ext=st.sampled_from([".png", ".jpg", ".jpeg", ".webp", ""]),
)
def test_parser_round_trips_generated_names(when: datetime, template: str, suffix: str, ext: str) -> None:
    when = when.replace(microsecond=0)
    name = template.format(d=when) + ("_" + suffix if suffix else "") + ext
    assert parse_filename(name) == when


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=120))
def test_parser_never_raises_and_only_returns_valid_datetimes(name: str) -> None:
    got = parse_filename(name)
    assert got is None or (isinstance(got, datetime) and got.tzinfo is None and 1900 <= got.year <= 2099)


@settings(max_examples=200, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]),
)
def test_filename_time_is_read_in_the_configured_zone_and_stored_as_utc(when: datetime, zone: str) -> None:
    when = when.replace(microsecond=0)
    iso, source = captured_at(f"IMG_{when:%Y%m%d_%H%M%S}.jpg", None, 0, ZoneInfo(zone))
    assert source == "filename"
    assert iso.endswith("+00:00")
    assert datetime.fromisoformat(iso) == when.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def test_precedence_filename_then_exif_then_mtime() -> None:
    tz = ZoneInfo("Europe/Berlin")
    exif = parse_exif("2025:11:12 10:00:00")
    assert captured_at("IMG_20251112_173538.jpg", exif, 0, tz) == ("2025-11-12T16:35:38+00:00", "filename")
    assert captured_at("shot.jpg", exif, 0, tz) == ("2025-11-12T09:00:00+00:00", "exif")
    mtime = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert captured_at("shot.jpg", None, int(mtime.timestamp() * 1e9), tz) == ("2025-01-02T03:04:05+00:00", "mtime")


def test_exif_offset_wins_over_the_configured_zone() -> None:
    exif = parse_exif(b"2025:11:12 10:00:00\x00", b"+05:30")
    assert exif is not None and exif.utcoffset() == timedelta(hours=5, minutes=30)
    assert captured_at("x.jpg", exif, 0, ZoneInfo("UTC"))[0] == "2025-11-12T04:30:00+00:00"
    assert parse_exif("garbage") is None and parse_exif(None) is None
