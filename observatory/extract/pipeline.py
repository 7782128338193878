"""Definition-driven extraction: page layout -> row anchors -> field crops -> typed rows.

Stage 1 OCRs the whole page once (sparse text) for classification and layout.
Stage 2 finds one anchor segment per row (the row's main number), derives the
row band and field regions from the definition, and re-OCRs each region with
region-specific preprocessing in batched Tesseract calls (a digits-only
single-line pass for numbers).  Stage 3 validates rows: sequence repair for
ranks, pinned / unranked / cut-off / overlay rows are dropped with a reason.
"""
from __future__ import annotations

import logging
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from rapidfuzz import fuzz

from . import numbers as num
from .checks import check_rows, passes
from .classify import classify
from .models import KindDefinition, MetaField, RowField
from .names import clean_name, common_tag, name_key, repair_known_tag, split_tag, vote_name
from .ocr import CropResult, Segment, Word, image_words, segments
from .readers import Box, Reader, TesseractReader, clamp_box

log = logging.getLogger(__name__)


@dataclass
class Page:
    image: Image.Image
    segs: list[Segment]
    lines: list[list[Segment]]
    reader: Reader = field(default_factory=TesseractReader)
    words: list[Word] = field(default_factory=list)  # the reader's page pass, in image pixels

    def read(self, boxes: list[Box], *, whitelist: str | None = None, lang: str = "eng",
             text_heights: list[float | None] | None = None, mode: str = "auto", psm: int = 6,
             letters: bool = False, small: bool = False) -> list[CropResult]:
        """What each region of the image says, from the page's reader (`letters`: the regions hold names;
        `small`: a small glyph such as a badge's digit)."""
        return self.reader.regions(self.image, self.words, boxes, whitelist=whitelist, lang=lang,
                                   text_heights=text_heights, mode=mode, psm=psm, letters=letters, small=small)

    @property
    def W(self) -> int:
        return self.image.width

    @property
    def H(self) -> int:
        return self.image.height

    @property
    def text(self) -> str:
        return "\n".join(" ".join(s.text for s in ln) for ln in self.lines)


def build_lines(segs: list[Segment]) -> list[list[Segment]]:
    """Cluster segments whose vertical centres align into visual lines."""
    lines: list[list[Segment]] = []
    for s in sorted(segs, key=lambda s: s.cy):
        if lines:
            ln = lines[-1]
            ref = statistics.median(x.cy for x in ln)
            h = statistics.median(x.height for x in ln)
            if abs(s.cy - ref) < 0.45 * max(h, s.height):
                ln.append(s)
                continue
        lines.append([s])
    for ln in lines:
        ln.sort(key=lambda s: s.left)
    return lines


def analyse_page(im: Image.Image, reader: Reader | None = None) -> Page:
    reader = reader or TesseractReader()
    words = reader.page(im)
    segs = segments(words) if reader.name == "tesseract" else [Segment([w]) for w in words]
    segs.sort(key=lambda s: (round(s.cy), s.left))
    return Page(im, segs, build_lines(segs), reader, words)


# ---------------------------------------------------------------- helpers

@dataclass
class CropReq:
    box: tuple[int, int, int, int]
    key: tuple[str, str, str, bool, bool]  # (whitelist, lang, preprocessing mode, words expected, small glyph)
    text_h: float | None = None
    suffix: str = ""                # CJK/kana glyph recovered by the CJK pass
    cjk_box: tuple | None = None    # box for the CJK pass when it differs (taller glyphs)
    result: CropResult | None = None


class Cropper:
    """Collects region crops and OCRs them in as few Tesseract calls as possible."""

    def __init__(self, page: Page):
        self.page = page
        self.im = page.image
        self.reqs: list[CropReq] = []

    def add(self, box, whitelist: str | None = None, lang: str = "eng",
            text_h: float | None = None, mode: str = "auto", letters: bool = False, small: bool = False) -> CropReq:
        req = CropReq(clamp_box(self.im, box), (whitelist or "", lang, mode, letters, small), text_h)
        self.reqs.append(req)
        return req

    def run(self) -> None:
        groups: dict[tuple[str, str, str, bool, bool], list[CropReq]] = {}
        for r in self.reqs:
            if r.result is None:
                groups.setdefault(r.key, []).append(r)
        for (wl, lang, mode, letters, small), reqs in groups.items():
            res = self.page.read([r.box for r in reqs], whitelist=wl or None, lang=lang,
                                 text_heights=[r.text_h for r in reqs], mode=mode, letters=letters, small=small)
            for r, cr in zip(reqs, res):
                r.result = cr


def _find_first(page: Page, pattern: str | None) -> Segment | None:
    if not pattern:
        return None
    rx = re.compile(pattern, re.I)
    for ln in page.lines:
        joined = " ".join(s.text for s in ln)
        if rx.search(joined):
            for s in ln:
                if rx.search(s.text):
                    return s
            return ln[0]
    return None


def _digit_box(seg: Segment, rx: re.Pattern) -> tuple[int, int, int, int]:
    """Box of the number inside an anchor segment (label words cut off)."""
    words = [w for w in seg.words if re.search(r"\d", w.text)]
    if not words:
        return seg.box()
    first = words[0]
    idx = next(i for i, ch in enumerate(first.text) if ch.isdigit())
    left = first.left + first.width * idx / max(1, len(first.text))
    return (int(left), seg.top, words[-1].right, seg.bottom)


def _bg_brightness(im: Image.Image, box) -> float:
    """Median gray level of a region: the background colour behind a text."""
    crop = im.crop(box).convert("L")
    hist = crop.histogram()
    half, acc = sum(hist) / 2, 0
    for i, h in enumerate(hist):
        acc += h
        if acc >= half:
            return float(i)
    return 0.0


