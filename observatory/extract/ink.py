"""Where a field's own ink ends: a name in dark letters followed by a badge whose digits are light.

Games put level badges, crowns and icons right after a name; the detector reads them as part of
the name's text run (`Triple X25` for `Triple X` and a crown showing 25). A field declared with
`modes: [dark]` is read from its dark glyphs only: the box is cut after the last run of dark ink,
and trailing specks (a badge's outline) narrower than a glyph stroke are not ink.
"""
from __future__ import annotations

from PIL import Image

DARK = 90          # gray level at or below which a pixel is ink
MIN_PIXELS = 2     # a column with fewer dark pixels is an outline speck, not a glyph


def ink_columns(im: Image.Image, box: tuple[int, int, int, int]) -> list[bool]:
    """Per column of `box`: does it hold dark glyph ink."""
    crop = im.crop(box).convert("L")
    w, h = crop.size
    px = crop.load()
    return [sum(1 for y in range(h) if px[x, y] <= DARK) >= MIN_PIXELS for x in range(w)]


def dark_span(cols: list[bool], text_h: float) -> tuple[int, int] | None:
    """First and last column of the field's dark text, or None when there is none.

    Ink split by a gap of at least half a text height makes words; a trailing word with fewer ink columns
    than a third of the text height is a badge's outline (a few thin strokes), not a word of the name.
    """
    words: list[list[int]] = []  # [first column, last column, columns with ink]
    for x, ink in enumerate(cols):
        if not ink:
            continue
        if words and x - words[-1][1] < 0.5 * text_h:
            words[-1][1] = x
            words[-1][2] += 1
        else:
            words.append([x, x, 1])
    if not words:
        return None
    while len(words) > 1 and words[-1][2] < 0.3 * text_h:
        words.pop()
    return words[0][0], words[-1][1]


def dark_box(im: Image.Image, box: tuple[int, int, int, int], text_h: float) -> tuple[int, int, int, int]:
    """`box` cut to its dark text, with a margin of a third of the text height (the box itself when no ink)."""
    span = dark_span(ink_columns(im, box), text_h)
    if span is None:
        return box
    l, t, r, b = box
    pad = round(text_h / 3)
    return l, t, min(r, l + span[1] + 1 + pad), b


def text_height(im: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many pixel rows of `box` hold the text's ink (the minority class of an Otsu split): the glyphs' own
    height, steadier than a detector's box, which varies by a sixth with the digits and commas inside."""
    crop = im.crop(box).convert("L")
    hist = crop.histogram()
    total = sum(hist)
    if not total:
        return 0
    mean = sum(i * n for i, n in enumerate(hist)) / total
    best, split = -1.0, 128
    below = below_sum = 0.0
    for t in range(255):
        below += hist[t]
        below_sum += t * hist[t]
        if not below or below == total:
            continue
        m0, m1 = below_sum / below, (mean * total - below_sum) / (total - below)
        between = below * (total - below) * (m0 - m1) ** 2
        if between > best:
            best, split = between, t
    dark_is_text = sum(hist[:split + 1]) < total / 2
    px = crop.load()
    w, h = crop.size
    rows = [y for y in range(h)
            if sum(1 for x in range(w) if (px[x, y] <= split) == dark_is_text) >= MIN_PIXELS]
    return rows[-1] - rows[0] + 1 if rows else 0
