"""Ingest: events, blobs and every kind of bad input, through the real CLI and the Ingestor."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from observatory.cli import cli
from observatory.eventlog import EventStore
from observatory.ingest import Ingestor, locate
from observatory.ingest.ignore import IgnoreRules
from observatory.settings import load_settings


def png_bytes(seed: int = 0, size: tuple[int, int] = (32, 24)) -> bytes:
    img = Image.new("RGB", size, (seed % 256, (seed // 256) % 256, 77))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.effect_noise(size, 40 + seed % 50).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming a huge image, with a tiny (bogus) IDAT: only the header is honest."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def run(*args: str) -> tuple[int, str]:
    """The CLI, with OCR off for `ingest`: these tests are about what ingest itself records."""
    argv = ["ingest", "--no-process", *args[1:]] if args[:1] == ("ingest",) else list(args)
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    return result.exit_code, result.output


def events(home: Path, type_: str | None = None) -> list:
    with EventStore(home / "events" / "events.db", readonly=True) as store:
        return [e for e in store.read() if type_ is None or e.type == type_]


def rejections(home: Path) -> dict[str, str]:
    return {e.payload["file_name"]: e.payload["code"] for e in events(home, "IngestRejected")}


@pytest.fixture
def inbox(home: Path) -> Path:
    d = home / "watch_dir"
    d.mkdir()
    return d


def test_image_is_ingested_with_blob_and_full_payload(home: Path, inbox: Path) -> None:
    data = png_bytes(1)
    (inbox / "HEI").mkdir()
    (inbox / "HEI" / "Screenshot_20251112_173538_Whiteout Survival.png").write_bytes(data)
    code, out = run("ingest", str(inbox))
    assert code == 0 and "Ingested 1" in out
    (ev,) = events(home)
    sha = hashlib.sha256(data).hexdigest()
    assert ev.type == "ScreenshotIngested" and ev.stream_id == f"screenshot-{sha}"
    assert ev.idempotency_key == f"ingest:{sha}" and ev.metadata["correlation_id"] == sha
    p = ev.payload
    assert p == {
        "sha256": sha, "community": "HEI", "original_path": "HEI/Screenshot_20251112_173538_Whiteout Survival.png",
        "file_name": "Screenshot_20251112_173538_Whiteout Survival.png", "byte_size": len(data), "format": "PNG",
        "width": 32, "height": 24, "captured_at": "2025-11-12T17:35:38+00:00", "captured_at_source": "filename",
        "blob_path": f"blobs/{sha[:2]}/{sha}.png",
    }
    assert (home / "events" / p["blob_path"]).read_bytes() == data
    assert (inbox / "HEI" / p["file_name"]).read_bytes() == data  # the original is left alone
    # the projection is caught up at the end of the command
    db = sqlite3.connect(home / "projections" / "observatory.db")
    assert db.execute("SELECT community, sightings FROM screenshots").fetchall() == [("HEI", 1)]


def test_content_recognised_not_extension_and_timezone_applied(home: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSERVATORY_SCREENSHOT_TIMEZONE", "Europe/Berlin")
    (inbox / "IMG_20250701_120000.png").write_bytes(jpeg_bytes())  # a JPEG with a .png name
    (inbox / "no_extension").write_bytes(png_bytes(2))
    assert run("ingest", str(inbox))[0] == 0
    by_name = {e.payload["file_name"]: e.payload for e in events(home, "ScreenshotIngested")}
    assert by_name["IMG_20250701_120000.png"]["format"] == "JPEG"
    assert by_name["IMG_20250701_120000.png"]["blob_path"].endswith(".jpg")
    assert by_name["IMG_20250701_120000.png"]["captured_at"] == "2025-07-01T10:00:00+00:00"
    assert by_name["no_extension"]["format"] == "PNG" and by_name["no_extension"]["captured_at_source"] == "mtime"


def test_exif_date_used_when_name_has_none(home: Path, inbox: Path) -> None:
    img = Image.new("RGB", (20, 20), "green")
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:02:29 23:59:58"
    img.save(inbox / "photo.jpg", "JPEG", exif=exif)
    run("ingest", str(inbox))
    (ev,) = events(home, "ScreenshotIngested")
    assert (ev.payload["captured_at"], ev.payload["captured_at_source"]) == ("2024-02-29T23:59:58+00:00", "exif")


def test_same_content_twice_is_one_ingest_and_a_duplicate_sighting_never_repeated(home: Path, inbox: Path) -> None:
    data = png_bytes(3)
    (inbox / "a.png").write_bytes(data)
    (inbox / "HEI").mkdir()
    (inbox / "HEI" / "copy of a.png").write_bytes(data)
    assert run("ingest", str(inbox))[1].__contains__("Ingested 1, duplicates 1")
    code, out = run("ingest", str(inbox))  # a restart / re-run
    assert code == 0 and "Ingested 0, duplicates 0" in out and "already in the log 2" in out
    assert [e.type for e in events(home)] == ["ScreenshotIngested", "DuplicateSighted"]
    dup = events(home, "DuplicateSighted")[0]
    assert dup.payload["original_path"] == "HEI/copy of a.png" and dup.payload["community"] == "HEI"
    db = sqlite3.connect(home / "projections" / "observatory.db")
    assert db.execute("SELECT sightings FROM screenshots").fetchone() == (2,)


def test_outside_files_get_default_or_given_community_and_missing_path_exits_1(home: Path, inbox: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "one.png").write_bytes(png_bytes(4))
    (elsewhere / "two.png").write_bytes(png_bytes(5))
    assert run("ingest", str(elsewhere / "one.png"))[0] == 0
    code, out = run("ingest", "--community", "KOR", str(elsewhere / "two.png"), str(elsewhere / "missing.png"))
    assert code == 1 and "missing.png" in out
    got = {e.payload["file_name"]: e.payload for e in events(home, "ScreenshotIngested")}
    assert got["one.png"]["community"] == "default" and got["two.png"]["community"] == "KOR"
    assert got["one.png"]["original_path"] == str(elsewhere / "one.png")


def test_debris_is_ignored_silently_and_user_patterns_apply(home: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSERVATORY_IGNORE_PATTERNS", '["*.bak", "archive"]')
    debris = [
        ".DS_Store", "._x.png", "x.png.tmp", "x.part", "x.partial", "x.crdownload", "~$x.png", ".syncthing.x.png.tmp",
        ".stfolder/x.png", ".stversions/x.png", "@eaDir/x.png", ".dropbox.cache/x.png", "__MACOSX/x.png",
        "Thumbs.db", "desktop.ini", ".x.png.icloud", "README.md", "y.bak", "archive/z.png", "HEI/.hidden/x.png",
    ]
    for i, rel in enumerate(debris):
        (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
        (inbox / rel).write_bytes(png_bytes(100 + i))
    code, out = run("ingest", str(inbox))
    assert code == 0 and "Ingested 0" in out and "rejected 0" in out
    assert events(home) == []
    rules = IgnoreRules()
    assert not rules.ignored(("HEI", "README.md")) and rules.ignored(("README.md",))


# --- bad input ------------------------------------------------------------------------


def test_bad_inputs_are_rejected_with_a_reason_once(home: Path, inbox: Path, tmp_path_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSERVATORY_MAX_FILE_BYTES", "100000")
    outside = tmp_path_factory.mktemp("outside") / "secret.png"
    outside.write_bytes(png_bytes(6))
    (inbox / "zero.png").write_bytes(b"")
    (inbox / "text.png").write_text("this is not a picture\n")
    (inbox / "notes.txt").write_text("hello")
    (inbox / "truncated.jpg").write_bytes(jpeg_bytes(7, (200, 200))[:-600])
    noisy = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(noisy, "PNG")
    (inbox / "corrupt.png").write_bytes(noisy.getvalue()[:3000])
    (inbox / "bomb.png").write_bytes(bomb_png(30000, 30000))
    (inbox / "big-pixels.png").write_bytes(bomb_png(10000, 6000))  # 60 MP: above our 50 MP limit, below Pillow's own
    (inbox / "huge.jpg").write_bytes(jpeg_bytes(9, (1200, 1200)))
    (inbox / "link-out.png").symlink_to(outside)
    (inbox / "dangling.png").symlink_to(inbox / "nowhere.png")
    os.mkfifo(inbox / "pipe.png")
    assert (inbox / "huge.jpg").stat().st_size > 100000

    def no_decoding(self):  # noqa: ANN001
        raise AssertionError("a bomb must be refused from its header, never decoded")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Image.Image, "load", no_decoding)
        from PIL import ImageFile
        mp.setattr(ImageFile.ImageFile, "load", no_decoding)
        code, out = run("ingest", str(inbox / "bomb.png"), str(inbox / "big-pixels.png"))
    assert code == 0 and "rejected 2" in out

    code, out = run("ingest", str(inbox))
    assert code == 0, out
    assert rejections(home) == {
        "zero.png": "empty",
        "text.png": "not_an_image",
        "notes.txt": "not_an_image",
        "truncated.jpg": "corrupt",
        "corrupt.png": "corrupt",
        "bomb.png": "too_many_pixels",
        "big-pixels.png": "too_many_pixels",
        "huge.jpg": "too_large",
        "link-out.png": "symlink_outside",
        "dangling.png": "broken_symlink",
        "pipe.png": "not_a_file",
    }
    for ev in events(home, "IngestRejected"):
        p = ev.payload
        assert p["reason"] and ":" in p["fingerprint"] and ev.idempotency_key == f"reject:{p['original_path']}:{p['fingerprint']}"
    n = len(events(home))
    assert run("ingest", str(inbox))[0] == 0
    assert len(events(home)) == n  # a re-run (restart) repeats no rejection
    db = sqlite3.connect(home / "projections" / "observatory.db")
    assert db.execute("SELECT count(*) FROM rejected_files").fetchone() == (11,)
    assert not list((home / "events" / "blobs").rglob("*.*"))  # nothing bad reached the blob store


def test_a_rejected_file_that_changes_is_looked_at_again(home: Path, inbox: Path) -> None:
    target = inbox / "late.jpg"
    full = jpeg_bytes(10, (120, 120))
    target.write_bytes(full[: len(full) // 2])  # the sync client stalled half-way
    run("ingest", str(inbox))
    assert rejections(home) == {"late.jpg": "corrupt"}
    target.write_bytes(full)
    code, out = run("ingest", str(inbox))
    assert "Ingested 1" in out
    assert [e.type for e in events(home)] == ["IngestRejected", "ScreenshotIngested"]


def test_unreadable_file(home: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, mode 000 does not stop reading, so the permission error is injected at os.open in that case."""
    f = inbox / "locked.png"
    f.write_bytes(png_bytes(11))
    f.chmod(0)
    if os.geteuid() == 0:
        real_open = os.open

        def deny(path, flags, *a, **k):  # noqa: ANN001
            if os.fspath(path) == os.fspath(f):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_open(path, flags, *a, **k)
        monkeypatch.setattr(os, "open", deny)
    settings = load_settings()
    with EventStore(settings.events_db) as store:
        ing = Ingestor(settings, store, workers=1)
        (o,) = ing.ingest([locate(f, settings.watch_dir, "default")])
        ing.close()
    assert (o.status, o.code) == ("rejected", "unreadable")


