"""Stage 4, validate (pure): rows that are no scores are dropped with a reason, rank sequences
repaired, and the rows checked against the screen (`checks.py`): what fails, or is cut off, is
marked doubtful."""
from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from ..identity import normalize
from . import numbers as num
from .checks import check_rows, passes
from .locate import RowCtx
from .models import KindDefinition, RowField
from .names import clean_name, name_key, split_tag
from .ink import text_height
from .page import Page, digit_box, has_ink, trim_noise
from .readers import TesseractReader
from .resolve import UNSURE_NAME_CONF


def validate_rows(defn: KindDefinition, page: Page, rows: list[RowCtx]):
    """Drop non-score rows with a reason; repair rank sequences."""
    spec = defn.rows
    kept: list[RowCtx] = []
    dropped: list[dict] = []
    warnings: list[str] = []
    heights = [r.anchor.height for r in rows]
    med_h = statistics.median(heights) if heights else 0
    name_hs = [r.name_h for r in rows if r.name_h]
    med_name_h = statistics.median(name_hs) if len(name_hs) >= 3 else 0
    name_f = next((f for f in defn.fields if f.type == "name"), None)
    for r in rows:
        reason = None
        a = r.anchor
        if spec.unranked and re.search(spec.unranked, r.band_text, re.I):
            reason = "capturer's pinned Unranked row"
        elif spec.overlay and re.search(spec.overlay, r.band_text, re.I):
            reason = "row covered by an overlay toast"
        elif a.height < 0.6 * med_h or a.bottom >= page.H - 3 or a.top <= 3:
            reason = "row cut off at the screen edge"
        elif r.name_h and med_name_h and r.name_h < 0.6 * med_name_h:
            reason = "name cut off at the edge of the list"
        elif r.name_votes == 1 and r.name_conf < UNSURE_NAME_CONF and not r.tag_confirmed:
            reason = "name unreadable: no two OCR passes agree and the best is unsure"
        elif (chrome := _screen_text(defn, r)) is not None:
            reason = f"no name: {chrome!r} is the screen's own text (the row's name is hidden)"
        else:
            missing = [f.name for f in defn.fields
                       if (f.required or f.source == "anchor") and r.values.get(f.name) in (None, "")]
            if name_f is not None and missing == [name_f.name] and _unreadable_name(page, r, name_f):
                # the row is whole and its name is on the screen, in glyphs no reader knows (`ΛLЦKΛЯD ◢◤`):
                # a person's row to review, never a row dropped or a garbled name
                r.name_doubt = ("no reader could read the name in its region "
                                "(glyphs the readers do not know, or covered)")
            elif missing:
                reason = f"row cut off or covered: {', '.join(missing)} not visible"
        if reason:
            dropped.append({"row": public_row(defn, r), "reason": reason})
        else:
            kept.append(r)
    # the capturer's pinned bar repeats a visible row: same name as a row above
    if spec.pinned_last and name_f and len(kept) > 1:
        last = kept[-1]
        key = name_key(_full_name(last, name_f))
        if key and any(fuzz.ratio(key, name_key(_full_name(o, name_f))) >= 90 for o in kept[:-1]):
            dropped.append({"row": public_row(defn, last), "reason": "pinned self-row repeats a row above"})
            kept = kept[:-1]
    if spec.sequence_field and kept:
        pinned_seen = any(d["reason"].startswith("pinned") for d in dropped)
        kept, d2, w2 = _repair_sequence(defn, kept, pinned_seen)
        dropped += d2
        warnings += w2
    return kept, dropped, warnings


def _unreadable_name(page: Page, r: RowCtx, f: RowField) -> bool:
    """The row's name region was found (inside the list) and holds glyphs, yet no reading has a name."""
    reqs = r.reqs.get(f.name)
    return bool(reqs) and has_ink(page.image, reqs[0].box)


def _screen_text(defn: KindDefinition, r: RowCtx) -> str | None:
    """The row's name when it is text the screen itself shows (a header such as `Online: 7/100` above the
    first card, whose own name is hidden): a value a meta pattern of the kind reads, or one of its phrases whole."""
    name_f = next((f for f in defn.fields if f.type == "name"), None)
    name = r.values.get(name_f.name) if name_f else None
    if not isinstance(name, str) or not name.strip():
        return None
    if any(mf.pattern and mf.type in ("int", "text") and re.search(mf.pattern, name, re.I) for mf in defn.meta):
        return name
    plain = " ".join(name.lower().split())
    return name if any(p.text.lower() == plain for p in defn.phrases) else None  # whole phrases: `Onlinegamer` is a name


