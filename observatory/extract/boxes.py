"""Where each stored value was read: its box in the original image's pixels, the reader and its confidence.

Recorded with the rows (ScoresExtracted v2 `row_fields`, one mapping per row), so the web can show a
value beside the very pixels it came from (serve/crops.py). A field read from planned regions gets the
union of those regions; the anchor number, read from the page pass, its segment; `row` is the row's band.
"""
from __future__ import annotations

from typing import Any

from .locate import RowCtx
from .models import KindDefinition
from .page import Page


def _union(boxes: list[tuple[int, int, int, int]]) -> list[int]:
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def row_fields(defn: KindDefinition, page: Page, row: RowCtx) -> dict[str, dict[str, Any]]:
    """field -> {"box": [left, top, right, bottom], "reader": name, "confidence": 0..1 or None}."""
    reader = page.reader.name
    out: dict[str, dict[str, Any]] = {}
    if row.bottom > row.top:
        out["row"] = {"box": [0, max(0, round(row.top)), page.W, min(page.H, round(row.bottom))],
                      "reader": reader, "confidence": None}
    for f in defn.fields:
        reqs = [q for q in (row.reqs.get(f.name) or []) if q is not None]
        confs = [q.result.conf for q in reqs if q.result is not None and q.result.conf > 0]
        if reqs and (confs or f.source != "anchor"):
            where = {"box": _union([q.box for q in reqs]), "reader": reader,
                     "confidence": round(max(confs) / 100, 3) if confs else None}
        elif f.source == "anchor":  # the regions read nothing: the value came from the page pass's anchor
            a = row.anchor
            where = {"box": [a.left, a.top, a.right, a.bottom], "reader": reader, "confidence": round(a.conf / 100, 3)}
        else:
            continue
        out[f.name] = where
        if f.text_of:
            out.setdefault(f.text_of, where)
    return out
