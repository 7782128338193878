"""The region of the original screenshot a value was read from.

Extraction records, per row and field, the box the value was read from (ScoresExtracted v2
`row_fields`, in the original image's pixels). `locate` finds it in the screenshot's newest
extraction: the field's box, else the row's band, else (events older than v2, the OpenAI reader)
the whole screenshot; which one it is travels with the crop (header, review page).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from ..correct.rows import find_row, parse_ref

FIELD = "the box the value was read from"
BAND = "the row's band (no box recorded for this field)"
WHOLE = "whole screenshot (no box recorded for this value)"
WIDTH = 540
MARGIN = 8


def locate(store: Any, sha: str, row: str, field: str) -> tuple[tuple[int, int, int, int] | None, str]:
    """(box, what it is) of `field` of `row` (`rank:3`, `name:Xoxo`, ...) in the newest extraction of `sha`."""
    ev = store.latest(["ScoresExtracted"], stream_id=f"screenshot-{sha}")
    if ev is None:
        return None, WHOLE
    payload = ev.payload
    rows, fields = payload.get("rows") or [], payload.get("row_fields") or []
    i = find_row(rows, parse_ref(payload.get("kind") or "", row))
    if i is None or i >= len(fields):
        return None, WHOLE
    for key, what in ((field, FIELD), ("row", BAND)):
        where = fields[i].get(key)
        if isinstance(where, dict) and isinstance(where.get("box"), list) and len(where["box"]) == 4:
            return tuple(int(v) for v in where["box"]), what  # type: ignore[return-value]
    return None, WHOLE


@lru_cache(maxsize=256)
def crop(path: Path, box: tuple[int, int, int, int] | None = None, width: int = WIDTH) -> bytes:
    """JPEG of `box` (left, top, right, bottom) with a margin, else of the whole image, at most `width` wide."""
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
    return out.getvalue()
