"""captured_at: file-name timestamps of real tools, EXIF, mtime, and time-zone handling."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings, strategies as st

from observatory.ingest.capture_time import captured_at, parse_exif, parse_filename, to_utc_iso

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


def instants_showing(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every UTC instant at which a clock in `zone` reads `wall`: one, two (clocks went back) or none (a gap)."""
    found = set()
    for fold in (0, 1):
        utc = wall.replace(tzinfo=zone, fold=fold).astimezone(timezone.utc)
        if utc.astimezone(zone).replace(tzinfo=None) == wall.replace(fold=0):
            found.add(utc)
    return sorted(found)


# Daylight-saving changes, as the wall-clock readings a file name can carry. Hypothesis found the
# first one: a naive datetime with fold=1 inside New York's spring-forward gap.
NY_GAP = datetime(2080, 3, 10, 2, 0, fold=1)  # 02:00-03:00 does not exist that night
NY_FOLD = datetime(2025, 11, 2, 1, 30, fold=1)  # 01:30 happens twice (EDT, then EST)
SYDNEY_GAP = datetime(2025, 10, 5, 2, 30)  # Australia/Sydney springs forward 02:00 -> 03:00
SYDNEY_FOLD = datetime(2025, 4, 6, 2, 30, fold=1)  # and falls back 03:00 -> 02:00
LORD_HOWE_GAP = datetime(2025, 10, 5, 2, 15)  # a half-hour change: 02:00 -> 02:30


@settings(max_examples=200, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
                          "Australia/Sydney"]),
)
@example(when=NY_GAP, zone="America/New_York")
@example(when=NY_FOLD, zone="America/New_York")
@example(when=SYDNEY_GAP, zone="Australia/Sydney")
@example(when=SYDNEY_FOLD, zone="Australia/Sydney")
@example(when=LORD_HOWE_GAP, zone="Australia/Lord_Howe")
def test_filename_time_is_read_in_the_configured_zone_and_stored_as_utc(when: datetime, zone: str) -> None:
    """The rule for wall-clock text: the earliest instant showing it; in a gap, the pre-jump offset (a later reading)."""
    when = when.replace(microsecond=0)
    tz = ZoneInfo(zone)
    iso, source = captured_at(f"IMG_{when:%Y%m%d_%H%M%S}.jpg", None, 0, tz)
    assert source == "filename"
    assert iso.endswith("+00:00")
    got = datetime.fromisoformat(iso)
    wall = when.replace(fold=0)
    showing = instants_showing(wall, tz)
    if showing:  # the reading exists: the first moment the clock showed it
        assert got == showing[0]
    else:  # skipped by a jump forward: read with the offset before it, which lands after the gap
        before = tz.utcoffset(wall - timedelta(days=1))
        assert got == (wall - before).replace(tzinfo=timezone.utc)
        assert got.astimezone(tz).replace(tzinfo=None) > wall


@settings(max_examples=200, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Australia/Sydney"]),
)
@example(when=NY_GAP, zone="America/New_York")
@example(when=NY_FOLD, zone="America/New_York")
@example(when=SYDNEY_FOLD, zone="Australia/Sydney")
def test_local_time_conversion_depends_on_the_wall_clock_text_only(when: datetime, zone: str) -> None:
    """A file name carries no fold: a datetime's fold attribute must not change the stored instant."""
    tz = ZoneInfo(zone)
    assert to_utc_iso(when.replace(fold=1), tz) == to_utc_iso(when.replace(fold=0), tz)


@pytest.mark.parametrize("zone,wall,expected", [
    ("America/New_York", NY_GAP, "2080-03-10T07:00:00+00:00"),  # 02:00 read as EST = 03:00 EDT
    ("America/New_York", datetime(2025, 3, 9, 2, 30), "2025-03-09T07:30:00+00:00"),  # gap: 03:30 EDT
    ("America/New_York", NY_FOLD, "2025-11-02T05:30:00+00:00"),  # the first 01:30 (EDT), not the second
    ("America/New_York", datetime(2025, 11, 2, 0, 59, 59), "2025-11-02T04:59:59+00:00"),
    ("America/New_York", datetime(2025, 11, 2, 2, 0), "2025-11-02T07:00:00+00:00"),  # after the fold: EST
    ("Australia/Sydney", SYDNEY_GAP, "2025-10-04T16:30:00+00:00"),  # gap: 02:30 AEST = 03:30 AEDT
    ("Australia/Sydney", SYDNEY_FOLD, "2025-04-05T15:30:00+00:00"),  # the first 02:30 (AEDT, +11)
    ("Australia/Lord_Howe", LORD_HOWE_GAP, "2025-10-04T15:45:00+00:00"),  # +10:30 before the half-hour jump
])
def test_daylight_saving_gaps_and_folds(zone: str, wall: datetime, expected: str) -> None:
    name = f"Screenshot_{wall:%Y%m%d_%H%M%S}_Whiteout Survival.jpg"
    assert captured_at(name, None, 0, ZoneInfo(zone)) == (expected, "filename")
    assert to_utc_iso(wall, ZoneInfo(zone)) == expected  # the fold the datetime carries does not matter


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