def test_awkward_but_valid_names_ingest(home: Path, inbox: Path) -> None:
    (inbox / "shot.png").mkdir()  # a folder named like an image is walked, not rejected
    (inbox / "shot.png" / "inner.png").write_bytes(png_bytes(12))
    (inbox / "Bildschirmfoto 2025-11-12 um 17.35.38 – Ärger 🐉.png").write_bytes(png_bytes(13))
    long_name = "L" * 240 + ".png"
    (inbox / long_name).write_bytes(png_bytes(14))
    raw = os.fsencode(inbox) + b"/caf\xe9-latin1.png"  # a Latin-1 name: not valid UTF-8
    with open(raw, "wb") as fh:
        fh.write(png_bytes(15))
    code, out = run("ingest", str(inbox))
    assert code == 0 and "Ingested 4" in out and "rejected 0" in out, out
    names = {e.payload["original_path"] for e in events(home, "ScreenshotIngested")}
    assert names == {"shot.png/inner.png", "Bildschirmfoto 2025-11-12 um 17.35.38 – Ärger 🐉.png", long_name, "caf\\xe9-latin1.png"}
    inner = [e for e in events(home, "ScreenshotIngested") if e.payload["file_name"] == "inner.png"][0]
    assert inner.payload["community"] == "shot.png"
    assert run("ingest", str(inbox))[1].__contains__("Ingested 0, duplicates 0")  # stable identity for odd names too


