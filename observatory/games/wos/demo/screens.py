"""The demo screens, one function per kind: (image, label) with the label in the samples' format.

Layouts imitate the real 1080x2340 screens (titles, tabs, card colours, where each
field sits) closely enough for the real extractor to read them.
"""

from __future__ import annotations

import random
from typing import Any

from PIL import Image

from . import data
from .draw import DARK, WHITE, CardLayout, avatar, canvas, font, ranked_card

Label = dict[str, Any]
# where things sit on a ranked card: bear cards stack name over "Damage Points: N", contribution cards put both on one line
BEAR_CARD = CardLayout(x=(70, 1010), medal_x=163, avatar=(250, 30, 106), name=(405, 62, 38),
                       score=(405, 120, 36, "lm"))
CONTRIBUTION_CARD = CardLayout(x=(40, 1040), medal_x=122, avatar=(222, 25, 130), name=(380, 90, 38),
                               score=(950, 90, 38, "rm"))
TAB_ON, TAB_OFF = (70, 150, 225), (35, 70, 125)  # white text reads on both; the selected tab is the brighter


def bear_damage(rng: random.Random) -> tuple[Image.Image, Label]:
    im, d = canvas()
    trap = rng.randint(1, 2)
    tag = data.tag(rng)
    players = [f"[{tag}]{n}" for n in data.names(rng, 6)]
    damage = data.descending(rng, 5, 7_000_000_000, 1_500_000_000)
    d.rounded_rectangle((36, 440, 1044, 1990), 24, fill=(225, 236, 248))
    d.rectangle((36, 440, 1044, 530), fill=(70, 120, 190))
    d.text((540, 490), f"Trap {trap} Damage Rewards", font=font(42, True), fill=WHITE, anchor="mm")
    d.rounded_rectangle((64, 560, 530, 670), 16, fill=(240, 246, 252))
    d.text((297, 615), "Damage Ranking", font=font(34, True), fill=(70, 100, 140), anchor="mm")
    d.rounded_rectangle((548, 560, 1018, 670), 16, fill=(70, 140, 210))
    d.text((783, 618), "Personal Damage Rewards", font=font(30, True), fill=WHITE, anchor="mm")
    d.text((236, 720), "Ranking", font=font(32, True), fill=(80, 110, 150), anchor="mm")
    d.text((574, 720), "Damage Points", font=font(32, True), fill=(80, 110, 150), anchor="mm")
    rows = _ranking(d, BEAR_CARD, 760, 204, players, damage, "damage", "Damage Points: {:,}")
    y = 760 + 204 * len(rows)
    me = players[5]
    d.rounded_rectangle((66, y, 1014, y + 180), 18, fill=(60, 130, 210))
    d.text((160, y + 70), "Unran", font=font(30, True), fill=WHITE, anchor="mm")
    d.text((160, y + 110), "ked", font=font(30, True), fill=WHITE, anchor="mm")
    d.text((405, y + 62), me, font=font(38), fill=WHITE, anchor="lm")
    d.text((405, y + 120), "Damage Points: 0", font=font(36, True), fill=WHITE, anchor="lm")
    d.text((540, 2050), "The higher the damage inflicted on the target, the more rewards you get!",
           font=font(26, True), fill=WHITE, anchor="mm")
    return im, {"kind": "bear_damage", "meta": {"trap_id": trap}, "rows": rows}


