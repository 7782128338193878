"""Stage 2, locate (pure but for the anchor probe): one anchor per row, the row bands, and the
regions each field is read from, planned as requests on a `Cropper`."""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Any

from .models import KindDefinition, RowField
from .ocr import Segment, Word, image_words
from .page import Cropper, Page, digit_box, find_first


CUT_LEFT = 1.6  # name heights a name may start right of the column's names (a skipped ornament) before it is hidden


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
    name_top: float | None = None   # the name line as the page pass saw it (is the row at the list's edge?)
    name_bottom: float | None = None
    name_suspect: str | None = None  # why the name reading may lack letters: the second reader is asked (validate)
    name_doubt: str | None = None    # why the name cannot be trusted: the row is kept, its name doubtful
    block: int = 1                  # which block of rows (a team) the row sits in, 1 = first


def find_anchors(defn: KindDefinition, page: Page) -> list[RowCtx]:
    spec = defn.rows
    assert spec is not None
    rx = re.compile(spec.anchor, re.I)
    start = find_first(page, spec.start_after) if spec.start_after else None
    end = find_first(page, spec.end_before) if spec.end_before else None
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
    dedup = _drop_totals(dedup)
    _trim_tall_anchors(dedup)
    _set_bands(spec, dedup)
    return dedup


TOTAL_H = 2.5  # a number this many times taller than the rows' numbers is a total the screen shows, not a row


def _drop_totals(rows: list[RowCtx]) -> list[RowCtx]:
    """Rows share one font: a number far taller than the others (a team's total beside its
    column) is no row of the list."""
    if len(rows) < 3:
        return rows
    med = statistics.median(r.anchor.height for r in rows)
    return [r for r in rows if r.anchor.height <= TOTAL_H * med]


def layout_rows(defn: KindDefinition, page: Page) -> int:
    """How many rows of the kind's shape the page shows, wherever its titles are: anchors at the
    kind's place, each with the kind's `layout_columns` on its line (a rank left of the score)."""
    probe = defn.model_copy(update={"rows": defn.rows.model_copy(update={"start_after": None})})
    rows = find_anchors(probe, page)
    cols = [(re.compile(c.pattern, re.I), c.x_range) for c in defn.layout_columns]

    def beside(r: RowCtx, rx: re.Pattern, xr: tuple[float, float]) -> bool:
        a = r.anchor
        return any(abs(s.cy - a.cy) < 0.6 * max(a.height, s.height) and xr[0] * page.W <= s.left <= xr[1] * page.W
                   and rx.search(s.text) for s in page.segs)

    return sum(all(beside(r, rx, xr) for rx, xr in cols) for r in rows)


def assign_blocks(spec, rows: list[RowCtx]) -> None:
    """Number the blocks of rows (teams): each column is a block, and within a column a gap of
    `block_gap` row pitches or more starts the next one; blocks count left to right, top to bottom."""
    n = 0
    for c in sorted({r.col for r in rows}):
        col = sorted((r for r in rows if r.col == c), key=lambda r: r.anchor.cy)
        gaps = [b.anchor.cy - a.anchor.cy for a, b in zip(col, col[1:])]
        pitch = statistics.median(gaps) if gaps else 0
        n += 1
        for i, r in enumerate(col):
            if i and spec.block_gap and pitch and gaps[i - 1] >= spec.block_gap * pitch:
                n += 1
            r.block = n


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


PROBE_PITCH = 1.3  # rows closer than this many number heights are not probed (one row's box would reach the next)


