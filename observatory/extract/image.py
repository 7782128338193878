"""Decode a screenshot as a person sees it: upright, 8-bit RGB, transparency on white.

Phones and editors save screenshots in many shapes: EXIF-rotated JPEGs, 16-bit or
palette PNGs, images with alpha, CMYK from print tools. A plain `convert("RGB")`
clips a 16-bit image to white and ignores EXIF orientation, and the reader then
sees a blank or sideways page.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .models import ExtractionError


def _scale_to_8bit(im: Image.Image) -> Image.Image:
    """16- and 32-bit gray (and float) to 8-bit by their range, not by clipping at 255."""
    lo, hi = im.getextrema()
    if hi <= 255 and lo >= 0 and im.mode != "F":
        return im.convert("L") if im.mode != "I" else im.point(lambda v: v).convert("L")
    span = float(hi - lo) or 1.0
    if im.mode.startswith("I;16"):
        im = im.convert("I")
    return im.point(lambda v: (v - lo) * 255.0 / span).convert("L")


def as_seen(im: Image.Image) -> Image.Image:
    """The upright 8-bit RGB picture of `im`."""
    im = ImageOps.exif_transpose(im) or im
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        im = _scale_to_8bit(im)
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ("LA", "PA"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        base = Image.new("RGB", im.size, (255, 255, 255))
        base.paste(im, mask=im.getchannel("A"))
        return base
    return im.convert("RGB")


def decode(image: bytes | str | os.PathLike) -> Image.Image:
    """Open and decode `image` (bytes or a path) into what `as_seen` gives; undecodable input is an ExtractionError."""
    try:
        if isinstance(image, (bytes, bytearray, memoryview)):
            im = Image.open(io.BytesIO(bytes(image)))
        else:
            im = Image.open(Path(image))
        im.load()
        return as_seen(im)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise ExtractionError("decode", f"cannot decode image: {e}") from e