def test_symlink_inside_the_inbox_is_followed(home: Path, inbox: Path) -> None:
    (inbox / "real.png").write_bytes(png_bytes(16))
    (inbox / "alias.png").symlink_to(inbox / "real.png")
    run("ingest", str(inbox))
    assert sorted(e.type for e in events(home)) == ["DuplicateSighted", "ScreenshotIngested"]


def test_a_link_to_nothing_is_broken_wherever_it_points(home: Path, inbox: Path, tmp_path_factory) -> None:
    """broken_symlink is decided before where the link points: the user has to fix the link either way."""
    outside = tmp_path_factory.mktemp("outside")
    (outside / "exists.png").write_bytes(png_bytes(17))
    (inbox / "broken-inside.png").symlink_to(inbox / "nowhere.png")
    (inbox / "broken-outside.png").symlink_to(outside / "nowhere.png")
    (inbox / "broken-outside-relative.png").symlink_to("../../no/such/folder/x.png")
    (inbox / "hop.png").symlink_to(outside / "gone.png")  # a chain: inside -> inside link -> nothing outside
    (inbox / "chain.png").symlink_to(inbox / "hop.png")
    (inbox / "loop-a.png").symlink_to(inbox / "loop-b.png")
    (inbox / "loop-b.png").symlink_to(inbox / "loop-a.png")
    (inbox / "valid-outside.png").symlink_to(outside / "exists.png")
    code, out = run("ingest", str(inbox))
    assert code == 0, out
    assert rejections(home) == {
        "broken-inside.png": "broken_symlink",
        "broken-outside.png": "broken_symlink",
        "broken-outside-relative.png": "broken_symlink",
        "hop.png": "broken_symlink",
        "chain.png": "broken_symlink",
        "loop-a.png": "broken_symlink",
        "loop-b.png": "broken_symlink",
        "valid-outside.png": "symlink_outside",
    }
    assert not events(home, "ScreenshotIngested")  # nothing outside the inbox was read
