"""Name normalization: what makes two readings of a name the same name.

Screens show names with an alliance tag (`[HEI]Valorin`), in any script, sometimes
with zero-width or odd spaces copied from chat, and often decorated: small capitals
(`ʙᴜʙʙʟᴇs`), letters with hooks and strokes (`xƁes`), Canadian-syllabics, Cherokee,
Greek or Cyrillic look-alikes (`ᗰIGᑌEᒪ`, `ΛLЦKΛЯD`) and ornaments around the name
(`༒WRATH༒`, `D A D D Y࿐`). The matching key folds all of that to the plain letters a
reader sees; the reading itself is kept and shown.

Folding must never make two real players equal, so it is deliberately narrow:
- look-alike letters are folded by `decancer_py` (a maintained confusables table)
  one character at a time, and only Latin-family letters (accents, hooks, small
  capitals), Canadian syllabics and Cherokee always; Greek, Cyrillic and Armenian
  only inside a name that also has Latin letters (a real Cyrillic name stays Cyrillic);
- real scripts (CJK, kana, Hangul, Arabic, Hebrew, Indic, Thai, ...) are never folded;
- ornaments are dropped: from a Latin name every symbol and every letter of another
  script (`Bunyip點` is `bunyip`, `xOsaツKSA` is `xosaksa`), from a name in another
  script only the symbols at its ends. A name that is only ornaments keeps them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import decancer_py

# Part of the domain projection's fingerprint: a new folding table recomputes the players.
KEY_VERSION = f"2+decancer-{decancer_py.__version__}"

_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E, 0x2061, 0x2062, 0x2063, 0x2064, 0x034F], None
)
_TAG = re.compile(r"^\s*\[\s*([^\[\]\s]{1,6})\s*\]\s*")
_ALWAYS_FOLD = frozenset({"LATIN", "CANADIAN", "CHEROKEE"})  # look-alike letters: never a player's own script here
_FOLD_IF_MIXED = frozenset({"GREEK", "CYRILLIC", "ARMENIAN", "COPTIC"})  # real scripts, look-alikes beside Latin


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    # every kind of space (NBSP, ideographic, thin, ...) becomes one ASCII space
    text = "".join(" " if unicodedata.category(ch) == "Zs" or ch in "\t\r\n" else ch for ch in text)
    return re.sub(r" {2,}", " ", text).strip()


@lru_cache(maxsize=4096)
def script(ch: str) -> str:
    """The script of a letter or digit, from its Unicode name (`LATIN`, `CYRILLIC`, `CJK`, ...); COMMON for ASCII digits."""
    if ch.isascii():
        return "LATIN" if ch.isalpha() else "COMMON"
    name = unicodedata.name(ch, "")
    word = name.split(" ", 1)[0]
    if word in ("CJK", "KANGXI", "IDEOGRAPHIC"):
        return "HAN"
    if word == "MODIFIER" or word == "SMALL":  # MODIFIER LETTER SMALL CAPITAL X, ... decorate Latin text
        return "LATIN" if "LATIN" in name or "CAPITAL" in name else word
    return word


@lru_cache(maxsize=4096)
def _folded_letter(ch: str) -> str | None:
    """The plain ASCII letters a look-alike letter stands for, or None when decancer has none."""
    out = str(decancer_py.parse(ch))
    return out if out and out.isascii() and out.isalnum() else None


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "L"


def fold_lookalikes(text: str) -> str:
    """Decorative look-alike letters -> the plain letters they show; accents dropped from folded letters."""
    if text.isascii():
        return text
    mixed = any(_is_letter(ch) and script(ch) in _ALWAYS_FOLD for ch in text)
    out: list[str] = []
    plain_base = False  # the last base letter is ASCII: its combining marks are accents to drop
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Mn" and plain_base:
            continue
        if cat[0] == "L" and not ch.isascii():
            sc = script(ch)
            if sc in _ALWAYS_FOLD or (mixed and sc in _FOLD_IF_MIXED):
                folded = _folded_letter(ch)
                if folded is not None:
                    out.append(folded)
                    plain_base = True
                    continue
        out.append(ch)
        if cat[0] != "M":
            plain_base = ch.isascii() and ch.isalnum()
    return "".join(out)


def strip_decoration(key: str) -> str:
    """Drop ornaments: from a Latin name every symbol and every letter of another script; from any
    other name the symbols at its ends. A key that is nothing but ornaments is kept whole."""
    scripts = Counter(script(ch) for ch in key if _is_letter(ch))
    latin = scripts.get("LATIN", 0)
    if latin > 0 and latin > sum(scripts.values()) - latin:
        core = "".join(ch for ch in key if unicodedata.category(ch)[0] in "LN" and script(ch) in ("LATIN", "COMMON"))
        return core or key
    i, j = 0, len(key)
    while i < j and unicodedata.category(key[i])[0] not in "LN":
        i += 1
    while j > i and unicodedata.category(key[j - 1])[0] not in "LNM":
        j -= 1
    return key[i:j] or key


def _key_once(text: str) -> str:
    key = fold_lookalikes(_clean(text)).casefold().replace(" ", "")
    # Removing spaces or case-folding can leave a combining mark next to a new base letter.
    key = unicodedata.normalize("NFKC", key).casefold().translate(_INVISIBLE).replace(" ", "")
    return strip_decoration(key)


@lru_cache(maxsize=1 << 16)  # pure, and a community's names recur on every screenshot: replay calls it per row
def normalize(text: str) -> str:
    """The matching key of a name (without its tag): NFKC, case-folded, look-alikes folded, ornaments stripped.

    A fixed point: normalize(normalize(x)) == normalize(x).
    """
    key = _key_once(text)
    for _ in range(4):
        again = _key_once(key)
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