def contribution(rng: random.Random) -> tuple[Image.Image, Label]:
    im, d = canvas()
    weekly = rng.random() < 0.5
    players = data.names(rng, 7)
    scores = data.descending(rng, 7, 90_000 if weekly else 14_000, 40_000 if weekly else 2_000)
    d.text((140, 140), "Alliance Ranking", font=font(42, True), fill=WHITE, anchor="lm")
    tabs = [((40, 210, 360, 320), "Power Rankings"), ((376, 210, 700, 320), "KO Rankings")]
    for box, text in tabs:
        d.rounded_rectangle(box, 16, fill=TAB_OFF)
        d.text(((box[0] + box[2]) // 2, 275), text, font=font(30, True), fill=WHITE, anchor="mm")
    d.rounded_rectangle((716, 200, 1040, 320), 16, fill=TAB_ON)
    d.text((878, 245), "Contribution", font=font(30, True), fill=WHITE, anchor="mm")
    d.text((878, 292), "Rankings", font=font(30, True), fill=WHITE, anchor="mm")
    for box, text, on in (((40, 350, 525, 455), "Daily Contribution", not weekly),
                          ((555, 350, 1040, 455), "Weekly Contribution", weekly)):
        d.rounded_rectangle(box, 22, fill=TAB_ON if on else TAB_OFF)
        d.text(((box[0] + box[2]) // 2, 403), text, font=font(32, True), fill=WHITE, anchor="mm")
    d.rounded_rectangle((36, 480, 1044, 555), 14, fill=(40, 75, 120))
    for x, text in ((136, "Ranking"), (426, "Chief"), (892, "Contribute")):
        d.text((x, 518), text, font=font(30, True), fill=WHITE, anchor="mm")
    rows = _ranking(d, CONTRIBUTION_CARD, 585, 202, players, scores, "contribution", "{:,}")
    d.rounded_rectangle((330, 2180, 750, 2290), 30, fill=(60, 150, 240))
    d.text((540, 2235), "Contribute", font=font(40, True), fill=WHITE, anchor="mm")
    return im, {"kind": "contribution", "meta": {"period": "weekly" if weekly else "daily"}, "rows": rows}


def _ranking(d: Any, lay: CardLayout, top: int, pitch: int, players: list[str], scores: list[int], field: str,
             fmt: str) -> list[dict[str, Any]]:
    """Cards for ranks 1..n from `top`, one every `pitch` pixels; returns their label rows."""
    rows = []
    for i, (name, score) in enumerate(zip(players, scores), start=1):
        ranked_card(d, lay, top + (i - 1) * pitch, i, name, fmt.format(score))
        rows.append({"rank": i, "name": name, field: score})
    return rows


def _abbrev(power: int) -> str:
    return f"{power / 1_000_000:.1f}M".replace(".0M", "M")


def alliance_members(rng: random.Random) -> tuple[Image.Image, Label]:
    im, d = canvas()
    n_r4 = rng.randint(4, 8)
    players = data.names(rng, n_r4 + 1)
    powers = data.descending(rng, n_r4 + 1, 600, 90)
    powers = [p * 1_000_000 + rng.choice([0, 100_000, 500_000, 900_000]) for p in powers]
    furnaces = [rng.randint(1, 9) for _ in players]
    online = rng.randint(3, 40)
    d.text((140, 140), "Alliance Members", font=font(42, True), fill=WHITE, anchor="lm")
    d.rounded_rectangle((40, 220, 1040, 305), 14, fill=(210, 228, 248))
    d.text((76, 263), "Please search by Chief ID or name", font=font(30), fill=(120, 140, 170), anchor="lm")
    d.rounded_rectangle((270, 352, 810, 418), 30, fill=(40, 75, 120))
    d.text((540, 385), f"Online: {online}/100", font=font(32, True), fill=(220, 232, 245), anchor="mm")
    rows: list[dict[str, Any]] = []
    sections = ["R5"]
    # the leader's card
    d.rounded_rectangle((100, 465, 980, 735), 20, fill=(245, 185, 60))
    d.rounded_rectangle((108, 478, 178, 532), 12, fill=(190, 90, 20))
    d.text((143, 505), "R5", font=font(32, True), fill=WHITE, anchor="mm")
    avatar(d, (115, 540, 235, 660), players[0])
    d.rounded_rectangle((250, 485, 960, 715), 16, fill=(255, 240, 215))
    _member(d, 290, 540, players[0], powers[0], furnaces[0], DARK)  # inside the left column, as the reader expects
    rows.append(_row(players[0], powers[0], furnaces[0], "R5"))
    # the R4 section, expanded: two columns of cards
    r4 = data.section_name(rng, "R4")
    _section(d, 790, "R4", r4, f"{rng.randint(0, n_r4)}/{n_r4 + rng.randint(0, 3)}")
    sections.append(f"R4 {r4}")
    y = 905
    for i in range(n_r4):
        col = i % 2
        x0 = 40 if col == 0 else 555
        d.rounded_rectangle((x0, y, x0 + 485, y + 190), 16, fill=(60, 140, 220))
        avatar(d, (x0 + 22, y + 22, x0 + 160, y + 160), players[i + 1])
        _member(d, x0 + 190, y + 40, players[i + 1], powers[i + 1], furnaces[i + 1], WHITE)
        rows.append(_row(players[i + 1], powers[i + 1], furnaces[i + 1], "R4"))
        if col == 1:
            y += 222
    if n_r4 % 2:
        y += 222
    for tier in ("R3", "R2", "R1"):
        name = data.section_name(rng, tier)
        if y + 75 > 2200:  # a header cut by the screen edge is not read
            break
        _section(d, y + 10, tier, name, f"{rng.randint(0, 9)}/{rng.randint(10, 60)}")
        sections.append(f"{tier} {name}")
        y += 105
    meta = {"online": f"{online}/100", "sections": sections}
    return im, {"kind": "alliance_members", "meta": meta, "rows": rows}


def _row(name: str, power: int, furnace: int, tier: str) -> dict[str, Any]:
    return {"name": name, "power_text": _abbrev(power), "power": power, "furnace_text": str(furnace), "tier": tier}


def _section(d: Any, y: int, tier: str, name: str, count: str) -> None:
    d.rounded_rectangle((70, y, 1010, y + 75), 20, fill=(90, 150, 220))
    d.rounded_rectangle((80, y + 6, 160, y + 69), 14, fill=(40, 70, 120))
    d.text((120, y + 38), tier, font=font(32, True), fill=WHITE, anchor="mm")
    d.text((180, y + 38), name, font=font(32, True), fill=WHITE, anchor="lm")
    d.text((900, y + 38), count, font=font(32, True), fill=WHITE, anchor="rm")


def _member(d: Any, x: int, y: int, name: str, power: int, furnace: int, ink: tuple[int, int, int]) -> None:
    """Name, the power below it, and below that the furnace level badge (its icon stays left of the power's column)."""
    d.text((x, y), name, font=font(34, True), fill=ink, anchor="lm")
    d.text((x, y + 50), _abbrev(power), font=font(32, True), fill=ink, anchor="lm")
    d.rectangle((x - 34, y + 88, x - 12, y + 110), fill=ink)
    d.rounded_rectangle((x + 4, y + 78, x + 48, y + 116), 8, fill=(200, 40, 50))
    d.text((x + 26, y + 97), str(furnace), font=font(30, True), fill=WHITE, anchor="mm")


SCREENS = {"bear_damage": bear_damage, "contribution": contribution, "alliance_members": alliance_members}