# ---------------------------------------------------------------- meta

def _region_read(page: Page, rx: str, factor: float, cache: dict) -> tuple[str, list]:
    """Re-OCR the full-width strip just above a landmark phrase (e.g. a header
    bar whose light-on-colour text the page pass missed): its text and its
    words in image coordinates."""
    key = (rx, factor)
    if key in cache:
        return cache[key]
    seg = _find_first(page, rx)
    out: tuple[str, list] = ("", [])
    if seg is not None:
        h = seg.height
        box = (0, max(0, int(seg.top - factor * h)), page.W, max(1, int(seg.top - 0.15 * h)))
        res = page.read([box], text_heights=[h])[0]
        out = (res.text, image_words(res, box))
    cache[key] = out
    return out


def extract_meta(defn: KindDefinition, page: Page) -> tuple[dict[str, Any], list[str]]:
    meta: dict[str, Any] = {}
    warnings: list[str] = []
    cache: dict[str, str] = {}
    for mf in defn.meta:
        text = page.text
        if mf.region_above and mf.type != "choice_tab":
            text = _region_read(page, mf.region_above, mf.region_h, cache)[0] or text
        try:
            val = _meta_value(mf, page, text, cache)
        except Exception as e:  # a bad value must not sink the whole screen
            warnings.append(f"meta {mf.name}: {e}")
            val = None
        if val is None and mf.name in meta:
            continue
        meta[mf.name] = val
    return meta, warnings


