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