def _full_name(r: RowCtx, f: RowField) -> str:
    tag = r.values.get(f.text_of) if f.text_of else None
    return f"{tag or ''}{r.values.get(f.name) or ''}"


def _repair_sequence(defn: KindDefinition, rows: list[RowCtx], pinned_seen: bool = False):
    """Ranks/orders are consecutive on these screens: infer unreadable medal
    ranks and fix misreads from the majority offset; a last row that breaks
    the sequence is the pinned self-row of the capturer.  Where the kind allows
    ties, a rank read equal to the row above's is a tie and stays.

    Rows are placed on slots by their vertical pitch, so a row the OCR missed
    does not shift the ranks of the rows below it.
    """
    f = defn.rows.sequence_field
    step = 1 if defn.rows.sequence == "ascending" else -1
    slots = _slots(rows)
    vals = [r.values.get(f) for r in rows]
    pinned_last = defn.rows.pinned_last and not pinned_seen
    body_n = len(rows) - 1 if pinned_last and len(rows) > 1 else len(rows)
    offs = Counter(v - step * slots[i] for i, v in enumerate(vals[:body_n]) if isinstance(v, int))
    dropped, warnings = [], []
    off: int | None
    if not offs:
        # medals only (ranks 1-3) or nothing readable: assume the list starts at 1 for ascending
        if step == 1:
            off = 1
        else:
            warnings.append(f"{f}: no readable values, left empty")
            off = None
    else:
        off = offs.most_common(1)[0][0]
        if step == 1 and off < 1:
            off = 1
    kept: list[RowCtx] = []
    for i, r in enumerate(rows):
        exp = off + step * slots[i] if off is not None else None
        v = r.values.get(f)
        is_last = i == len(rows) - 1 and len(rows) > 1
        if pinned_last and is_last:
            seen = {o.values.get(f) for o in kept}
            lefts = sorted(o.anchor.left for o in rows[:-1])
            rights = sorted(o.anchor.right for o in rows[:-1])
            # left- or right-aligned columns: the pinned bar is offset on both edges
            shifted = min(abs(r.anchor.left - lefts[len(lefts) // 2]),
                          abs(r.anchor.right - rights[len(rights) // 2])) > 0.012 * r.page_w
            if shifted and defn.rows.pinned_policy == "drop":
                dropped.append({"row": public_row(defn, r),
                                "reason": "pinned self-row (offset bar below the list)"})
                continue
            if isinstance(v, int) and v != exp:
                if defn.rows.pinned_policy == "keep" and v >= 1 and v not in seen:
                    kept.append(r)
                    continue
                dropped.append({"row": public_row(defn, r),
                                "reason": f"pinned self-row out of sequence ({f} {v}, expected {exp})"})
                continue
        if exp is not None and v != exp and defn.rows.ties and kept and isinstance(v, int) \
                and v == kept[-1].values.get(f) and (step == 1 and v < exp or step == -1 and v > exp):
            kept.append(r)  # a tie repeats the rank above (1, 2, 2, 4): the next rank is the slot's again
            continue
        if exp is not None and v != exp:
            if v is not None:
                warnings.append(f"{f} {v} read, {exp} inferred from sequence")
            r.values[f] = exp
            r.confs.append(0.7)
        kept.append(r)
    return kept, dropped, warnings


def _slots(rows: list[RowCtx]) -> list[int]:
    """Slot index of each row from the typical row pitch (gaps = missed rows)."""
    if len(rows) < 2:
        return list(range(len(rows)))
    ys = [r.anchor.cy for r in rows]
    diffs = sorted(b - a for a, b in zip(ys, ys[1:]) if b - a > 0)
    if not diffs:
        return list(range(len(rows)))
    pitch = diffs[len(diffs) // 2]
    slots, cur = [0], 0
    for a, b in zip(ys, ys[1:]):
        cur += max(1, round((b - a) / pitch))
        slots.append(cur)
    return slots


def public_row(defn: KindDefinition, r: RowCtx) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in defn.fields:
        if f.text_of and f.type == "name":
            out[f.text_of] = r.values.get(f.text_of)
        out[f.name] = r.values.get(f.name)
        if f.suffix:
            out[f.suffix.field] = r.values.get(f.suffix.field)
            if f.suffix.text:
                out[f.suffix.text] = r.values.get(f.suffix.text)
        if f.text_of and f.type == "abbrev":
            out[f.text_of] = r.values.get(f.text_of)
    return out


def reading_order(rows: list[RowCtx]) -> list[RowCtx]:
    """Top to bottom; cards side by side on one visual row go left to right."""
    out: list[list[RowCtx]] = []
    for r in sorted(rows, key=lambda r: r.anchor.cy):
        if out and abs(out[-1][0].anchor.cy - r.anchor.cy) < 0.6 * r.anchor.height:
            out[-1].append(r)
        else:
            out.append([r])
    return [r for grp in out for r in sorted(grp, key=lambda r: r.anchor.left)]


CLIPPED = 0.88  # a first or last row whose number is this much shorter than the page's is cut by the list's edge
CLIPPED_NAME = 0.7  # names vary more (capitals, descenders): only a much shorter one is cut


INK_AGREES = 0.1  # a number whose own ink is within this share of the page's typical ink height is whole


def _ink_heights(defn: KindDefinition, page: Page, rows: list[RowCtx]) -> list[int] | None:
    """Each row's number measured in its pixels (ink.text_height), or None when the page gives no steady measure
    (fewer than three rows agreeing within INK_AGREES: icons or badges share the number's window)."""
    assert defn.rows is not None
    rx = re.compile(defn.rows.anchor, re.I)
    out = []
    for r in rows:
        a, h = r.anchor, r.anchor.height
        db = digit_box(a, rx)
        box = (round(db[0]), max(0, round(a.top - 0.5 * h)), round(db[2]), min(page.H, round(a.bottom + 0.5 * h)))
        out.append(text_height(page.image, box) if box[2] > box[0] and box[3] > box[1] else 0)
    typical = statistics.median(out) if out else 0
    steady = sum(1 for v in out if typical and abs(v - typical) <= INK_AGREES * typical)
    return out if steady >= 3 else None


def _cut_off(rows: list[RowCtx], image_height: float | None = None,
             inks: Callable[[], list[int] | None] | None = None) -> dict[int, str]:
    """Rows the list's edge or an overlay cuts, and why: the first or last of a column whose number or name
    is shorter than the others' (the edge), or whose name starts right of where the others start.

    `image_height`, for lists that fill the image (`rows.cut_by: image`): only a row touching the image's
    border is cut; a short glyph elsewhere is the font's rendering (12 px against 14), not a cut.
    `inks` (the numbers' heights measured in their pixels, asked only when a row's box is short): a number whose
    box is short but whose ink is as tall as the page's others is whole (the detector's boxes vary by a sixth: `2,429` 29 px, `2,427` 34 px)."""
    out: dict[int, str] = {i: "the name's start is hidden (covered, or cut by the list)"
                           for i, r in enumerate(rows) if r.name_cut}
    if len(rows) < 3:
        return out
    ah = statistics.median(r.anchor.height for r in rows)
    names = [r.name_h for r in rows if r.name_h]
    nh = statistics.median(names) if len(names) >= 3 else 0
    for c in {r.col for r in rows}:
        col = sorted((i for i, r in enumerate(rows) if r.col == c), key=lambda i: rows[i].anchor.cy)
        for i in {col[0], col[-1]}:
            r = rows[i]
            short_name = bool(nh and r.name_h and r.name_h < CLIPPED_NAME * nh)
            if r.anchor.height < CLIPPED * ah or short_name:
                if image_height is not None and not _touches(r, image_height, ah):
                    continue
                if not short_name and inks is not None and (measured := inks()) is not None and _whole(measured, i):
                    continue
                out.setdefault(i, "row cut off at the edge of the list")
    return out


EDGE_OF_IMAGE = 0.35  # glyphs cut by the image's border reach it: within this many number heights


def _whole(inks: list[int], i: int) -> bool:
    others = [v for j, v in enumerate(inks) if j != i]
    typical = statistics.median(others) if others else 0
    return bool(typical) and abs(inks[i] - typical) <= INK_AGREES * typical


def _touches(r: RowCtx, height: float, ah: float) -> bool:
    """Whether the row's glyphs reach the image's top or bottom border."""
    top = min(r.anchor.top, r.name_top if r.name_top is not None else r.anchor.top)
    bottom = max(r.anchor.bottom, r.name_bottom if r.name_bottom is not None else r.anchor.bottom)
    return top < EDGE_OF_IMAGE * ah or height - bottom < EDGE_OF_IMAGE * ah


SAME_NAME = 90.0  # the scoring rule's name similarity: a second reading this close confirms the first


def _second_opinion(page: Page, r: RowCtx, field: str | None, row: dict[str, Any], second) -> str | None:
    """A suspect name (resolve.py) read again by the second reader: None when it reads the same name (matching
    keys alike), else why the name is doubtful, with both readings."""
    reqs = r.reqs.get(field) if field else None
    if second is None:
        # the suspicions are how the neural reader fails (nothing for glyphs it lacks, look-alike guesses);
        # Tesseract, the one reader with no second, fails otherwise: a gap in its words is an icon speck
        return None
    if not reqs:
        return f"{r.name_suspect}; no region to read it again"
    q = reqs[0]
    cr = second.regions(page.image, [], [q.box], text_heights=[q.text_h])[0]
    again = clean_name(" ".join(w.text for w in trim_noise(cr.words)))
    first = split_tag(str(row.get(field) or ""))[1]
    a, b = normalize(first), normalize(split_tag(again)[1])
    if a and b and fuzz.ratio(a, b) >= SAME_NAME:
        return None
    return f"{r.name_suspect}; {second.name} reads {again!r}"


def cross_check(defn: KindDefinition, page: Page, kept: list[RowCtx], public: list[dict[str, Any]],
                meta: dict[str, Any]) -> list[str]:
    """Check the rows against what the screen says (checks.py); re-read a failing number with the
    second reader, and mark what still fails, or was cut off, as doubtful in `public`."""
    warnings: list[str] = []
    order = defn.rows.sequence_field if defn.rows.sequence == "ascending" else None
    doubts = check_rows(defn.checks, public, meta, order)
    second = TesseractReader() if page.reader.name != "tesseract" else None
    reread = False
    for i, fields in sorted(doubts.items()):
        for f, why in list(fields.items()):
            reqs = kept[i].reqs.get(f) or []
            if reread and passes(defn.checks, public, meta, i, f, public[i][f], order):
                continue  # another row's re-read settled it
            if second is None or not reqs:
                continue
            q = reqs[-1]
            cr = second.regions(page.image, [], [q.box], whitelist="0123456789,.", text_heights=[q.text_h])[0]
            value = num.parse_int(cr.text.replace(" ", "")) if cr.text else None
            if value is not None and passes(defn.checks, public, meta, i, f, value, order):
                warnings.append(f"row {i + 1} {f}: {public[i][f]} {why.split(' ', 1)[1]}; "
                                f"re-read as {value} by {second.name}")
                public[i][f] = value
                del fields[f]
                reread = True
    if reread:  # a value re-read can settle other rows' doubts too (a team's sum)
        doubts = check_rows(defn.checks, public, meta, order)
    name_field = next((f.name for f in defn.fields if f.type == "name"), None)
    for i, r in enumerate(kept):
        why = r.name_doubt or (r.name_suspect and _second_opinion(page, r, name_field, public[i], second))
        if name_field and why:
            doubts.setdefault(i, {}).setdefault(name_field, why)
    for i, why in _cut_off(kept, page.H if defn.rows.cut_by == "image" else None,
                           lru_cache(maxsize=1)(lambda: _ink_heights(defn, page, kept))).items():
        public[i]["partial"] = True
        if why.startswith("the name"):
            cut = [name_field]
        else:
            cut = [f.name for f in defn.fields if f.type in ("int", "abbrev") and f.source != "block"
                   and public[i].get(f.name) is not None]
        for f in [c for c in cut if c] or [name_field]:
            doubts.setdefault(i, {}).setdefault(f, why)
    for i, fields in doubts.items():
        if fields:
            public[i]["doubtful"] = sorted(fields)
            public[i]["doubt_reasons"] = dict(sorted(fields.items()))
    return warnings
