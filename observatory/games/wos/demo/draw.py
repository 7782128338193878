"""Drawing helpers shared by the demo screens: fonts, cards, avatars, medals."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H = 1080, 2340  # the real screens' size (a 1080x2340 Android phone)

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]
BG = (22, 40, 66)
WHITE = (255, 255, 255)
CARD = {1: (245, 194, 66), 2: (124, 200, 240), 3: (232, 168, 136)}
CARD_PLAIN = (216, 236, 250)
INK = {1: (170, 95, 20), 2: (40, 110, 170), 3: (170, 80, 60)}
INK_PLAIN = (70, 110, 160)
DARK = (40, 50, 70)


class FontMissing(RuntimeError):
    pass


@lru_cache(maxsize=None)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for d in FONT_DIRS:
        if (d / name).exists():
            return ImageFont.truetype(str(d / name), size)
    raise FontMissing(f"font {name} not found (install fonts-dejavu-core: scripts/setup.sh does)")


def canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    im = Image.new("RGB", (W, H), BG)
    return im, ImageDraw.Draw(im)


def avatar(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int], seed: str) -> None:
    """A simple generated portrait: a coloured tile with a head and shoulders, distinct per name."""
    h = hashlib.sha256(seed.encode()).digest()
    x0, y0, x1, y1 = box
    d.rounded_rectangle(box, 10, fill=(h[0] // 2 + 60, h[1] // 2 + 60, h[2] // 2 + 80), outline=WHITE, width=4)
    cx, w = (x0 + x1) // 2, x1 - x0
    skin = (230 - h[3] % 60, 190 - h[4] % 60, 160 - h[5] % 50)
    d.ellipse((cx - w // 5, y0 + w // 5, cx + w // 5, y0 + w // 5 + 2 * w // 5), fill=skin)
    d.pieslice((x0 + w // 8, y1 - w // 3, x1 - w // 8, y1 + w // 3), 180, 360, fill=(h[6] // 2, h[7] // 2 + 40, h[8] // 2 + 60))


def medal(d: ImageDraw.ImageDraw, centre: tuple[int, int], rank: int, size: int = 52) -> None:
    """Ranks 1-3: a shield with the number, like the game's medals; others: a plain tile."""
    x, y = centre
    if rank <= 3:
        rim = {1: (200, 120, 20), 2: (110, 120, 150), 3: (150, 60, 40)}[rank]
        d.regular_polygon((x, y, 56), 6, fill=rim, outline=(250, 230, 160), width=4)
        d.text((x, y), str(rank), font=font(size, True), fill=WHITE, anchor="mm", stroke_width=3, stroke_fill=(90, 60, 20))
    else:
        d.rounded_rectangle((x - 62, y - 50, x + 62, y + 50), 12, fill=(190, 215, 238))
        d.text((x, y), str(rank), font=font(size, True), fill=(60, 80, 110), anchor="mm")


@dataclass(frozen=True, slots=True)
class CardLayout:
    """x positions in pixels, vertical offsets from the card's top; name/score also carry a font size."""

    x: tuple[int, int]
    medal_x: int
    avatar: tuple[int, int, int]  # left, top offset, size
    name: tuple[int, int, int]  # x, dy, size
    score: tuple[int, int, int, str]  # x, dy, size, anchor


def ranked_card(d: ImageDraw.ImageDraw, lay: CardLayout, y: int, rank: int, name: str, score: str) -> None:
    """One row of a ranking: card coloured by rank, medal, portrait, name and score."""
    d.rounded_rectangle((lay.x[0], y, lay.x[1], y + 180), 18, fill=CARD.get(rank, CARD_PLAIN), outline=WHITE, width=3)
    medal(d, (lay.medal_x, y + 90), rank)
    ax, ady, size = lay.avatar
    avatar(d, (ax, y + ady, ax + size, y + ady + size), name)
    d.text((lay.name[0], y + lay.name[1]), name, font=font(lay.name[2]), fill=DARK, anchor="lm")
    sx, sdy, ssize, anchor = lay.score
    d.text((sx, y + sdy), score, font=font(ssize, True), fill=INK.get(rank, INK_PLAIN), anchor=anchor)
