"""The pages as a browser draws them: headless Chromium on a real server (fails without chromium)."""

from __future__ import annotations

import importlib.util

import pytest
from PIL import Image

from browser import chromium
from observatory.serve import DatasetteServer
from observatory.settings import load_settings
from polling import free_port
from paths import REPO
from stores import build_projection

pytestmark = pytest.mark.slow  # a real server and headless Chromium: seconds per page


def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "scripts" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def colours_in(png, box) -> int:  # type: ignore[no-untyped-def]
    with Image.open(png) as img:
        return len(img.convert("RGB").crop(box).getcolors(maxcolors=1 << 20) or [])


def test_the_chart_and_the_thumbnails_are_drawn(home, samples_dir, tmp_path):
    browser = chromium()
    settings = load_settings()
    build_projection(settings, sorted(samples_dir.glob("*.jpg")))
    script = load_script()
    server = DatasetteServer(settings, "127.0.0.1", free_port())
    server.start()
    try:
        script.render(browser, f"{server.url}-/dashboards/hunts/damage", tmp_path / "chart.png", "1000,700")
        script.render(browser, f"{server.url}observatory/hunt_leaderboard", tmp_path / "board.png", "1400,900")
    finally:
        server.stop()
    # the bar: Vega-Lite's default blue (#4c78a8); the page around it (nav bar, links) has a few hundred such pixels
    with Image.open(tmp_path / "chart.png") as img:
        raw = img.convert("RGB").tobytes()
        pixels = zip(raw[0::3], raw[1::3], raw[2::3])
        bar = sum(1 for r, g, b in pixels if abs(r - 76) < 12 and abs(g - 120) < 12 and abs(b - 168) < 12)
    assert bar > 5000, bar
    # real thumbnails in the screenshot_id column: thousands of colours, where text and flat boxes give under 1,000
    assert colours_in(tmp_path / "board.png", (0, 0, 1400, 900)) > 3000
