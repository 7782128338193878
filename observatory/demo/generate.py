"""Writing demo screenshots into the inbox: deterministic per seed, each file appearing whole."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from importlib import import_module

from ..games import packs


def screens() -> dict[str, Any]:
    """Every pack's demo screens (a pack's `demo` module, if it has one), by kind."""
    out: dict[str, Any] = {}
    for pack in packs():
        try:
            module = import_module(f"observatory.games.{pack.game}.demo")
        except ModuleNotFoundError:
            continue
        out.update(module.SCREENS)
    return out


SCREENS = screens()


@dataclass(frozen=True, slots=True)
class DemoShot:
    path: Path
    label: dict[str, Any]


def plan(seed: int, count: int) -> list[tuple[str, int]]:
    """(kind, per-image seed) for each image: the kinds in turn, so any count of 3+ shows them all."""
    kinds = list(SCREENS)
    rng = random.Random(seed)
    return [(kinds[i % len(kinds)], rng.randrange(1 << 30)) for i in range(count)]


def generate(folder: Path, *, seed: int = 1, count: int = 3, when: datetime | None = None) -> list[DemoShot]:
    """Render `count` screenshots into `folder` (temp dot-name, then rename: the inbox ignores dot files)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = (when or datetime.now(timezone.utc)).replace(microsecond=0)
    out = []
    for i, (kind, image_seed) in enumerate(plan(seed, count)):
        im, label = SCREENS[kind](random.Random(image_seed))
        stamp = (base - timedelta(minutes=count - i)).strftime("%Y%m%d_%H%M%S")
        path = folder / f"Screenshot_{stamp}_Demo_{kind}_s{seed}.png"
        tmp = folder / f".{path.name}.tmp"
        im.save(tmp, format="PNG", optimize=False)
        os.replace(tmp, path)
        out.append(DemoShot(path, {"file": path.name, **label}))
    return out
