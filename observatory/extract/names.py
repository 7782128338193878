"""Pure helpers for player / alliance names read by OCR.

Names are kept as shown (tags, Unicode); only OCR artefacts that cannot be
part of a name on these screens are repaired: a mangled alliance tag bracket
(``[HEI|``, ``[HEIJ``, ``(HEI]``) and stray edge punctuation.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_name", "name_key", "split_tag", "fix_tag"]

def fix_tag(name: str) -> str:
    """Repair the ``[TAG]`` prefix OCR tends to garble.

    ``[HEI|x`` / ``[HEIJx`` / ``(HEI]x`` -> ``[HEI]x`` and ``[HE!]x`` / ``[HE]]x`` ->
    ``[HEI]x`` (a capital I read as ``!``, ``|`` or ``]``).  Only applies when the
    text starts with an opening bracket, so plain names are untouched.
    """
    if len(name) < 4 or name[0] not in "[({":
        return name
    closers = ("]", ")}|J")
    if len(name) >= 5 and name[4] == "]" and name[1:4].isalnum():
        return fix_tag_case(name)
    for group in closers:
        for n in (3, 2, 4):
            if len(name) > n + 2 and name[n + 1] in group:
                tag = name[1:n + 1]
                if not all(ch.isalnum() or ch in "!|]" for ch in tag):
                    continue
                tag = "".join("I" if ch in "!|]" else ch for ch in tag)
                # a lone lower-case l in an otherwise upper-case tag is a capital I
                if "l" in tag and all(ch.isupper() or ch.isdigit() or ch == "l" for ch in tag):
                    tag = tag.replace("l", "I")
                return f"[{tag}]{name[n + 2:].lstrip()}"
    return name


def fix_tag_case(name: str) -> str:
    """``[HEl]x`` -> ``[HEI]x``: lower-case l inside an upper-case tag is an I."""
    tag = name[1:4]
    if "l" in tag and all(ch.isupper() or ch.isdigit() or ch == "l" for ch in tag):
        return "[" + tag.replace("l", "I") + "]" + name[5:]
    return name


def split_tag(name: str) -> tuple[str | None, str]:
    """``"[KIL]ShadowWarriors"`` -> ("KIL", "ShadowWarriors"); no tag -> (None, name)."""
    m = re.match(r"^\[([^\]]{1,5})\](.*)$", name)
    if m:
        return m.group(1), m.group(2).strip()
    return None, name


_EDGE_JUNK = " \t|'\"`~_-—–=+*.,:;!?°©®’‘“”«»()<>{}\\/"


_TO_DIGIT = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"}


def fix_digit_lookalikes(word: str) -> str:
    """In words that already carry digits, letters touching a digit that look
    like digits are digits (``kaitol412`` -> ``kaito1412``, ``DarkO8`` -> ``Dark08``)."""
    if sum(ch.isdigit() for ch in word) < 1 or len(word) < 3:
        return word
    out = []
    for i, ch in enumerate(word):
        if ch in _TO_DIGIT:
            right = word[i + 1] if i + 1 < len(word) else ""
            left = word[i - 1] if i > 0 else ""
            if right.isdigit() and (left.isdigit() or not left.isalpha() or left.islower() != ch.islower()
                                    or ch in "lI|"):
                ch = _TO_DIGIT[ch]
        elif ch == "i" and 0 < i < len(word) - 1 and word[i - 1].isdigit() and word[i + 1].isdigit():
            ch = "1"  # kaito14i2 -> kaito1412
        out.append(ch)
    return "".join(out)


def _fix_l_in_caps(word: str) -> str:
    """``C&l`` -> ``C&I``: a lower-case l among only capitals is a capital I."""
    letters = [ch for ch in word if ch.isalpha()]
    if "l" in word and len(letters) >= 2 and all(ch.isupper() or ch == "l" for ch in letters) \
            and sum(ch.isupper() for ch in letters) >= 1:
        return word.replace("l", "I")
    return word


def clean_name(text: str) -> str:
    """Collapse whitespace, strip edge junk, repair the tag bracket."""
    s = " ".join(text.split())
    # CJK text has no spaces; Tesseract inserts them between ideographs
    cjk = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
    s = re.sub(rf"(?<=[{cjk}]) (?=[{cjk}])", "", s)
    s = re.sub(rf"(?<=[A-Za-z]) (?=[{cjk}]$)", "", s)  # "Stevie ツ" -> "Stevieツ"
    s = s.strip(_EDGE_JUNK)
    # a stray "[" left by an avatar edge, not a "[TAG]" prefix
    if s.startswith("[") and not re.match(r"^\[[^\]\s]{1,5}[\]|J!1l)]", s):
        s = s[1:].lstrip(_EDGE_JUNK)
    # Opening brackets are meaningful only as a tag start; keep "[".
    s = fix_tag(s)
    tag, rest = split_tag(s)
    rest = " ".join(_fix_l_in_caps(fix_digit_lookalikes(w)) for w in rest.split(" "))
    return f"[{tag}]{rest}" if tag is not None else rest


def name_key(name: str | None) -> str:
    """Comparison key: NFKC, case-folded, letters and digits only."""
    if not name:
        return ""
    s = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in s if ch.isalnum())
