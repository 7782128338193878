"""Pure helpers for player / alliance names read by OCR.

Names are kept as shown (tags, Unicode); only OCR artefacts that cannot be
part of a name on these screens are repaired: a mangled alliance tag bracket
(``[HEI|``, ``[HEIJ``, ``(HEI]``) and stray edge punctuation.
"""
from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

from ..identity.names import script

__all__ = ["clean_name", "name_key", "split_tag", "fix_tag", "repair_known_tag", "common_tag",
           "same_name", "vote_name", "lookalike_guess", "name_hole"]

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


_LOOKS_LIKE = {"I": "Il1|!]", "L": "Ll1|", "O": "O0", "0": "0O", "S": "S5", "B": "B8"}


def repair_known_tag(name: str, tag: str) -> str:
    """Restore a page's common ``[TAG]`` prefix that OCR mangled beyond
    ``fix_tag``: brackets read as letters and spaces inside the tag
    (``IH El|StarDaddy`` -> ``[HEI]StarDaddy``, ``HEIISHARKCAN`` ->
    ``[HEI]SHARKCAN``, ``i [HEI]x`` -> ``[HEI]x``).  Only the tag the rest of the page shows is restored,
    so a plain name is never given an invented tag."""
    if not tag or name.startswith(f"[{tag}]"):
        return name
    at = name.find(f"[{tag}]")
    if 0 < at <= 3:  # the tag is the prefix: what precedes it is an icon speck
        return name[at:]
    body = "".join(f"[{re.escape(_LOOKS_LIKE.get(ch, ch))}]\\s*" for ch in tag.upper())
    m = re.match(r"^[\[({|Il1]?\s*" + body + r"[\]|JIl1)!}]\s*(?=\S)", name)
    if not m:
        return name
    return f"[{tag}]{name[m.end():]}"


def common_tag(names: list[str | None], min_count: int = 2) -> str | None:
    """The ``[TAG]`` most names on a page carry, when at least ``min_count`` and
    more than half of the tagged names agree."""
    tags = [t for n in names if n and (t := split_tag(n)[0])]
    if not tags:
        return None
    best = max(set(tags), key=tags.count)
    n = tags.count(best)
    return best if n >= min_count and n * 2 > len(tags) else None


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


def same_name(a: str | None, b: str | None, threshold: float = 90.0) -> bool:
    """Two reads name the same player (comparison key similarity)."""
    ka, kb = name_key(a), name_key(b)
    return bool(ka and kb) and fuzz.ratio(ka, kb) >= threshold


def vote_name(reads: list[tuple[str, float]]) -> tuple[str, float, int] | None:
    """Combine the reads of one name from several preprocessing passes.

    Returns (name, confidence, votes).  The read that most other reads agree
    with wins (ties: summed, then own confidence), because Tesseract's word
    confidence alone often prefers a confidently truncated or misread name.
    A lone read that another read extends (``Stratégie`` vs ``Stratégie et
    Def``) yields to the longer one: passes drop faint words, they rarely
    invent them.
    """
    reads = [r for r in reads if r[0].strip()]
    if not reads:
        return None
    scored = []
    for text, conf in reads:
        # a read always supports itself, even one with no letters or digits (a glyph-only name)
        support = [c for t, c in reads if t == text or same_name(text, t)]
        scored.append(((len(support), sum(support), conf), text, conf))
    (votes, _, _), text, conf = max(scored, key=lambda s: s[0])
    if votes == 1:
        key = name_key(text)
        longer = [(t, c) for t, c in reads if len(name_key(t)) > len(key) and name_key(t).startswith(key)]
        if key and longer:
            text, conf = max(longer, key=lambda r: r[1])
    return text, conf, votes


# Scripts whose letters beside Latin ones are look-alike decorations (`ΛLЦKΛЯD`), as the matching key folds them.
LOOKALIKE_SCRIPTS = frozenset({"GREEK", "CYRILLIC", "ARMENIAN", "COPTIC"})


def lookalike_guess(name: str) -> str | None:
    """Why a reading of a decorated name is a guess, or None: Latin letters mixed with Greek, Cyrillic or
    Armenian ones in one word (`SmiεÇλb` for `°𝕊miՆɛČ̣Ƨλɓ°`). Such glyphs are look-alike decorations; the
    reader picks among look-alikes (and drops those it has no letter for): the reading needs a second opinion."""
    _, rest = split_tag(name)
    for word in rest.split():  # within one word: `Ivan Петров` is two real scripts, not a decoration
        scripts = {script(ch) for ch in word if ch.isalpha()}
        odd = sorted(scripts & LOOKALIKE_SCRIPTS)
        if "LATIN" in scripts and odd:
            letters = "".join(sorted({ch for ch in word if ch.isalpha() and script(ch) in LOOKALIKE_SCRIPTS}))
            return f"Latin letters mixed with {'/'.join(s.title() for s in odd)} look-alikes ({letters}) in {word!r}"
    return None


NAME_HOLE = 3.0  # glyph heights of unread text inside a name: letters the reader has no character for


def name_hole(words: list) -> str | None:
    """Why a name reading lacks letters, or None: two of its words stand more than NAME_HOLE glyph heights
    apart (`[HEI]G  E  T` of `[HEI]Ɠɨᴙʅ༄ɨɴᴛᴇᴙᴙᴜpᴛᴇḋ`). The reader emits nothing for glyphs it has no character
    for, so the gap is the name's missing letters. A gap after a word that is only the tag is ornaments
    before the name (`[HEI]๛∘ঃBAZOOKA`), and is no hole."""
    ws = sorted((w for w in words if any(ch.isalnum() for ch in w.text)), key=lambda w: w.left)
    while ws and re.fullmatch(r"\[[^\]]{1,5}\]", ws[0].text.strip()):
        ws = ws[1:]
    for a, b in zip(ws, ws[1:]):
        gap = b.left - (a.left + a.width)
        h = max(a.height, b.height, 1)
        if gap > NAME_HOLE * h:
            return (f"{gap / h:.1f} glyph heights unread between {a.text!r} and {b.text!r}: "
                    "letters the reader does not know")
    return None
