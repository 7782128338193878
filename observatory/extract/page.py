"""Stage 1, the page (I/O): the reader's text runs as segments and lines, and re-reading regions.

`analyse_page` asks the reader once for the whole page; `Cropper` collects the regions
the later stages want read again and asks the reader for them in as few calls as
possible. Everything else in extraction works on what these return.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from PIL import Image

from .ocr import CropResult, Segment, Word, segments
from .readers import Box, Reader, TesseractReader, clamp_box


@dataclass
class Page:
    image: Image.Image
    segs: list[Segment]
    lines: list[list[Segment]]
    reader: Reader = field(default_factory=TesseractReader)
    words: list[Word] = field(default_factory=list)  # the reader's page pass, in image pixels

    def read(self, boxes: list[Box], *, whitelist: str | None = None, lang: str = "eng",
             text_heights: list[float | None] | None = None, mode: str = "auto", psm: int = 6,
             letters: bool = False, small: bool = False, fresh: bool = False) -> list[CropResult]:
        """What each region of the image says, from the page's reader (`letters`: the regions hold names;
        `small`: a small glyph such as a badge's digit; `fresh`: read the pixels again, not the page
        pass's text runs, which can miss a detached piece such as the `(7)` after a name)."""
        return self.reader.regions(self.image, [] if fresh else self.words, boxes, whitelist=whitelist, lang=lang,
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


@dataclass
class CropReq:
    box: tuple[int, int, int, int]
    key: tuple[str, str, str, bool, bool, bool]  # (whitelist, lang, mode, words expected, small glyph, fresh read)
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
            text_h: float | None = None, mode: str = "auto", letters: bool = False, small: bool = False,
            fresh: bool = False) -> CropReq:
        req = CropReq(clamp_box(self.im, box), (whitelist or "", lang, mode, letters, small, fresh), text_h)
        self.reqs.append(req)
        return req

    def run(self) -> None:
        groups: dict[tuple[str, str, str, bool, bool, bool], list[CropReq]] = {}
        for r in self.reqs:
            if r.result is None:
                groups.setdefault(r.key, []).append(r)
        for (wl, lang, mode, letters, small, fresh), reqs in groups.items():
            res = self.page.read([r.box for r in reqs], whitelist=wl or None, lang=lang,
                                 text_heights=[r.text_h for r in reqs], mode=mode, letters=letters, small=small,
                                 fresh=fresh)
            for r, cr in zip(reqs, res):
                r.result = cr


def find_first(page: Page, pattern: str | None) -> Segment | None:
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


def digit_box(seg: Segment, rx: re.Pattern) -> tuple[int, int, int, int]:
    """Box of the number inside an anchor segment (label words cut off; a word run into the
    number's end, such as a place `9th` after a score `64`, cut off too)."""
    words = [w for w in seg.words if re.search(r"\d", w.text)]
    if not words:
        return seg.box()
    first = words[0]
    idx = next(i for i, ch in enumerate(first.text) if ch.isdigit())
    left = first.left + first.width * idx / max(1, len(first.text))
    return (int(left), seg.top, _number_right(seg, rx) or words[-1].right, seg.bottom)


def _number_right(seg: Segment, rx: re.Pattern) -> int | None:
    """Where the anchor's number ends, when a word of letters and digits follows it in the same
    text run (`64·9th`): estimated from the characters' share of the run's width."""
    m = rx.search(seg.text)
    span = next((m.span(i) for i in range(1, (m.re.groups if m else 0) + 1) if m.group(i)), None)
    if span is None or not re.search(r"\w\w", seg.text[span[1]:]):
        return None
    pos = 0
    for w in seg.words:
        if pos <= span[1] <= pos + len(w.text):
            return int(w.left + w.width * (span[1] - pos) / max(1, len(w.text)))
        pos += len(w.text) + 1
    return None


def bg_brightness(im: Image.Image, box) -> float:
    """Median gray level of a region: the background colour behind a text."""
    crop = im.crop(box).convert("L")
    hist = crop.histogram()
    half, acc = sum(hist) / 2, 0
    for i, h in enumerate(hist):
        acc += h
        if acc >= half:
            return float(i)
    return 0.0


INK_LEVEL = 48  # grey levels from the background that make a pixel ink
INK_SHARE = 0.03  # share of ink pixels that make a region hold something (a name's glyphs cover 8-17%)


def has_ink(im: Image.Image, box) -> bool:
    """Whether a region holds glyphs, read or not: enough pixels far from its background (the median)."""
    hist = im.crop(box).convert("L").histogram()
    total, acc, bg = sum(hist), 0, 0
    for i, n in enumerate(hist):
        acc += n
        if acc >= total / 2:
            bg = i
            break
    ink = sum(n for i, n in enumerate(hist) if abs(i - bg) > INK_LEVEL)
    return total > 0 and ink >= INK_SHARE * total


TEXT_H = 40  # text height crops are scaled to by ``ocr_batch``


def trim_noise(words: list) -> list:
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