def _meta_value(mf: MetaField, page: Page, text: str, cache: dict):
    if mf.type == "choice_tab":
        best, best_b = None, -1.0
        tabs = page
        if mf.region_above and not any(_find_first(page, rx) for rx in mf.options.values()):
            # the page pass missed every tab: look for them in the strip re-read
            segs = segments(_region_read(page, mf.region_above, mf.region_h, cache)[1])
            tabs = Page(page.image, segs, build_lines(segs), page.reader, page.words)
        for value, rx in mf.options.items():
            seg = _find_first(tabs, rx)
            if seg is None:
                continue
            h = seg.height
            box = (seg.left - h, seg.top - h // 2, seg.right + h, seg.bottom + h // 2)
            b = _bg_brightness(page.image, box)
            if b > best_b:
                best, best_b = value, b
        return best
    if mf.type == "sections":
        rx = re.compile(mf.pattern or "")
        out = []
        for ln in page.lines:
            first = ln[0]
            if first.left >= 0.2 * page.W:
                continue
            # the header's badge and title can be separate segments of one line
            joined = " ".join(x.text for x in ln if x.left < 0.6 * page.W)
            m = rx.match(joined.strip())
            if m:
                badge = re.sub(r"^RS$", "R5", m.group(0).split()[0])
                out.append((first, badge))
        return _section_titles(page, sorted(out, key=lambda t: t[0].cy))
    if mf.type == "reocr_text":
        # find the value loosely in the page pass, then re-read its box with a whitelist
        loose = re.compile(mf.locate or mf.pattern or "", re.I)
        for seg in page.segs:
            if loose.search(seg.text):
                h = seg.height
                box = (seg.left - h, seg.top - 0.3 * h, seg.right + h, seg.bottom + 0.3 * h)
                votes: Counter = Counter()
                wl = mf.whitelist
                for mode, white in (("white", None), ("auto", wl), ("white", wl), ("auto", None), ("gray", wl)):
                    if votes and votes.most_common(1)[0][1] >= 2:
                        break
                    res = page.read([box], whitelist=white, text_heights=[h], mode=mode, psm=7)[0]
                    m = re.search(mf.pattern or "", res.text)
                    if m:
                        votes[m.group(mf.group)] += 2
                    elif mf.digits_format:
                        # separators are the fragile part: rebuild from the digits
                        d = re.sub(r"\D", "", res.text)
                        if len(d) == mf.digits_format.count("#"):
                            it = iter(d)
                            votes["".join(next(it) if ch == "#" else ch for ch in mf.digits_format)] += 1
                if votes:
                    return votes.most_common(1)[0][0]
        m = re.search(mf.pattern or "", text)
        return m.group(mf.group) if m else None
    m = re.search(mf.pattern or "", text, re.I | re.M)
    if not m:
        return None
    if mf.type == "const":
        return mf.value
    g = m.group(mf.group)
    if mf.type == "int":
        return num.parse_int(g)
    if mf.type == "name":
        return clean_name(g)
    return " ".join(g.split()).replace(" /", "/").replace("/ ", "/")


def _section_titles(page: Page, headers: list[tuple[Segment, str]]) -> list[str]:
    """``R4`` + the group title right of its badge (``R4 Vanguards``).

    Titles are light text on a light bar that the page pass reads poorly, so
    each title strip is re-read in two preprocessing modes and the reads are
    voted like names; a title that is not plain words is left out.
    """
    if not headers:
        return []
    boxes = [(seg.right + 0.3 * seg.height, seg.top - 0.25 * seg.height, 0.7 * page.W,
              seg.bottom + 0.25 * seg.height) for seg, _ in headers]
    hs = [seg.height for seg, _ in headers]
    passes = [page.read(boxes, text_heights=hs, mode=m) for m in ("auto", "gray")]
    out = []
    for i, (_, badge) in enumerate(headers):
        reads = [(" ".join(w.text for w in _trim_noise(p[i].words)), p[i].conf) for p in passes]
        best = vote_name([(t, c) for t, c in reads if re.fullmatch(r"[A-Za-z][A-Za-z ]{2,}", t)])
        out.append(f"{badge} {best[0]}" if best and best[2] >= 2 else badge)
    return out


# ---------------------------------------------------------------- rows

@dataclass
class RowCtx:
    anchor: Segment
    col: int
    top: float = 0
    bottom: float = 0
    reqs: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    confs: list[float] = field(default_factory=list)
    band_text: str = ""
    page_w: int = 1080
    name_h: float | None = None
    name_votes: int = 0             # how many OCR passes agree on the name
    name_conf: float = 0.0
    tag_confirmed: bool = False     # the name carries the alliance tag most rows show
    name_cut: bool = False          # the name starts right of where the column's names start: its start is hidden


def find_anchors(defn: KindDefinition, page: Page) -> list[RowCtx]:
    spec = defn.rows
    assert spec is not None
    rx = re.compile(spec.anchor, re.I)
    start = _find_first(page, spec.start_after) if spec.start_after else None
    end = _find_first(page, spec.end_before) if spec.end_before else None
    y0 = start.bottom if start else 0
    y1 = end.top if end else page.H
    out: list[RowCtx] = []
    for s in page.segs:
        if s.top < y0 or s.bottom > y1:
            continue
        # restrict the segment to the words from the first matching word on
        # Drop leading icon specks / low-confidence artwork / words left of the
        # anchor column, as long as the rest still matches the anchor.
        words = s.words
        lo_x, hi_x = spec.anchor_x[0] * page.W, spec.anchor_x[1] * page.W
        options = []
        for i in range(len(words)):
            sub = Segment(words[i:])
            if rx.search(sub.text):
                options.append(sub)
            w = words[i]
            if not (len(w.text) <= 2 or w.conf < 60 or not any(ch.isalpha() for ch in w.text)
                    or w.left < lo_x):
                break
        # the shortest matching suffix that starts inside the anchor column,
        # else the shortest one (it is rejected by the column test below)
        inside = [o for o in options if lo_x <= o.left <= hi_x]
        if inside:
            s = inside[-1]
        elif options:
            s = options[-1]
        else:
            continue
        if not (spec.anchor_x[0] * page.W <= s.left <= spec.anchor_x[1] * page.W):
            continue
        col = 0
        cx = s.left / page.W
        for i, (a, b) in enumerate(spec.columns):
            if a <= cx < b:
                col = i
        out.append(RowCtx(s, col, page_w=page.W))
    # one anchor per line per column
    out.sort(key=lambda r: (r.anchor.cy, r.anchor.left))
    dedup: list[RowCtx] = []
    for r in out:
        if any(d.col == r.col and abs(d.anchor.cy - r.anchor.cy) < 0.6 * r.anchor.height for d in dedup):
            continue
        dedup.append(r)
    _trim_tall_anchors(dedup)
    _set_bands(spec, dedup)
    return dedup


def _set_bands(spec, rows: list[RowCtx]) -> None:
    """Bands reach band_up / band_down anchor heights; where two neighbouring
    bands in a column overlap, they split the overlap halfway."""
    for r in rows:
        r.top = r.anchor.top - spec.band_up * r.anchor.height
        r.bottom = r.anchor.bottom + spec.band_down * r.anchor.height
    for c in {r.col for r in rows}:
        col = sorted((r for r in rows if r.col == c), key=lambda r: r.anchor.cy)
        for r, n in zip(col, col[1:]):
            if r.bottom > n.top:
                cut = min(max((r.bottom + n.top) / 2, r.anchor.bottom), n.anchor.top)
                r.bottom, n.top = cut, cut


def probe_missing_anchors(defn: KindDefinition, page: Page, rows: list[RowCtx]) -> list[RowCtx]:
    """Rows sit at a regular pitch: re-read the anchor column where the page
    pass left a one-row hole (between two rows, or just above the first row
    when it is still inside the list), and add the rows whose number is found.

    The page pass misses a number now and then (an avatar frame touching it);
    without this the whole row would be lost.
    """
    spec = defn.rows
    rx = re.compile(spec.anchor, re.I)
    start = _find_first(page, spec.start_after)
    y0 = start.bottom if start else 0
    # how far above its number a row reaches (its name): the probe above the
    # first row is made only when that row would be wholly inside the list
    reach = max((f.max_dy for f in defn.fields if f.source == "above" and f.required), default=1.0)
    probes: list[tuple[int, float, list[RowCtx]]] = []
    for c in {r.col for r in rows}:
        col = sorted((r for r in rows if r.col == c), key=lambda r: r.anchor.cy)
        if len(col) < 3:
            continue
        pitch = statistics.median(b.anchor.cy - a.anchor.cy for a, b in zip(col, col[1:]))
        h = statistics.median(r.anchor.height for r in col)
        if pitch < 2 * h:
            continue
        for a, b in zip(col, col[1:]):
            k = round((b.anchor.cy - a.anchor.cy) / pitch)
            probes += [(c, a.anchor.cy + i * (b.anchor.cy - a.anchor.cy) / k, col) for i in range(1, k)]
        first = col[0].anchor.cy - pitch
        if first - reach * h >= y0:
            probes.append((c, first, col))
    if not probes:
        return rows
    boxes = []
    for c, cy, col in probes:
        h = statistics.median(r.anchor.height for r in col)
        left = min(r.anchor.left for r in col) - 0.2 * h
        right = max(r.anchor.right for r in col) + 1.5 * h
        boxes.append((left, cy - 0.9 * h, right, cy + 0.9 * h, h))
    found = []
    for (c, cy, col), box, cr in zip(probes, boxes, page.read([b[:4] for b in boxes], text_heights=[b[4] for b in boxes])):
        words = image_words(cr, box[:4])
        m = rx.search(" ".join(w.text for w in words)) if words else None
        if not m:
            continue
        seg = Segment(words)
        if spec.anchor_x[0] * page.W <= seg.left <= spec.anchor_x[1] * page.W:
            found.append(RowCtx(seg, c, page_w=page.W))
    if not found:
        return rows
    out = sorted(rows + found, key=lambda r: (r.anchor.cy, r.anchor.left))
    _set_bands(spec, out)
    return out


def _trim_tall_anchors(rows: list[RowCtx]) -> None:
    """Row numbers share one font: a number word much taller than the others
    has swallowed a sliver of the line below it (a status line cut by the list
    edge), which would shrink the digits when the crop is scaled.  Its height
    is reset to the typical one, keeping its top."""
    if len(rows) < 3:
        return
    med = statistics.median(r.anchor.height for r in rows)
    for r in rows:
        if r.anchor.height > 1.4 * med:
            r.anchor = Segment([Word(w.text, w.left, w.top, w.width, min(w.height, round(med)), w.conf)
                                for w in r.anchor.words])


def _col_bounds(defn: KindDefinition, r: RowCtx, W: int) -> tuple[float, float]:
    a, b = defn.rows.columns[r.col]
    return a * W, b * W


@dataclass
class NameBox:
    """Where a row's name line sits: its box, and whether the page pass saw it."""
    left: float
    top: float
    right: float
    bottom: float
    seen: bool
    full: tuple[float, float] | None = None  # (top, bottom) before cutting ornaments off
    cut_left: bool = False  # seen starting well right of the column's names: its first glyphs are hidden


def _above_box(page: Page, r: RowCtx, f: RowField, col_right: float) -> NameBox | None:
    """The name line above the anchor as found by the page pass (pieces of one
    line the page pass split are merged), or None when nothing is there."""
    a, h, W = r.anchor, r.anchor.height, page.W
    xr = f.x_range or (0.0, 1.0)
    lo, hi = a.left + xr[0] * W, a.left + xr[1] * W
    cands = []
    for s in page.segs:
        if s is a or s.bottom > a.top + 0.3 * h or s.top < a.top - f.max_dy * h - h:
            continue
        i = next((i for i, w in enumerate(s.words) if lo <= w.left <= hi and w.left < col_right), None)
        if i is not None:
            cands.append(Segment(s.words[i:]))
    seg = max(cands, key=lambda s: s.bottom) if cands else None
    if seg is None:
        return None
    same = [c for c in cands if min(c.bottom, seg.bottom) - max(c.top, seg.top)
            > 0.4 * min(c.height, seg.height)]
    return NameBox(min(c.left for c in same), seg.top, min(hi, col_right), seg.bottom, True)


def _learned_boxes(rows: list[RowCtx], boxes: list[NameBox | None], y0: float) -> list[NameBox | None]:
    """Name boxes follow one layout on a page: learn the name line's offset and
    height from the rows where the page pass saw it, then give rows whose name
    it missed the typical box; boxes inflated by tall decorative glyphs
    (``༒WRATH༒``) are cut to the typical text height around their centre, so
    the letters are not shrunk to fit the ornaments (the CJK pass still reads
    the full box: ideographs are taller than Latin letters).  A typical box that would
    reach above ``y0`` (the list's top edge) stays None: that name is hidden."""
    seen = [(r, b) for r, b in zip(rows, boxes) if b is not None]
    if len(seen) < 3:
        return boxes
    med_h = statistics.median(b.bottom - b.top for _, b in seen)
    typical = [(r, b) for r, b in seen if b.bottom - b.top <= 1.3 * med_h]
    if len(typical) < 3:
        return boxes
    # offsets from the number's centre, in the page's typical number height
    # (a single number's box height varies with commas and specks)
    ah = statistics.median(r.anchor.height for r in rows)
    dtop = statistics.median((b.top - r.anchor.cy) / ah for r, b in typical)
    dbot = statistics.median((b.bottom - r.anchor.cy) / ah for r, b in typical)
    dleft = statistics.median(b.left - r.anchor.left for r, b in typical)
    dright = statistics.median(b.right - r.anchor.left for r, b in typical)
    out: list[NameBox | None] = []
    for r, b in zip(rows, boxes):
        a = r.anchor
        if b is None:
            b = NameBox(a.left + dleft, a.cy + dtop * ah, a.left + dright, a.cy + dbot * ah, False)
            if b.top < y0:
                b = None
        else:
            # names are left-aligned: a box starting right of the others missed
            # the name's first glyphs (decorated letters the page pass skipped, or an overlay)
            b.cut_left = b.left - (a.left + dleft) > CUT_LEFT * med_h
            b.left = min(b.left, a.left + dleft)
            if b.bottom - b.top > 1.3 * med_h:
                cy = (b.top + b.bottom) / 2
                b = NameBox(b.left, cy - med_h / 2, b.right, cy + med_h / 2, True, (b.top, b.bottom))
        out.append(b)
    return out


def plan_fields(defn: KindDefinition, page: Page, rows: list[RowCtx], cropper: Cropper) -> None:
    W = page.W
    above: dict[str, list[NameBox | None]] = {}
    start = _find_first(page, defn.rows.start_after)
    y0 = start.bottom if start else 0
    for f in defn.fields:
        if f.source == "above":
            found = [_above_box(page, r, f, _col_bounds(defn, r, W)[1]) for r in rows]
            above[f.name] = _learned_boxes(rows, found, y0) if f.type == "name" else found
    for ri, r in enumerate(rows):
        a = r.anchor
        h = a.height
        cl, cr = _col_bounds(defn, r, W)
        band_segs = [s for s in page.segs
                     if s.cy >= r.top and s.cy <= r.bottom and s.right > cl and s.left < cr]
        r.band_text = "\n".join(s.text for s in band_segs)
        for f in defn.fields:
            if f.source == "anchor":
                pad = 0.3 * h
                box = (a.left - 1.3 * pad, a.top - pad, a.right + pad, a.bottom + pad)
                r.reqs[f.name] = [cropper.add(box, text_h=h)]
                db = _digit_box(a, re.compile(defn.rows.anchor))
                wl = f.whitelist or "0123456789,."
                # the number's left edge is estimated from character proportions:
                # pad generously so a leading digit is never clipped (6 -> 5)
                cut_inside_word = db[0] > a.left + 1
                dbox = (db[0] - (2 * pad if cut_inside_word else pad), db[1] - pad, db[2] + pad, db[3] + pad)
                r.reqs[f.name].append(cropper.add(dbox, wl, text_h=h))
                r.reqs[f.name].append(cropper.add(dbox, wl, text_h=h, mode="gray"))
            elif f.source in ("above", "same_line"):
                xr = f.x_range or (0.0, 1.0)
                if f.source == "above":
                    nb = above[f.name][ri]
                    if nb is None:
                        r.reqs[f.name] = None
                        continue
                    top, bot, x0, x1 = nb.top, nb.bottom, nb.left, nb.right
                    if f.required and nb.seen:
                        r.name_h = bot - top
                        r.name_cut = nb.cut_left
                else:
                    lo, hi = xr[0] * W, xr[1] * W
                    top, bot = a.top - 0.15 * h, a.bottom + 0.15 * h
                    x0, x1 = lo, hi
                ph = 0.25 * (bot - top) + 2
                left = x0 - ph if f.source == "above" else x0  # same_line windows start at the column edge
                r.reqs[f.name] = [cropper.add((left, top - ph, x1, bot + ph), text_h=bot - top, mode=m,
                                              letters=f.type == "name")
                                  for m in f.modes]
                if f.source == "above" and nb.full:
                    ft, fb = nb.full
                    fph = 0.25 * (fb - ft) + 2
                    r.reqs[f.name][0].cjk_box = (left, ft - fph, x1, fb + fph)
            elif f.source == "region":
                xr = f.x_range or (0.0, 1.0)
                box = (xr[0] * W, r.top, xr[1] * W, r.bottom)
                r.reqs[f.name] = [cropper.add(box, f.whitelist, text_h=h * 1.2, mode=m) for m in f.modes]
            elif f.source == "below":
                xr = f.x_range or (0.0, 0.2)
                box = (a.left + xr[0] * W, a.bottom + 0.1 * h, a.left + xr[1] * W, a.bottom + f.max_dy * h)
                r.reqs[f.name] = [cropper.add(box, f.whitelist, text_h=h, mode=m, small=True) for m in f.modes]


def _ocr_int(results: list[CropResult], pattern: str | None) -> tuple[int | None, float]:
    """Combine the full-text pass and the digits-only pass of a number.

    The digits pass wins when it yields a well-grouped number; otherwise the
    number following the label in the full pass is used.
    """
    cands: list[tuple[int, float, bool]] = []
    for i, cr in enumerate(results):
        if cr is None or not cr.text:
            continue
        t = cr.text.replace(" ", "")
        toks = re.findall(r"\d[\d,.]*\d|\d", t)
        if not toks:
            continue
        tok = max(toks, key=len).strip(",.")
        val = num.parse_int(tok)
        if val is None:
            continue
        cands.append((val, cr.conf, num.grouping_ok(tok)))
    if not cands:
        return None, 0.0
    vals = [c[0] for c in cands]
    if len(set(vals)) == 1:
        return vals[0], min(100.0, max(c[1] for c in cands) + 5)
    # majority vote over the passes; ties go to well-grouped, then confident reads
    counts = Counter(vals)
    top = max(counts.values())
    pool = [c for c in cands if counts[c[0]] == top]
    pick = max(pool, key=lambda c: (c[2], c[1]))
    return pick[0], pick[1] * (0.85 if top > 1 else 0.6)


def _abbrev_text(results: list[CropResult]) -> tuple[str | None, int | None, float]:
    cands = []
    for cr in results:
        if cr is None:
            continue
        t = cr.text.replace(" ", "").replace(",", ".")
        m = re.search(r"(\d{1,3}(?:\.\d)?)([MKB])", t, re.I)
        if m:
            txt = m.group(1) + m.group(2).upper()
            cands.append((txt, cr.conf))
    if cands:
        if len({c[0] for c in cands}) == 1:
            txt, conf = cands[0][0], max(c[1] for c in cands) + 5
        else:
            txt, conf = max(cands, key=lambda c: c[1])
            conf *= 0.7
        return txt, num.parse_abbrev(txt), min(conf, 100.0)
    for cr in results:  # suffix lost: 505.91 -> 505.9M is the common misread
        if cr is None:
            continue
        m = re.search(r"(\d{1,4})[.,](\d)", cr.text.replace(" ", ""))
        if m:
            txt = f"{m.group(1)}.{m.group(2)}M"
            return txt, num.parse_abbrev(txt), cr.conf * 0.6
    return None, None, 0.0


def resolve_fields(defn: KindDefinition, page: Page, rows: list[RowCtx]) -> None:
    for r in rows:
        for f in defn.fields:
            val: Any = None
            conf = None
            reqs = r.reqs.get(f.name)
            results = [q.result for q in reqs] if reqs else []
            if f.source == "anchor" and f.type == "int":
                val, conf = _ocr_int(results, defn.rows.anchor)
                if val is None:  # fall back to the page pass
                    m = re.search(defn.rows.anchor, r.anchor.text, re.I)
                    g = next((x for x in (m.groups() if m else ()) if x), None)
                    val = num.parse_int(g) if g else None
                    conf = r.anchor.conf * 0.5
            elif f.type == "abbrev":
                txt, val, conf = _abbrev_text(results)
                if f.text_of:
                    r.values[f.text_of] = txt
            elif f.type == "int":
                best = None
                for cr in results:
                    m = re.fullmatch(r"\D{0,2}(\d{1,4})\D{0,2}", cr.text.strip()) if cr else None
                    if m and (best is None or cr.conf > best[1]):
                        best = (int(m.group(1)), cr.conf)
                val, conf = best if best else (None, None)
            elif f.type == "name":
                best_name = _name_reads(reqs)
                if best_name:
                    val, conf, r.name_votes = best_name
                    r.name_conf = conf
                    sfx = reqs[0].suffix if reqs else ""
                    if sfx and not _CJK.search(val):
                        val += sfx
                    if not val:
                        val = None
                if f.text_of and val:
                    tag, rest = split_tag(val)
                    r.values[f.text_of] = tag
                    val = rest
            elif f.type == "text" and f.source in ("below", "region"):
                best = None
                for cr in results:
                    m = re.search(r"\d+", cr.text) if cr else None
                    if m and (best is None or cr.conf > best[1]):
                        best = (m.group(0), cr.conf)
                val = best[0] if best else None
            elif f.source == "band":
                if f.type == "flag":
                    val = bool(re.search(f.pattern or "", r.band_text, re.I))
                elif f.type == "choice":
                    val = f.default
                    for value, rx in f.options:
                        m = re.search(rx, r.band_text, re.I)
                        if m:
                            val = value.format(*([None] + list(m.groups())))
                            break
            elif f.source == "section":
                val = _section(page, r, f)
            if val is None and f.default is not None:
                val = f.default
            r.values[f.name] = val
            if conf is not None:
                r.confs.append(max(0.0, min(100.0, conf)) / 100.0)


def _name_reads(reqs: list[CropReq] | None) -> tuple[str, float, int] | None:
    """Voted name from the Latin passes; a plausible CJK read (only added by
    ``_cjk_retry`` when the Latin passes were unsure) wins when surer."""
    latin, cjk = [], []
    for q in reqs or []:
        cr = q.result
        if cr is None or not cr.text:
            continue
        words = _trim_noise(cr.words)
        cand = clean_name(" ".join(w.text for w in words))
        c = sum(w.conf for w in words) / len(words) if words else 0.0
        if cand:
            (latin if q.key[1] == "eng" else cjk).append((cand, c))
    best = vote_name(latin)
    for cand, c in cjk:
        if best is None or c > best[1]:
            best = (cand, c, 1)
    return best


TIEBREAK_MODE = "white"
# a name no two passes agree on is dropped below this confidence (0..100):
# such reads are mostly garbage from decorative glyphs or foreign scripts
# (unless it starts with the page's alliance tag: then the read is anchored
# on a real name line and only its decorations are unreadable)
UNSURE_NAME_CONF = 35.0


def _tiebreak_names(defn: KindDefinition, rows: list[RowCtx], cropper: Cropper) -> None:
    """Queue a third read for names whose two passes disagree (see ``vote_name``).

    Only disagreeing names pay for it; the white-glyph mode suits the outlined
    white names on blue cards, where the two Otsu passes disagree most."""
    for r in rows:
        for f in defn.fields:
            reqs = r.reqs.get(f.name)
            if f.type != "name" or not reqs:
                continue
            best = _name_reads(reqs)
            if best is None or best[2] < 2:
                q0 = reqs[0]
                reqs.append(cropper.add(q0.box, text_h=q0.text_h, mode=TIEBREAK_MODE, letters=True))


CJK_LANG = "eng+chi_tra+jpn"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
CJK_RETRY_BELOW = 70.0
CJK_SCALES = (1.0, 0.83)  # text height factors: glyphs at ~40 px and ~48 px


def _cjk_retry(defn: KindDefinition, rows: list[RowCtx], cropper: Cropper) -> list:
    """Re-read unsure names with the CJK models (``必須認真``, ``Stevieツ``).

    Loading chi_tra+jpn costs ~0.3 s per batch, so only names the Latin pass
    read with low confidence are retried.  The CJK models are sensitive to
    the glyph scale, so each name is read at two scales in the same batch.
    """
    name_fields = [f for f in defn.fields if f.type == "name"]
    retry = []
    for r in rows:
        for f in name_fields:
            reqs = r.reqs.get(f.name)
            if not reqs:
                continue
            best = max((q.result.conf for q in reqs if q.result and q.result.text), default=0.0)
            if best < CJK_RETRY_BELOW:
                q0 = reqs[0]
                box = q0.cjk_box or q0.box
                th = q0.text_h * (box[3] - box[1]) / (q0.box[3] - q0.box[1]) if q0.text_h else None
                qs = [cropper.add(box, lang=CJK_LANG, text_h=th * k if th else None) for k in CJK_SCALES]
                retry.append((reqs, qs))
    return retry


def _cjk_accept(retry: list) -> None:
    """After ``cropper.run()``: keep the plausible CJK reads of ``_cjk_retry``."""
    for reqs, qs in retry:
        reads = [q for q in qs if q.result and q.result.text]
        plausible = [q for q in reads if _cjk_plausible(q.result.text, reqs)]
        if plausible:
            reqs.append(max(plausible, key=lambda q: q.result.conf))
            continue
        suffix = next((sx for q in reads if (sx := _kana_suffix(q.result.text, reqs))), None)
        if suffix:
            for other in reqs:
                other.suffix = suffix


def _cjk_plausible(text: str, reqs: list[CropReq]) -> bool:
    """Accept a CJK read only when it is mostly CJK (``必須認真``) or is the
    Latin read plus a CJK/kana suffix (``Stevie`` -> ``Stevieツ``)."""
    letters = [ch for ch in text if ch.isalnum()]
    cjk = [ch for ch in letters if _CJK.match(ch)]
    if not cjk:
        return False
    if len(cjk) >= 0.6 * len(letters):
        return True
    return False


# A kana after a Latin name is nearly always the "smiley" ツ; the jpn model
# often reads it as its mirror image ソ.
_KANA_LOOKALIKE = {"ソ": "ツ"}


def _kana_suffix(text: str, reqs: list[CropReq]) -> str | None:
    """``Stevie ツ`` after a Latin read ``Stevie``: the single CJK/kana glyph the
    Latin model cannot see, to append to the Latin read."""
    m = re.search(r"([A-Za-z0-9])\s*(" + _CJK.pattern + r")\W*$", text)
    if not m or len(_CJK.findall(text)) != 1 or unicodedata.category(m.group(2)) != "Lo":
        return None  # "ー" and other marks are not letters of a name
    latin = "".join(ch for ch in text[: m.end(1)] if ch.isalnum()).casefold()
    for q in reqs:
        if q.result and q.result.text and not _CJK.search(q.result.text):
            other = "".join(ch for ch in q.result.text if ch.isalnum()).casefold()
            if latin and (latin == other or other.endswith(latin) or latin.endswith(other)):
                return _KANA_LOOKALIKE.get(m.group(2), m.group(2))
    return None


def _repair_tags(defn: KindDefinition, rows: list[RowCtx]) -> None:
    """Members of one alliance share a tag: restore it where OCR garbled the
    brackets of one row (see ``repair_known_tag``)."""
    for f in defn.fields:
        if f.type != "name" or f.text_of:
            continue
        tag = common_tag([r.values.get(f.name) for r in rows])
        if tag:
            for r in rows:
                if r.values.get(f.name):
                    r.values[f.name] = repair_known_tag(r.values[f.name], tag)
                    r.tag_confirmed = r.values[f.name].startswith(f"[{tag}]")


TEXT_H = 40  # text height crops are scaled to by ``ocr_batch``


def _trim_noise(words: list) -> list:
    """Drop leading/trailing specks that are avatar or icon edges, not name text.

    Only short, low-confidence words at the ends go; spaced names such as
    ``D A D D Y`` are read with high confidence and survive.
    """
    # punctuation specks (avatar edges) must not seed a line of their own
    ws = [w for w in words if any(ch.isalnum() for ch in w.text)]
    # keep the text line with the most letters (names are single-line; other
    # lines in the crop are slivers of neighbouring text)
    if ws:
        h = max(w.height for w in ws)
        lines: list[list] = []
        for w in sorted(ws, key=lambda w: w.cy):
            if lines and abs(statistics.fmean(x.cy for x in lines[-1]) - w.cy) < 0.5 * h:
                lines[-1].append(w)
            else:
                lines.append([w])
        ws = max(lines, key=lambda ln: sum(ch.isalnum() for w in ln for ch in w.text))
        ws.sort(key=lambda w: w.left)
    def noise(w, neighbour, max_len=2) -> bool:
        t = w.text
        if not any(ch.isalnum() for ch in t):
            return True
        if len(t) > max_len or w.conf >= 55:
            return False
        # a short unsure word is a speck unless it sits at normal word spacing
        # from the rest of the name ("I am nobody")
        if neighbour is None:
            # a lone word is the whole name when it has the text line's height
            return len(t) < 2 or not 0.7 * TEXT_H <= w.height <= 1.5 * TEXT_H
        gap = max(neighbour.left - w.right, w.left - neighbour.right)
        return gap > 0.6 * max(w.height, neighbour.height)
    while ws and noise(ws[0], ws[1] if len(ws) > 1 else None):
        ws = ws[1:]
    while ws and noise(ws[-1], ws[-2] if len(ws) > 1 else None, 3):
        ws = ws[:-1]
    return ws


def _section(page: Page, r: RowCtx, f: RowField) -> str | None:
    rx = re.compile(f.pattern or "")
    xr = f.x_range or (0.0, 1.0)
    best = None
    for s in page.segs:
        if s.bottom <= r.anchor.top and xr[0] * page.W <= s.left <= xr[1] * page.W:
            m = rx.match(s.text.strip())
            if m and (best is None or s.bottom > best[0]):
                best = (s.bottom, m.group(1))
    if best is None:
        return None
    return re.sub(r"^RS$", "R5", best[1])


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
            if missing:
                reason = f"row cut off or covered: {', '.join(missing)} not visible"
        if reason:
            dropped.append({"row": _public(defn, r), "reason": reason})
        else:
            kept.append(r)
    # the capturer's pinned bar repeats a visible row: same name as a row above
    name_f = next((f for f in defn.fields if f.type == "name"), None)
    if spec.pinned_last and name_f and len(kept) > 1:
        last = kept[-1]
        key = name_key(_full_name(last, name_f))
        if key and any(fuzz.ratio(key, name_key(_full_name(o, name_f))) >= 90 for o in kept[:-1]):
            dropped.append({"row": _public(defn, last), "reason": "pinned self-row repeats a row above"})
            kept = kept[:-1]
    if spec.sequence_field and kept:
        pinned_seen = any(d["reason"].startswith("pinned") for d in dropped)
        kept, d2, w2 = _repair_sequence(defn, kept, pinned_seen)
        dropped += d2
        warnings += w2
    return kept, dropped, warnings


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
    the sequence is the pinned self-row of the capturer.

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
                dropped.append({"row": _public(defn, r),
                                "reason": "pinned self-row (offset bar below the list)"})
                continue
            if isinstance(v, int) and v != exp:
                if defn.rows.pinned_policy == "keep" and v >= 1 and v not in seen:
                    kept.append(r)
                    continue
                dropped.append({"row": _public(defn, r),
                                "reason": f"pinned self-row out of sequence ({f} {v}, expected {exp})"})
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


def _public(defn: KindDefinition, r: RowCtx) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in defn.fields:
        if f.text_of and f.type == "name":
            out[f.text_of] = r.values.get(f.text_of)
        out[f.name] = r.values.get(f.name)
        if f.text_of and f.type == "abbrev":
            out[f.text_of] = r.values.get(f.text_of)
    return out


def _reading_order(rows: list[RowCtx]) -> list[RowCtx]:
    """Top to bottom; cards side by side on one visual row go left to right."""
    out: list[list[RowCtx]] = []
    for r in sorted(rows, key=lambda r: r.anchor.cy):
        if out and abs(out[-1][0].anchor.cy - r.anchor.cy) < 0.6 * r.anchor.height:
            out[-1].append(r)
        else:
            out.append([r])
    return [r for grp in out for r in sorted(grp, key=lambda r: r.anchor.left)]


def layout_scores(page: Page, definitions: dict[str, KindDefinition]) -> dict[str, tuple[float, str]]:
    """Structural evidence for kinds that declare ``layout_weight``: enough
    row anchors of the kind's exact shape at the kind's position (for lists
    scrolled past every title)."""
    out: dict[str, tuple[float, str]] = {}
    for name, d in definitions.items():
        if d.layout_weight <= 0 or d.rows is None:
            continue
        probe = d.model_copy(update={"rows": d.rows.model_copy(update={"start_after": None})})
        n = len(find_anchors(probe, page))
        if n >= d.layout_min_rows:
            out[name] = (d.layout_weight, f"{n} row anchors of {name} layout")
    return out


CLIPPED = 0.88  # a first or last row whose number is this much shorter than the page's is cut by the list's edge
CLIPPED_NAME = 0.7  # names vary more (capitals, descenders): only a much shorter one is cut
CUT_LEFT = 1.6  # name heights a name may start right of the column's names (a skipped ornament) before it is hidden


def _cut_off(rows: list[RowCtx]) -> dict[int, str]:
    """Rows the list's edge or an overlay cuts, and why: the first or last of a column whose number or name
    is shorter than the others' (the edge), or whose name starts right of where the others start."""
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
            if r.anchor.height < CLIPPED * ah or (nh and r.name_h and r.name_h < CLIPPED_NAME * nh):
                out.setdefault(i, "row cut off at the edge of the list")
    return out


def cross_check(defn: KindDefinition, page: Page, kept: list[RowCtx], public: list[dict[str, Any]],
                meta: dict[str, Any]) -> list[str]:
    """Check the rows against what the screen says (checks.py); re-read a failing number with the
    second reader, and mark what still fails, or was cut off, as doubtful in `public`."""
    warnings: list[str] = []
    order = defn.rows.sequence_field if defn.rows.sequence == "ascending" else None
    doubts = check_rows(defn.checks, public, meta, order)
    second = TesseractReader() if page.reader.name != "tesseract" else None
    for i, fields in sorted(doubts.items()):
        for f, why in list(fields.items()):
            reqs = kept[i].reqs.get(f) or []
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
    name_field = next((f.name for f in defn.fields if f.type == "name"), None)
    for i, why in _cut_off(kept).items():
        public[i]["partial"] = True
        if why.startswith("the name"):
            cut = [name_field]
        else:
            cut = [f.name for f in defn.fields if f.type in ("int", "abbrev") and public[i].get(f.name) is not None]
        for f in [c for c in cut if c] or [name_field]:
            doubts.setdefault(i, {}).setdefault(f, why)
    for i, fields in doubts.items():
        if fields:
            public[i]["doubtful"] = sorted(fields)
            public[i]["doubt_reasons"] = dict(sorted(fields.items()))
    return warnings


def extract_page(im: Image.Image, forced_kind: str | None, definitions: dict[str, KindDefinition],
                 reader: Reader | None = None):
    """Run the whole pipeline on a decoded image; returns a dict for ``Extraction``."""
    page = analyse_page(im, reader)
    if forced_kind:
        kind, conf, evidence = forced_kind, 1.0, [f"kind forced to {forced_kind}"]
    else:
        kind, conf, evidence = classify(page.text, definitions, layout_scores(page, definitions))
    res: dict[str, Any] = {"kind": kind, "confidence": conf, "evidence": evidence, "meta": {},
                           "rows": [], "row_confidence": [], "dropped_rows": [], "warnings": []}
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
    cropper.run()
    cjk = _cjk_retry(defn, rows, cropper)
    _tiebreak_names(defn, rows, cropper)
    cropper.run()
    _cjk_accept(cjk)
    resolve_fields(defn, page, rows)
    _repair_tags(defn, rows)
    kept, dropped, warns = validate_rows(defn, page, rows)
    kept = _reading_order(kept)
    res["rows"] = [_public(defn, r) for r in kept]
    warns += cross_check(defn, page, kept, res["rows"], meta)
    res["row_confidence"] = [round(sum(r.confs) / len(r.confs), 3) if r.confs else 0.5 for r in kept]
    res["dropped_rows"] = dropped
    res["warnings"] += warns
    return res