def row_pitch(gaps: list[float]) -> float:
    """The distance between neighbouring rows, from the gaps between the rows found: a gap
    spanning k missed rows counts as k pitches (measured against the lower quartile gap), so a list
    with many holes still gives its true pitch."""
    gaps = sorted(g for g in gaps if g > 0)
    if not gaps:
        return 0.0
    q1 = gaps[len(gaps) // 4]
    return statistics.median(g / max(1, round(g / q1)) for g in gaps)


def probe_missing_anchors(defn: KindDefinition, page: Page, rows: list[RowCtx]) -> list[RowCtx]:
    """Rows sit at a regular pitch: re-read the anchor column where the page
    pass left a one-row hole (between two rows, or just above the first row
    when it is still inside the list), and add the rows whose number is found.

    The page pass misses a number now and then (an avatar frame touching it);
    without this the whole row would be lost.
    """
    spec = defn.rows
    rx = re.compile(spec.anchor, re.I)
    start = find_first(page, spec.start_after)
    y0 = start.bottom if start else 0
    # how far above its number a row reaches (its name): the probe above the
    # first row is made only when that row would be wholly inside the list
    reach = max((f.max_dy for f in defn.fields if f.source == "above" and f.required), default=1.0)
    probes: list[tuple[int, float, list[RowCtx]]] = []
    pitches: dict[int, float] = {}
    for c in {r.col for r in rows}:
        col = sorted((r for r in rows if r.col == c), key=lambda r: r.anchor.cy)
        if len(col) < 3:
            continue
        pitch = row_pitch([b.anchor.cy - a.anchor.cy for a, b in zip(col, col[1:])])
        h = statistics.median(r.anchor.height for r in col)
        if pitch < PROBE_PITCH * h:
            continue
        pitches[c] = pitch
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
        # dense rows (a game's results list): the probe stays clear of its neighbours and of the list's edge
        dense = pitches[c] < 2 * h
        half = min(0.9 * h, 0.55 * pitches[c])
        left = min(r.anchor.left for r in col) - 0.2 * h
        right = (statistics.median(r.anchor.right for r in col) + 0.4 * h if dense
                 else max(r.anchor.right for r in col) + 1.5 * h)
        boxes.append((left, cy - half, right, cy + half, h))
    # between two rows the page pass saw nothing that matched: the pixels are read again; above the first
    # row (the list's head or its title) only what the page pass saw is taken
    inner = [i for i, (c, cy, col) in enumerate(probes) if cy > col[0].anchor.cy]
    outer = [i for i in range(len(probes)) if i not in inner]
    reads: list = [None] * len(probes)
    for idx, fresh in ((inner, True), (outer, False)):
        got = page.read([boxes[i][:4] for i in idx], text_heights=[boxes[i][4] for i in idx], fresh=fresh) if idx else []
        for i, cr in zip(idx, got):
            reads[i] = cr
    found = []
    for (c, cy, col), box, cr in zip(probes, boxes, reads):
        words = image_words(cr, box[:4])
        m = rx.search(" ".join(w.text for w in words)) if words else None
        if not m:
            continue
        h = box[4]
        if words and max(w.height for w in words) > 1.4 * h:
            # a reading of the whole probe (not word boxes): the number sits where the column's numbers do
            left = statistics.median(r.anchor.left for r in col)
            right = statistics.median(r.anchor.right for r in col)
            words = [Word(" ".join(w.text for w in words), round(left), round(cy - h / 2), max(1, round(right - left)),
                          round(h), min(w.conf for w in words))]
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


def anchor_edge(defn: KindDefinition, a: Segment) -> float:
    """The x that fields beside a row are measured from: the anchor's aligned edge."""
    return a.right if defn.rows is not None and defn.rows.anchor_align == "right" else a.left


def _above_box(defn: KindDefinition, page: Page, r: RowCtx, f: RowField, col_right: float) -> NameBox | None:
    """The name line above the anchor as found by the page pass (pieces of one
    line the page pass split are merged), or None when nothing is there."""
    a, h, W = r.anchor, r.anchor.height, page.W
    xr = f.x_range or (0.0, 1.0)
    lo, hi = anchor_edge(defn, a) + xr[0] * W, anchor_edge(defn, a) + xr[1] * W
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


def _learned_boxes(defn: KindDefinition, rows: list[RowCtx], boxes: list[NameBox | None],
                   y0: float) -> list[NameBox | None]:
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
    dleft = statistics.median(b.left - anchor_edge(defn, r.anchor) for r, b in typical)
    dright = statistics.median(b.right - anchor_edge(defn, r.anchor) for r, b in typical)
    out: list[NameBox | None] = []
    for r, b in zip(rows, boxes):
        a = r.anchor
        if b is None:
            ax = anchor_edge(defn, a)
            b = NameBox(ax + dleft, a.cy + dtop * ah, ax + dright, a.cy + dbot * ah, False)
            if b.top < y0:
                b = None
        else:
            # names are left-aligned: a box starting right of the others missed
            # the name's first glyphs (decorated letters the page pass skipped, or an overlay)
            b.cut_left = b.left - (anchor_edge(defn, a) + dleft) > CUT_LEFT * med_h
            b.left = min(b.left, anchor_edge(defn, a) + dleft)
            if b.bottom - b.top > 1.3 * med_h:
                cy = (b.top + b.bottom) / 2
                b = NameBox(b.left, cy - med_h / 2, b.right, cy + med_h / 2, True, (b.top, b.bottom))
        out.append(b)
    return out


def plan_fields(defn: KindDefinition, page: Page, rows: list[RowCtx], cropper: Cropper) -> None:
    W = page.W
    assign_blocks(defn.rows, rows)
    above: dict[str, list[NameBox | None]] = {}
    start = find_first(page, defn.rows.start_after)
    y0 = start.bottom if start else 0
    for f in defn.fields:
        if f.source == "above":
            found = [_above_box(defn, page, r, f, _col_bounds(defn, r, W)[1]) for r in rows]
            above[f.name] = _learned_boxes(defn, rows, found, y0) if f.type == "name" else found
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
                db = digit_box(a, re.compile(defn.rows.anchor))
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
                        r.name_top, r.name_bottom = top, bot
                        r.name_cut = nb.cut_left
                else:
                    base = anchor_edge(defn, a) if f.anchor_relative else 0.0
                    lo, hi = base + xr[0] * W, base + xr[1] * W
                    top, bot = a.top - 0.15 * h, a.bottom + 0.15 * h
                    x0, x1 = lo, hi
                ph = 0.25 * (bot - top) + 2
                left = x0 - ph if f.source == "above" else x0  # same_line windows start at the column edge
                r.reqs[f.name] = [cropper.add((left, top - ph, x1, bot + ph), text_h=bot - top, mode=m,
                                              letters=f.type == "name")
                                  for m in f.modes]
                if f.suffix:  # the page pass can miss a detached "(7)": the pixels are read once more
                    r.reqs[f.name + ":suffix"] = [cropper.add((left, top - ph, x1, bot + ph), text_h=bot - top,
                                                              letters=True, fresh=True)]
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
                ax = anchor_edge(defn, a)
                box = (ax + xr[0] * W, a.bottom + 0.1 * h, ax + xr[1] * W, a.bottom + f.max_dy * h)
                r.reqs[f.name] = [cropper.add(box, f.whitelist, text_h=h, mode=m, small=True) for m in f.modes]
