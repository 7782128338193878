"""Screenshots as users save them: rotated by EXIF, 16-bit, palette, alpha, CMYK; and the reader's offline promise."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from observatory.extract import extract
from observatory.extract.image import as_seen
from observatory.extract.scoring import row_matches
from observatory.extract.readers import ReaderUnavailable, _rapid_models, reader_for

BEAR = "Screenshot_20251112_173538_Whiteout Survival.jpg"


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def bear(samples_dir: Path) -> tuple[Image.Image, list[dict]]:
    im = Image.open(samples_dir / BEAR).convert("RGB")
    return im, extract(samples_dir / BEAR).rows


@pytest.mark.slow
def test_a_jpeg_with_exif_orientation_6_reads_like_the_upright_one(bear):
    upright, rows = bear
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a phone stores before the EXIF turn
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    got = extract(buf.getvalue())
    assert got.kind == "bear_damage" and len(got.rows) == len(rows) == 5
    assert all(row_matches(g, r) for g, r in zip(got.rows, rows))  # re-compressed: a glyph may differ, no more


@pytest.mark.slow
def test_a_16_bit_png_reads_like_the_8_bit_one(bear):
    upright, rows = bear
    sixteen = Image.fromarray(np.asarray(upright.convert("L"), dtype=np.uint16) * 257)
    assert sixteen.mode.startswith("I;16")
    assert as_seen(sixteen).getextrema() != ((255, 255),) * 3  # not clipped to white
    got = extract(_png(sixteen))
    assert got.kind == "bear_damage"
    assert [(r["rank"], r["damage"]) for r in got.rows] == [(r["rank"], r["damage"]) for r in rows]


@pytest.mark.parametrize("mode", ["P", "RGBA", "LA", "CMYK", "I", "F"])
def test_every_image_mode_becomes_the_picture_a_person_sees(mode):
    im = Image.new("RGB", (40, 20), (255, 255, 255))
    im.paste((0, 0, 0), (10, 5, 30, 15))
    src = im.convert("L").convert(mode) if mode in ("I", "F", "LA") else im.convert(mode)
    seen = as_seen(src)
    assert seen.mode == "RGB" and seen.size == (40, 20)
    assert seen.getpixel((20, 10))[0] < 40 and seen.getpixel((2, 2))[0] > 215


def test_transparency_is_shown_on_white():
    im = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert as_seen(im).getpixel((5, 5)) == (255, 255, 255)


def test_missing_models_are_a_clear_error_never_a_download(tmp_path):
    with pytest.raises(ReaderUnavailable, match="PP-OCRv6_det_small.onnx.*nothing is downloaded"):
        _rapid_models(tmp_path)


def test_the_shipped_models_are_found_offline_and_an_unknown_reader_is_refused():
    assert (_rapid_models() / "PP-OCRv6_rec_small.onnx").is_file()
    with pytest.raises(ReaderUnavailable, match="unknown OCR reader 'paddle'"):
        reader_for("paddle")
