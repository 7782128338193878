"""Definition-driven extraction, as explicit stages, each in its own module:

1. `page.py` (I/O): the reader reads the page once into text runs (segments, lines); the
   screen is classified from that text (`classify.py`) and its meta read (`meta.py`).
2. `locate.py`: one anchor per row (the row's main number), the row bands, and the region
   each field is read from, planned as requests on a `page.Cropper`.
3. `page.Cropper.run` (I/O): the reader answers the planned regions in as few calls as it can.
4. `resolve.py`: each field's value from its readings (name votes, digit passes, CJK retries).
5. `validate.py`: non-score rows dropped with a reason, rank sequences repaired, and the
   cross-checks of `checks.py`: what fails them, or is cut off, is marked doubtful.

Imports go one way down that list; this module only runs the stages in order.
"""
from __future__ import annotations

from typing import Any

from PIL import Image

from .boxes import row_fields
from .classify import classify
from .locate import find_anchors, layout_rows, plan_fields, probe_missing_anchors
from .meta import block_meta, extract_meta
from .models import KindDefinition
from .page import Cropper, Page, analyse_page
from .readers import Reader
from .resolve import cjk_accept, cjk_retry, repair_tags, resolve_fields, tiebreak_names
from .validate import cross_check, public_row, reading_order, validate_rows


def layout_scores(page: Page, definitions: dict[str, KindDefinition]) -> dict[str, tuple[float, str]]:
    """Structural evidence for kinds that declare ``layout_weight``: enough
    row anchors of the kind's exact shape at the kind's position (for lists
    scrolled past every title)."""
    out: dict[str, tuple[float, str]] = {}
    for name, d in definitions.items():
        if d.layout_weight <= 0 or d.rows is None:
            continue
        n = layout_rows(d, page)
        if n >= d.layout_min_rows:
            out[name] = (d.layout_weight, f"{n} row anchors of {name} layout")
    return out


def extract_page(im: Image.Image, forced_kind: str | None, definitions: dict[str, KindDefinition],
                 reader: Reader | None = None):
    """Run the whole pipeline on a decoded image; returns a dict for ``Extraction``."""
    page = analyse_page(im, reader)
    if forced_kind:
        kind, conf, evidence = forced_kind, 1.0, [f"kind forced to {forced_kind}"]
    else:
        kind, conf, evidence = classify(page.text, definitions, layout_scores(page, definitions))
    res: dict[str, Any] = {"kind": kind, "confidence": conf, "evidence": evidence, "meta": {},
                           "rows": [], "row_confidence": [], "row_fields": [], "dropped_rows": [], "warnings": []}
    defn = definitions.get(kind)
    if defn is None:
        return res
    meta, warns = extract_meta(defn, page)
    res["meta"] = meta
    res["warnings"] += warns
    if defn.rows is None:
        return res
    rows = probe_missing_anchors(defn, page, find_anchors(defn, page))
    cropper = Cropper(page)
    plan_fields(defn, page, rows, cropper)
    block_meta(defn, page, rows, meta)
    cropper.run()
    cjk = cjk_retry(defn, rows, cropper)
    tiebreak_names(defn, rows, cropper)
    cropper.run()
    cjk_accept(cjk)
    resolve_fields(defn, page, rows)
    repair_tags(defn, rows)
    kept, dropped, warns = validate_rows(defn, page, rows)
    kept = reading_order(kept)
    res["rows"] = [public_row(defn, r) for r in kept]
    res["row_fields"] = [row_fields(defn, page, r) for r in kept]  # where each value was read (boxes.py)
    warns += cross_check(defn, page, kept, res["rows"], meta)
    res["row_confidence"] = [round(sum(r.confs) / len(r.confs), 3) if r.confs else 0.5 for r in kept]
    res["dropped_rows"] = dropped
    res["warnings"] += warns
    return res
