"""Pure number parsing for game UI text.

Why a module of its own: OCR returns numbers as the screen prints them
(``6,442,016,308``, ``211.5M``, ``Power: 5,034``, ``20/20``) with typical OCR
noise (``O`` for ``0``, stray spaces, ``.`` read instead of ``,``).  These
functions turn such text into integers and are unit-tested in isolation.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "normalize_digits",
    "parse_int",
    "parse_abbrev",
    "parse_labeled",
    "parse_ratio",
    "grouping_ok",
]

# Letters that OCR commonly confuses with digits inside a numeric token.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0",
                                    "l": "1", "I": "1", "|": "1", "i": "1",
                                    "S": "5", "s": "5", "B": "8", "Z": "2",
                                    "z": "2", "G": "6", "g": "9"})
_MULT = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}


def normalize_digits(text: str) -> str:
    """Map digit look-alike letters to digits (only call on numeric tokens)."""
    return text.translate(_DIGIT_LOOKALIKES)


def grouping_ok(token: str) -> bool:
    """True when ``token`` is digits with valid thousands grouping (``1,234,567``)."""
    return bool(re.fullmatch(r"\d{1,3}([,.]\d{3})+|\d+", token))


def parse_int(text: str | None) -> int | None:
    """Parse an integer printed with thousands separators.

    ``"6,442,016,308"`` -> 6442016308. ``.`` and spaces between 3-digit groups
    are treated as separators because OCR often confuses them with commas.
    Returns None when no number is present.
    """
    if text is None:
        return None
    s = text.strip()
    m = re.search(r"\d[\d,.' ]*", s)
    if not m:
        return None
    tok = m.group(0).strip(" ,.")
    # Separator between 3-digit groups -> thousands separator.
    tok = re.sub(r"(?<=\d)[,.' ](?=\d{3}(?:\D|$))", "", tok)
    digits = re.match(r"\d+", tok)
    return int(digits.group(0)) if digits else None


def parse_abbrev(text: str | None) -> int | None:
    """Parse an abbreviated value: ``"211.5M"`` -> 211500000, ``"45K"`` -> 45000.

    A plain number without suffix is returned as is (``"1,234"`` -> 1234).
    Decimal arithmetic avoids float rounding (``1.2B`` is exactly 1200000000).
    """
    if text is None:
        return None
    s = text.strip().replace(" ", "")
    m = re.search(r"(\d+(?:[.,]\d+)*)\s*([KkMmBbGgTt]?)", s)
    if not m:
        return None
    num, suf = m.group(1), m.group(2).upper()
    if suf:
        # With a suffix, a single separator is a decimal point ("211,5M" too).
        parts = re.split(r"[.,]", num)
        if len(parts) > 2:
            num = "".join(parts[:-1]) + "." + parts[-1]
        else:
            num = num.replace(",", ".")
        try:
            return int(Decimal(num) * _MULT[suf])
        except (InvalidOperation, KeyError):
            return None
    return parse_int(num)


def parse_labeled(text: str | None, label: str) -> int | None:
    """Parse the number that follows ``label`` (``"Power: 5,034"`` -> 5034)."""
    if text is None:
        return None
    m = re.search(re.escape(label) + r"\s*[:;]?\s*([\d][\d,. ]*)", text, re.I)
    return parse_int(m.group(1)) if m else None


def parse_ratio(text: str | None) -> tuple[int, int] | None:
    """Parse ``"Registered: 20/20"`` or ``"6/100"`` -> (20, 20)."""
    if text is None:
        return None
    m = re.search(r"(\d[\d,]*)\s*/\s*(\d[\d,]*)", text)
    if not m:
        return None
    return parse_int(m.group(1)), parse_int(m.group(2))
