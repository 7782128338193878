"""Name normalization: what makes two readings of a name the same name.

Screens show names with an alliance tag (`[HEI]Valorin`), in any script, sometimes
with zero-width or odd spaces copied from chat. The key ignores case, Unicode
presentation forms, invisible characters and spacing, but keeps every letter: it
must never make two different players equal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E, 0x2061, 0x2062, 0x2063, 0x2064, 0x034F], None
)
_TAG = re.compile(r"^\s*\[\s*([^\[\]\s]{1,6})\s*\]\s*")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    # every kind of space (NBSP, ideographic, thin, ...) becomes one ASCII space
    text = "".join(" " if unicodedata.category(ch) == "Zs" or ch in "\t\r\n" else ch for ch in text)
    return re.sub(r" {2,}", " ", text).strip()


@lru_cache(maxsize=1 << 16)  # pure, and a community's names recur on every screenshot: replay calls it per row
def normalize(text: str) -> str:
    """The comparison key of a name (without its tag): NFKC, case-folded, no invisible or space characters."""
    key = _clean(text).casefold().replace(" ", "")
    # Removing spaces or case-folding can leave a combining mark next to a new base letter;
    # normalize until stable so the key is a fixed point (normalize(normalize(x)) == normalize(x)).
    for _ in range(4):
        again = unicodedata.normalize("NFKC", key).casefold().translate(_INVISIBLE).replace(" ", "")
        if again == key:
            break
        key = again
    return key


@dataclass(frozen=True, slots=True)
class PlayerName:
    display: str  # as shown, cleaned of invisible characters, with the tag
    tag: str | None  # alliance tag without brackets, e.g. "HEI"
    name: str  # the name without the tag
    key: str  # normalize(name)


@lru_cache(maxsize=1 << 16)
def parse_name(shown: str) -> PlayerName:
    """Split `[HEI]Valorin` into tag and name and compute the key."""
    display = _clean(shown)
    tag = None
    m = _TAG.match(display)
    rest = display
    if m and display[m.end():].strip():
        tag = unicodedata.normalize("NFKC", m.group(1)).upper()
        rest = display[m.end():]
    return PlayerName(display=display, tag=tag, name=rest.strip(), key=normalize(rest))
