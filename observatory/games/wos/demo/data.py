"""Deterministic, varied demo data: player names, alliance tags and numbers from one seed.

Names are built from syllables, so every seed gives a different but pronounceable
roster; letters that OCR confuses in isolation (l/I/1, O/0) are avoided, because
the point of the demo is rows that come out right.
"""

from __future__ import annotations

import random

_START = ["Val", "Frost", "Ember", "Storm", "Raven", "Wolf", "Nova", "Kai", "Zephyr", "Bram", "Tundra", "Astra",
          "Jax", "Mara", "Rook", "Vex", "Hawk", "Sable", "Tor", "Dusk", "Wren", "Cobalt", "Fenrir", "Quinn"]
_END = ["orin", "bite", "hart", "wind", "crest", "fang", "star", "ex", "ara", "ton", "ward", "mane", "rush", "veig",
        "dar", "ric", "sa", "ven", "ter", "bane", "more", "ka"]
_TAGS = ["HEI", "NRD", "WAR", "ICE", "FRZ", "SUN", "KRN", "VTX"]
_SECTIONS = {"R4": ["Vanguards", "Wardens", "Captains"], "R3": ["RoughNecks", "Riders", "Lancers"],
             "R2": ["Fresh Meat", "Scouts", "Recruits"], "R1": ["Dungeon", "Rookies", "Newcomers"]}


def _clean(name: str) -> str:
    return name.replace("l", "r").replace("I", "E").replace("O", "Q").replace("0", "8")


def names(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        name = rng.choice(_START) + rng.choice(_END)
        if rng.random() < 0.3:
            name += str(rng.randint(2, 99))
        name = _clean(name)
        if name not in out:
            out.append(name)
    return out


def tag(rng: random.Random) -> str:
    return rng.choice(_TAGS)


def descending(rng: random.Random, n: int, top: int, bottom: int) -> list[int]:
    """n distinct integers from about `top` down to about `bottom`, in descending order."""
    values = sorted({rng.randint(bottom, top) for _ in range(n * 3)}, reverse=True)
    while len(values) < n:
        values.append(values[-1] - 1 if values else top)
    picked = sorted(rng.sample(values, n), reverse=True)
    return picked


def section_name(rng: random.Random, tier: str) -> str:
    return rng.choice(_SECTIONS[tier])
