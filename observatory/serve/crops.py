"""The region of the original screenshot a value was read from.

Extraction does not record boxes yet, so for now every crop is the whole screenshot, scaled
down; `WHOLE` names that, and the review page and the response header say so. Once events
carry a box per field (original image pixels), `crop` cuts exactly it, with a margin.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image

WHOLE = "whole screenshot (no box recorded for this value)"
BOX = "the box the value was read from"
WIDTH = 540
MARGIN = 8


@lru_cache(maxsize=256)
def crop(path: Path, box: tuple[int, int, int, int] | None = None, width: int = WIDTH) -> tuple[bytes, str]:
    """(JPEG bytes, which region it shows): `box` (left, top, right, bottom) with a margin, else the whole image."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        if box is not None:
            left, top, right, bottom = box
            img = img.crop((max(0, left - MARGIN), max(0, top - MARGIN),
                            min(img.width, right + MARGIN), min(img.height, bottom + MARGIN)))
        if img.width > width:
            img = img.resize((width, max(1, round(img.height * width / img.width))), Image.LANCZOS)
        out = io.BytesIO()
        img.save(out, "JPEG", quality=85)
    return out.getvalue(), BOX if box is not None else WHOLE
