"""Screen-level values (meta): regexes over the page text, the highlighted tab, section headers,
and values re-read from their own strip."""
from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from typing import Any

from . import numbers as num
from .models import KindDefinition, MetaField
from .names import clean_name, vote_name
from .ocr import Segment, image_words, segments
from .page import Page, bg_brightness, build_lines, find_first, trim_noise


def _region_read(page: Page, rx: str, factor: float, cache: dict) -> tuple[str, list]:
    """Re-OCR the full-width strip just above a landmark phrase (e.g. a header
    bar whose light-on-colour text the page pass missed): its text and its
    words in image coordinates."""
    key = (rx, factor)
    if key in cache:
        return cache[key]
    seg = find_first(page, rx)
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
        if mf.type == "block_total":
            continue  # read once the rows are located (`block_meta`)
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
        if mf.region_above and not any(find_first(page, rx) for rx in mf.options.values()):
            # the page pass missed every tab: look for them in the strip re-read
            segs = segments(_region_read(page, mf.region_above, mf.region_h, cache)[1])
            tabs = Page(page.image, segs, build_lines(segs), page.reader, page.words)
        for value, rx in mf.options.items():
            seg = find_first(tabs, rx)
            if seg is None:
                continue
            h = seg.height
            box = (seg.left - h, seg.top - h // 2, seg.right + h, seg.bottom + h // 2)
            b = bg_brightness(page.image, box)
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
        reads = [(" ".join(w.text for w in trim_noise(p[i].words)), p[i].conf) for p in passes]
        best = vote_name([(t, c) for t, c in reads if re.fullmatch(r"[A-Za-z][A-Za-z ]{2,}", t)])
        out.append(f"{badge} {best[0]}" if best and best[2] >= 2 else badge)
    return out


TOTAL_NUMBER = r"^\D{0,2}(\d[\d,.]*)\D{0,2}$"


def block_meta(defn: KindDefinition, page: Page, rows: list, meta: dict[str, Any]) -> None:
    """`block_total` meta: the totals a screen shows per block of rows (a team's score beside or
    above its column), numbers much taller than the rows' own. Each total belongs to the block whose
    rows' centre is nearest it; each block takes one total. Needs the located rows (`locate.RowCtx`)."""
    wanted = [mf for mf in defn.meta if mf.type == "block_total"]
    if not wanted:
        return
    for mf in wanted:
        meta.setdefault(mf.name, None)
    if not rows:
        return
    ah = statistics.median(r.anchor.height for r in rows)
    centres: dict[int, tuple[float, float]] = {}
    for b in sorted({r.block for r in rows}):
        members = [r.anchor for r in rows if r.block == b]
        centres[b] = (statistics.fmean((a.left + a.right) / 2 for a in members), statistics.fmean(a.cy for a in members))
    for mf in wanted:
        rx = re.compile(mf.pattern or TOTAL_NUMBER)
        big = [(s, num.parse_int(m.group(mf.group))) for s in page.segs
               if s.height >= mf.min_height * ah and (m := rx.search(s.text))]
        pairs = sorted(((math.dist(((s.left + s.right) / 2, s.cy), c), b, id(s), v)
                        for s, v in big if v is not None for b, c in centres.items()))
        taken_b: set[int] = set()
        taken_s: set[int] = set()
        for _, b, sid, v in pairs:
            if b in taken_b or sid in taken_s:
                continue
            taken_b.add(b)
            taken_s.add(sid)
            if b == mf.block:
                meta[mf.name] = v
