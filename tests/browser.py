"""Real headless Chromium for the browser tests: its path, and a selenium driver on it.

Missing Chromium is a failure, never a skip: `scripts/setup.sh` (run by `make test` and CI)
installs Debian's `chromium` and `chromium-driver`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

MISSING = "not installed: `scripts/setup.sh` (run by `make test` and CI) installs Debian's chromium and chromium-driver"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(f"chromium {MISSING}")
    return path


def chromedriver() -> str:
    path = shutil.which("chromedriver")
    if path is None:
        pytest.fail(f"chromedriver {MISSING}")
    return path


@contextmanager
def driver(width: int = 1300, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium driven by selenium through Debian's chromedriver (nothing is downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(chromedriver()), options=options)
    try:
        yield browser
    finally:
        browser.quit()
