"""Tesseract access, region preprocessing and word layout.

All Tesseract calls go through here so that every call runs with
``OMP_THREAD_LIMIT=1`` (the caller runs a process pool; OpenMP threads inside
each Tesseract would oversubscribe the cores).  Region crops are OCRed in
*batches*: crops are normalised to a common text height, stacked into one
image and recognised in a single Tesseract call, which saves the ~60 ms
process start-up per crop.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageOps

os.environ["OMP_THREAD_LIMIT"] = "1"
import pytesseract  # noqa: E402  (env var must be set first)

log = logging.getLogger(__name__)


@dataclass
class Word:
    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float  # 0..100

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def cy(self) -> float:
        return self.top + self.height / 2


@dataclass
class Segment:
    """Words on one visual line that sit close together (a label, a value)."""

    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.right for w in self.words)

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.bottom for w in self.words)

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def conf(self) -> float:
        return sum(w.conf for w in self.words) / len(self.words)

    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)


def tesseract_version() -> str:
    try:
        return str(pytesseract.get_tesseract_version())
    except Exception:  # pragma: no cover - only when tesseract is missing
        return "unknown"


def min_channel(im: Image.Image) -> Image.Image:
    """Darkest of R,G,B per pixel.

    White text keeps 255 on any saturated card colour while the card drops
    low, so light-on-colour text gets strong contrast; dark text stays dark.
    """
    r, g, b = im.convert("RGB").split()
    return ImageChops.darker(ImageChops.darker(r, g), b)


def _otsu(hist: list[int]) -> tuple[int, float]:
    total = sum(hist)
    if total == 0:
        return 128, 0.0
    sum_all = sum(i * h for i, h in enumerate(hist))
    w0 = s0 = 0.0
    best_t, best_v = 128, -1.0
    for t in range(256):
        w0 += hist[t]
        if w0 == 0:
            continue
        w1 = total - w0
        if w1 == 0:
            break
        s0 += t * hist[t]
        m0, m1 = s0 / w0, (sum_all - s0) / w1
        v = w0 * w1 * (m0 - m1) ** 2
        if v > best_v:
            best_v, best_t = v, t
    return best_t, best_v / (total * total)


def prepare_region(crop: Image.Image, target_h: int = 40, binarize: bool = True,
                   text_h: float | None = None, mode: str = "auto") -> Image.Image:
    """Make a crop Tesseract-friendly: best-contrast channel, dark text on white.

    The channel (gray, min-channel, R, G, B) with the widest Otsu class
    separation is used, which handles white-on-blue cards as well as orange
    text on gold cards.  Text is assumed to be the minority class; the image
    is inverted when the minority is bright.  Crops are scaled so the text
    line is about ``target_h`` px tall.
    """
    rgb = crop.convert("RGB")
    scale = target_h / max(1.0, text_h or crop.height)
    if mode in ("white", "dark"):
        # Fixed-level modes for outlined glyphs (white fill, dark outline) where
        # Otsu splits on the outline instead of the fill.
        src = min_channel(rgb) if mode == "white" else rgb.convert("L")
        if abs(scale - 1) > 0.05:
            src = src.resize((max(1, round(src.width * scale)), max(1, round(src.height * scale))),
                             Image.LANCZOS)
        if mode == "white":
            return src.point(lambda p: 0 if p >= 244 else 255)
        return src.point(lambda p: 0 if p <= 100 else 255)
    cands = [rgb.convert("L"), min_channel(rgb), *rgb.split()]
    best, best_v, best_t = cands[0], -1.0, 128
    # statistics from the left 85% only: text is left-aligned in its crop and a
    # crop's right end often runs past the card onto the panel border
    inner = (0, 0, max(1, int(crop.width * 0.85)), crop.height)
    for c in cands:
        t, v = _otsu(c.crop(inner).histogram())
        if v > best_v:
            best, best_v, best_t = c, v, t
    hist = best.crop(inner).histogram()
    dark = sum(hist[: best_t + 1])
    light = sum(hist[best_t + 1:])
    img = best
    if dark > light:  # background is dark -> invert so text is dark on white
        img = ImageOps.invert(img)
        best_t = 255 - best_t
    if abs(scale - 1) > 0.05:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.LANCZOS)
    if binarize:
        img = img.point(lambda p, t=best_t: 255 if p > t else 0)
    else:
        img = ImageOps.autocontrast(img, cutoff=1)
    return img


def _data_to_words(d: dict, dx: int = 0, dy: int = 0, scale: float = 1.0) -> list[Word]:
    out = []
    for i, txt in enumerate(d["text"]):
        if not txt or not txt.strip():
            continue
        conf = float(d["conf"][i])
        if conf < 0:
            continue
        out.append(Word(txt.strip(), round(d["left"][i] / scale) + dx, round(d["top"][i] / scale) + dy,
                        round(d["width"][i] / scale), round(d["height"][i] / scale), conf))
    return out


def uncompressed(img: Image.Image) -> Image.Image:
    """Hand Tesseract a PNM file (Pillow's PPM writer, P5 for gray): pytesseract writes PNG by
    default, and compressing every page and strip cost ~9% of an extraction for bytes read once."""
    if img.mode in ("L", "RGB"):
        img.format = "PPM"
    return img


def page_words(im: Image.Image, lang: str = "eng") -> list[Word]:
    """Sparse-text OCR of the whole page for layout and classification.

    Two passes: the min-channel image (white text on coloured cards) and plain
    gray (dark text on gold/orange cards, where the min channel is dark).
    Words of the second pass are added where the first found nothing.
    """
    out: list[Word] = []
    for img in (min_channel(im), im.convert("L")):
        d = pytesseract.image_to_data(uncompressed(img), lang=lang, config="--psm 11",
                                      output_type=pytesseract.Output.DICT)
        for w in _data_to_words(d):
            if not any(_overlap(w, o) for o in out):
                out.append(w)
    return out


def _overlap(a: Word, b: Word) -> bool:
    ix = min(a.right, b.right) - max(a.left, b.left)
    iy = min(a.bottom, b.bottom) - max(a.top, b.top)
    if ix <= 0 or iy <= 0:
        return False
    return ix * iy > 0.3 * min(a.width * a.height, b.width * b.height)


def segments(words: list[Word], gap_factor: float = 0.9) -> list[Segment]:
    """Group words into line segments: same line, similar height, small gap.

    Tall low-confidence "words" are avatar/icon artwork; they are dropped so
    they cannot glue a name to unrelated text.
    """
    if not words:
        return []
    med_h = sorted(w.height for w in words)[len(words) // 2]
    ws = [w for w in words
          if not (w.height > 2.2 * med_h and w.conf < 60)
          and not (w.conf < 20 and not any(ch.isalnum() for ch in w.text))]
    segs: list[Segment] = []
    for w in sorted(ws, key=lambda w: w.left):
        placed = False
        for s in segs:
            last = s.words[-1]
            ov = min(last.bottom, w.bottom) - max(last.top, w.top)
            h = max(1, min(last.height, w.height))
            similar = max(last.height, w.height) <= 1.8 * h
            if similar and ov > 0.5 * h and 0 <= w.left - last.right <= gap_factor * max(last.height, w.height) + 6:
                s.words.append(w)
                placed = True
                break
        if not placed:
            segs.append(Segment([w]))
    segs.sort(key=lambda s: (round(s.cy), s.left))
    return segs


@dataclass
class CropResult:
    text: str
    conf: float  # 0..100, mean word confidence (0 when nothing read)
    words: list[Word]
    # where the crop sat on the OCR sheet: sheet = (crop - 0) * scale + offset
    offset: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)


def image_words(cr: CropResult, box: tuple[float, float, float, float]) -> list[Word]:
    """The words of a crop's result in the coordinates of the image the crop
    was cut from at ``box``."""
    (dx, dy), (sx, sy) = cr.offset, cr.scale
    l, t = int(box[0]), int(box[1])
    return [Word(w.text, round(l + (w.left - dx) / sx), round(t + (w.top - dy) / sy),
                 round(w.width / sx), round(w.height / sy), w.conf) for w in cr.words]


def ocr_batch(crops: list[Image.Image], *, config: str = "--psm 6", lang: str = "eng",
              target_h: int = 40, binarize: bool = True,
              text_heights: list[float | None] | None = None, mode: str = "auto") -> list[CropResult]:
    """OCR many small single-line crops in one Tesseract call.

    Each crop is normalised (``prepare_region``), stacked vertically with white
    gaps, recognised once, and words are assigned back to the crop whose band
    contains the word centre.
    """
    if not crops:
        return []
    ths = text_heights or [None] * len(crops)
    if mode == "gray":  # best channel and polarity, but leave thresholding to Tesseract
        mode, binarize = "auto", False
    prepped = [prepare_region(c, target_h, binarize, th, mode) for c, th in zip(crops, ths)]
    gap = int(target_h * 1.5)
    pad = target_h // 2
    width = max(p.width for p in prepped) + 2 * pad
    height = sum(p.height for p in prepped) + gap * (len(prepped) + 1)
    sheet = Image.new("L", (width, height), 255)
    spans = []
    y = gap
    for p in prepped:
        sheet.paste(p, (pad, y))
        spans.append((y, y + p.height))
        y += p.height + gap
    d = pytesseract.image_to_data(uncompressed(sheet), lang=lang, config=config,
                                  output_type=pytesseract.Output.DICT)
    words = _data_to_words(d)
    buckets: list[list[Word]] = [[] for _ in prepped]
    for w in words:
        for i, (a, b) in enumerate(spans):
            if a - gap / 2 <= w.cy <= b + gap / 2:
                buckets[i].append(w)
                break
    out = []
    for ws, c, p, (a, _) in zip(buckets, crops, prepped, spans):
        ws.sort(key=lambda w: (round(w.cy / target_h), w.left))
        text = " ".join(w.text for w in ws)
        conf = sum(w.conf for w in ws) / len(ws) if ws else 0.0
        out.append(CropResult(text, conf, ws, (pad, a), (p.width / max(1, c.width), p.height / max(1, c.height))))
    return out
