"""Python in the Whiteout Survival pack, and why: `observatory demo` draws look-alike screens of this game
(bear damage, contribution, roster) for a first look without real screenshots, and drawing needs code.

A pack with demo screens exposes `SCREENS`: kind -> function(random.Random) -> (image, label).
"""
from .draw import FontMissing
from .screens import SCREENS

__all__ = ["FontMissing", "SCREENS"]
