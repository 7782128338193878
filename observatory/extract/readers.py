"""The OCR readers: the only I/O of extraction besides decoding the image.

A reader answers two questions about one decoded page: what text runs are on the
whole page (`page`), and what does each of these regions say (`regions`). The
rest of the pipeline (locating rows and fields, voting, validation) only sees
`Word`s and `CropResult`s, so it does not know which reader made them.

- `RapidReader` (default): PP-OCRv6 detection and recognition through
  `rapidocr` + `onnxruntime`. The models ship inside the `rapidocr` wheel; a
  missing model is a clear `ReaderUnavailable`, never a download.
  A region is answered from the page's own text runs when one lies inside it
  (free), else by recognising the crop (about 20 ms).
- `TesseractReader`: the page in two sparse-text passes and regions in batched
  Tesseract calls with region-specific preprocessing. It is the second reader
  (names and numbers the first is unsure of, scripts PP-OCR lacks) and an engine
  a user can choose.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from PIL import Image
from rapidfuzz import fuzz

from .ink import dark_box
from .ocr import CropResult, Word, ocr_batch, page_words, tesseract_version

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


class ReaderUnavailable(RuntimeError):
    """The reader cannot run here (its package or model files are missing)."""


class Reader(Protocol):
    name: str

    def version(self) -> str: ...

    def page(self, im: Image.Image) -> list[Word]: ...

    def regions(self, im: Image.Image, page: list[Word], boxes: list[Box], *, whitelist: str | None = None,
                lang: str = "eng", text_heights: list[float | None] | None = None, mode: str = "auto",
                psm: int = 6, letters: bool = False, small: bool = False) -> list[CropResult]:
        """What each region says. `letters`: the regions hold words (names), so a reading without a
        letter is not an answer and may be asked of another reader. `small`: the regions hold a small
        glyph (a badge's digit) a text detector may pass over, so nothing found may be asked again."""


def clamp_box(im: Image.Image, box: Box) -> tuple[int, int, int, int]:
    """`box` in whole pixels inside `im`, at least 2 px each way."""
    l, t, r, b = (int(v) for v in box)
    l, t = max(0, l), max(0, t)
    return l, t, min(im.width, max(r, l + 2)), min(im.height, max(b, t + 2))


class TesseractReader:
    name = "tesseract"

    def version(self) -> str:
        return f"tesseract-{tesseract_version()}"

    def page(self, im: Image.Image) -> list[Word]:
        return page_words(im)

    def regions(self, im, page, boxes, *, whitelist=None, lang="eng", text_heights=None, mode="auto", psm=6,
                letters=False, small=False):
        cfg = f"--psm {psm}"
        if whitelist:
            cfg += f" -c tessedit_char_whitelist={whitelist}"
        crops = [im.crop(clamp_box(im, b)) for b in boxes]
        return ocr_batch(crops, config=cfg, lang=lang, text_heights=text_heights, mode=mode)


# ------------------------------------------------------------------ rapidocr

_DET_SIDE = 960  # detection on the long side scaled to this: 1.2 CPU s per 1080x2340 page, text still ~20 px


def _rapid_models(models: Path | None = None) -> Path:
    """The folder of the shipped PP-OCRv6 models; ReaderUnavailable (never a download) when they are not there."""
    if models is None:
        try:
            import rapidocr
        except ImportError as e:  # pragma: no cover - rapidocr is a dependency
            raise ReaderUnavailable(f"the rapidocr reader needs the rapidocr package: {e}") from e
        models = Path(rapidocr.__file__).parent / "models"
    need = ["PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"]
    missing = [n for n in need if not (models / n).is_file()]
    if missing:
        # rapidocr would try to download them: refuse instead (no network at run time)
        raise ReaderUnavailable(f"rapidocr models missing from {models}: {', '.join(missing)} "
                                "(install the rapidocr wheel, which ships them; nothing is downloaded)")
    return models


_engine = None


def _rapid_engine():
    """One engine per process (worker), built on first use: loading the models costs ~0.3 s and 150 MB."""
    global _engine
    if _engine is None:
        models = _rapid_models()
        for name in ("RapidOCR", "rapidocr"):
            logging.getLogger(name).setLevel(logging.WARNING)
        from rapidocr import RapidOCR

        _engine = RapidOCR(params={
            "Global.use_cls": False, "Global.log_level": "warning", "Global.return_word_box": True,
            "Det.limit_type": "max", "Det.limit_side_len": _DET_SIDE,
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
            # one thread: the processor runs one worker per core
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
    return _engine


def _rapid_version() -> str:
    try:
        from importlib.metadata import version

        return f"rapidocr-{version('rapidocr')}+onnxruntime-{version('onnxruntime')}"
    except Exception:  # pragma: no cover
        return "rapidocr-unknown"


_GLYPH = 0.6  # detection boxes are unclipped (ratio 1.6): the glyphs fill about 0.55-0.6 of their height


def _pieces(txt: str, words, l: float, r: float, h: float) -> list[tuple[str, float, float]]:
    """A detected run split where its words stand apart (`[KIL]ShadowWarriors   19,237,434,928`
    is one run to the detector, two columns to the screen)."""
    parts = [(str(t), min(p[0] for p in b), max(p[0] for p in b)) for t, _, b in (words or ()) if str(t).strip()]
    if len(parts) < 2:
        return [(txt, l, r)]
    out = [list(parts[0])]
    for t, pl, pr in parts[1:]:
        if pl - out[-1][2] > 0.5 * h:
            out.append([t, pl, pr])
        else:
            out[-1][0] += " " + t
            out[-1][2] = pr
    if len(out) == 1:
        return [(txt, l, r)]
    return [(t, pl, pr) for t, pl, pr in out]


def _words_of(result) -> list[Word]:
    """Page text runs as Words with glyph-tight boxes.

    PP-OCR's boxes carry a margin of about a fifth of their height on every side;
    the kinds' layouts are measured in glyph heights (as Tesseract reports them),
    so the margin is taken off.
    """
    out = []
    boxes = result.boxes if result.boxes is not None else []
    word_results = getattr(result, "word_results", None) or [None] * len(boxes)
    for box, txt, score, words in zip(boxes, result.txts or (), result.scores or (), word_results):
        if not str(txt).strip():
            continue
        xs = [p[0] for p in box]
        ys = [p[1] for p in box]
        l, t, r, b = min(xs), min(ys), max(xs), max(ys)
        m = (b - t) * (1 - _GLYPH) / 2
        for text, pl, pr in _pieces(str(txt).strip(), words, l, r, b - t):
            pl, pr = (pl + m, pr - m) if pr - pl > 4 * m else (pl, pr)
            out.append(Word(text.strip(), round(pl), round(t + m), max(1, round(pr - pl)),
                            max(1, round(b - t - 2 * m)), float(score) * 100))
    return out


def _inside(w: Word, box: Box) -> bool:
    """Mostly inside: a run that only grazes the region's padding belongs to the next line or column."""
    ix = min(w.right, box[2]) - max(w.left, box[0])
    iy = min(w.bottom, box[3]) - max(w.top, box[1])
    return ix >= 0.5 * max(1, w.width) and iy >= 0.6 * max(1, w.height)


TALLER = 1.25  # a run this much taller than a number's region spans two lines (`99` over `96` read as `995`)


def _fits(w: Word, box: Box, letters: bool) -> bool:
    """A run answers a region when it is mostly inside it and, for numbers, no taller than it."""
    return _inside(w, box) and (letters or w.height <= TALLER * (box[3] - box[1]))


def _keep(text: str, whitelist: str | None) -> str:
    if not whitelist:
        return text
    return "".join(ch for ch in text if ch in whitelist or ch == " ").strip()


_ICON = re.compile(r"^[^\w,.]{0,2}[xX×+*#]?[^\w,.]{0,2}$")


SCRIPTS_MISSING = "eng+kor"  # PP-OCRv6 reads Latin, Chinese and kana, but no Hangul (EOS 이오스 -> EOS 0)
SURE_NAME = 98.0  # PP-OCRv6 reads a plain Latin name at 99+; the Hangul it guessed at came out at 93.6
_EAST_ASIAN = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _second_reading(im: Image.Image, boxes: list[tuple[int, int, int, int]], heights: list[float | None],
                 read: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Names the first reader was not sure of are read again by Tesseract (with its Hangul model), in one call for
    the page. Its reading is taken where it holds East Asian letters and agrees with the first reader on
    everything else (`[K98] EOS`), since then the first reader's version of those letters (`0|`) was a guess;
    and where the two differ only between a capital I and a small l, which the first reader cannot tell apart."""
    unsure = [i for i, (_, conf) in enumerate(read) if conf < SURE_NAME]
    if not unsure:
        return read
    again = TesseractReader().regions(im, [], [boxes[i] for i in unsure], lang=SCRIPTS_MISSING,
                                      text_heights=[heights[i] for i in unsure])
    second = {i: cr for i, cr in zip(unsure, again)}
    out = list(read)
    for i, cr in second.items():
        txt, conf = read[i]
        tag, first = _untag(" ".join(txt.split()))
        other = _untag(" ".join(cr.text.split()))[1]  # Tesseract garbles bracketed tags ([981): keep the first's
        if _only_i_and_l(first, other):  # `ljebu` / `Ijebu`: where the first reader is unsure, the second decides
            out[i] = (f"{tag} {other.strip(_EDGE)}".strip(), max(conf, cr.conf))
            continue
        if not _EAST_ASIAN.search(other) or _EAST_ASIAN.search(first):
            continue
        latin = " ".join(_EAST_ASIAN.sub(" ", other).split())
        if latin and len(latin) >= 0.4 * len(first) and fuzz.ratio(latin, first[:len(latin)]) >= 85:
            out[i] = (f"{tag} {other}".strip(), max(conf * 0.9, cr.conf))
    return out


_EDGE = " .,'’`|"


def _only_i_and_l(a: str, b: str) -> bool:
    """The two readings differ, and only where one has a capital I and the other a small l (the same glyph in
    many UI fonts)."""
    a, b = a.strip(_EDGE), b.strip(_EDGE)
    pairs = [(x, y) for x, y in zip(a, b) if x != y]
    return len(a) == len(b) and bool(pairs) and all({x, y} == {"I", "l"} for x, y in pairs)


_TAG = re.compile(r"^(\[[^\]\s]{0,6}[\]|1l)])\s*(.*)$")


def _untag(text: str) -> tuple[str, str]:
    m = _TAG.match(text)
    return (m.group(1), m.group(2)) if m else ("", text)


def _arabic(cr: CropResult) -> CropResult | None:
    """A confident Arabic reading, its words in reading order (Tesseract lists them left to right)."""
    letters = [ch for ch in cr.text if ch.isalpha()]
    arabic = [ch for ch in letters if "\u0600" <= ch <= "\u06ff"]
    if len(arabic) < 2 or len(arabic) < 0.5 * len(letters) or cr.conf < 70:
        return None
    if not cr.words:
        return None
    text = " ".join(w.text for w in reversed(cr.words))
    left, top = min(w.left for w in cr.words), min(w.top for w in cr.words)
    right, bottom = max(w.right for w in cr.words), max(w.bottom for w in cr.words)
    # one word: whoever lays words out left to right must not undo the right-to-left order
    return CropResult(text, cr.conf, [Word(text, left, top, right - left, bottom - top, cr.conf)], cr.offset, cr.scale)


def _latin(cr: CropResult) -> CropResult | None:
    """A confident reading with letters (a decorated name PP-OCRv6 dropped)."""
    return cr if sum(ch.isalpha() for ch in cr.text) >= 2 and cr.conf >= 75 else None


SECOND_READINGS = (("ara", _arabic), ("eng", _latin))


@dataclass
class RapidReader:
    """PP-OCRv6 through rapidocr. Regions inside a page text run reuse it."""

    name: str = "rapidocr"
    # Tesseract's second readings of this page, by (image, box, language): every pass of a field asks once
    _second: dict = field(default_factory=dict, repr=False)

    def version(self) -> str:
        return _rapid_version()

    def page(self, im: Image.Image) -> list[Word]:
        return _words_of(_rapid_engine()(im.convert("RGB"), use_det=True, use_cls=False, use_rec=True))

    def recognise(self, im: Image.Image, boxes: list[Box]) -> list[tuple[str, float]]:
        """Recognition only, one line per crop: what a crop says when the page pass had nothing there."""
        eng = _rapid_engine()
        out = []
        for b in boxes:
            crop = im.crop(clamp_box(im, b)).convert("RGB")
            r = eng(crop, use_det=False, use_cls=False, use_rec=True)
            txt = " ".join(str(t) for t in (r.txts or ()) if str(t).strip())
            score = min((float(s) for s in (r.scores or ())), default=0.0)
            out.append((txt, score * 100))
        return out

    def regions(self, im, page, boxes, *, whitelist=None, lang="eng", text_heights=None, mode="auto", psm=6,
                letters=False, small=False):
        if mode == "dark":  # the field's own dark glyphs only: a light badge after them is no part of it (ink.py)
            heights = text_heights or [None] * len(boxes)
            cut = [dark_box(im, clamp_box(im, box), h or (box[3] - box[1]) * 0.6) for box, h in zip(boxes, heights)]
            read = self.recognise(im, cut)
            if letters:
                read = _second_reading(im, cut, heights, read)
            return [CropResult(_keep(txt, whitelist), conf, [Word(_keep(txt, whitelist), 0, 0, r - l, b - t, conf)])
                    if _keep(txt, whitelist) else CropResult("", 0.0, [])
                    for (txt, conf), (l, t, r, b) in zip(read, cut)]
        out: list[CropResult] = []
        todo: list[int] = []
        for i, box in enumerate(boxes):
            l, t, r, b = clamp_box(im, box)
            inside = sorted((w for w in page if _fits(w, (l, t, r, b), letters)), key=lambda w: (round(w.cy / 20), w.left))
            numeric = bool(whitelist) and any(ch.isdigit() for ch in whitelist)
            icons = [w for w in inside if numeric and _ICON.match(w.text)]  # only numbers sit behind icons
            runs = [w for w in inside if w not in icons]
            if numeric:
                # a number box that swallowed the icon before it: read it again from the icon's right edge
                if icons and runs:
                    todo.append(i)
                    out.append(CropResult("", 0.0, []))
                    continue
            words = [Word(_keep(w.text, whitelist), w.left - l, w.top - t, w.width, w.height, w.conf)
                     for w in runs if _keep(w.text, whitelist)]
            if not words:
                todo.append(i)
                out.append(CropResult("", 0.0, []))
                continue
            out.append(CropResult(" ".join(w.text for w in words), min(w.conf for w in words), words))
        if todo:
            crops = []
            for i in todo:
                l, t, r, b = clamp_box(im, boxes[i])
                icons = [w for w in page if _inside(w, (l, t, r, b)) and _ICON.match(w.text)]
                if icons and whitelist and any(ch.isdigit() for ch in whitelist):
                    l = max(l, max(w.left + w.width for w in icons))
                crops.append((l, t, r, b))
            for i, box, (txt, conf) in zip(todo, crops, self.recognise(im, crops)):
                txt = _keep(txt, whitelist)
                if txt:
                    l, t, r, b = box
                    ox = box[0] - clamp_box(im, boxes[i])[0]
                    out[i] = CropResult(txt, conf, [Word(txt, ox, 0, r - l, b - t, conf)])
        if letters:
            self._read_letterless(im, boxes, out, text_heights)
        elif small:
            # a small glyph the detector passed over (a furnace badge's digit): Tesseract reads the region
            empty = [i for i, cr in enumerate(out) if not cr.text]
            if empty:
                heights = [text_heights[i] if text_heights else None for i in empty]
                again = TesseractReader().regions(im, [], [boxes[i] for i in empty], whitelist=whitelist, lang=lang,
                                                  text_heights=heights, mode=mode, psm=psm)
                for i, cr in zip(empty, again):
                    out[i] = cr
        return out

    def _read_letterless(self, im: Image.Image, boxes: list[Box], out: list[CropResult],
                         text_heights: list[float | None] | None) -> None:
        """Name regions left without a letter are read by Tesseract: first in the scripts PP-OCRv6 lacks
        (Arabic: `اياد المصري` is nothing or `99` to it), then in Latin letters. A reading is taken only
        when it is confident; otherwise the first reader's answer stands.

        Each crop is read at two scales, the name's text height and the crop's whole height, and the
        surer reading counts: the height hint is measured on Latin letters, and Arabic glyphs read at
        one scale or the other can lose their confidence (64 against 91 on one sample, the reverse on another).
        """
        unsure = [i for i, cr in enumerate(out) if not any(ch.isalpha() for ch in cr.text)]
        for lang, accept in SECOND_READINGS:
            if not unsure:
                return
            key = lambda i: (id(im), clamp_box(im, boxes[i]), lang)  # noqa: E731 - both passes of a name share one read
            ask = [i for i in unsure if key(i) not in self._second]
            if ask:
                crops = [boxes[i] for i in ask]
                hinted = [text_heights[i] if text_heights else None for i in ask]
                scales = [TesseractReader().regions(im, [], crops, lang=lang, text_heights=heights, psm=6)
                          for heights in (hinted, None)]
                for n, i in enumerate(ask):
                    taken = [r for r in (accept(scale[n]) for scale in scales) if r is not None]
                    self._second[key(i)] = max(taken, key=lambda r: r.conf) if taken else None
            left = []
            for i in unsure:
                got = self._second[key(i)]
                if got is None:
                    left.append(i)
                else:
                    out[i] = got
            unsure = left


READERS = {"rapidocr": RapidReader, "tesseract": TesseractReader}


def reader_for(name: str | None = None) -> Reader:
    """The reader named by `name`, or by OBSERVATORY_OCR_READER in a worker's environment (default rapidocr)."""
    name = name or os.environ.get("OBSERVATORY_OCR_READER") or "rapidocr"
    try:
        return READERS[name]()
    except KeyError:
        raise ReaderUnavailable(f"unknown OCR reader {name!r}; expected one of {', '.join(READERS)}") from None
