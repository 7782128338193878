"""Pure scoring functions shared by ``benchmarks/accuracy.py`` and the tests.

The rule of ``shared/samples/README.md``: a returned row is correct when every
integer field of the label row is equal and the name matches with similarity
>= 0.9 (NFKC, case-folded, letters and digits only), or matches the label's
``name_plain`` the same way after accents are stripped and only ASCII letters
and digits are kept.  Labels marked ``uncertain`` check only the numbers.
A row marked ``doubtful`` is not stored: it counts for neither recall nor
precision.  A returned row that matches a ``partial_rows`` entry is neutral when
it is flagged ``partial``, and a false positive when it is not; everything else
that matches no label row (including ``excluded_rows``) is a false positive.
Categorical fields (every non-integer field but the name: ``voted``, ``status``,
``tier``, ``furnace_text``, ``power_text``, ...) are compared on the rows found,
nulls included.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

import unicodedata

from .names import name_key

NAME_THRESHOLD = 0.9
LABEL_ONLY_KEYS = {"name_plain", "uncertain", "order_text", "reason", "name_on_screen", "name_alternatives",
                   "change_text"}  # MK8D: the small "+N" column, read by the labeller, no field of the kind
NAME_FIELDS = {"name", "alliance", "tag"}


def name_similarity(a: str | None, b: str | None) -> float:
    ka, kb = name_key(a), name_key(b)
    if not ka and not kb:
        return 1.0
    return fuzz.ratio(ka, kb) / 100.0


def plain_key(name: str | None) -> str:
    """Accents stripped, ASCII letters and digits only, case-folded: how `name_plain` is compared."""
    if not name:
        return ""
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name))
    return "".join(ch for ch in s if ch.isascii() and ch.isalnum()).casefold()


def plain_similarity(a: str | None, b: str | None) -> float:
    ka, kb = plain_key(a), plain_key(b)
    if not ka or not kb:
        return 0.0
    return fuzz.ratio(ka, kb) / 100.0


def _row_name(row: dict[str, Any]) -> str | None:
    if "alliance" in row:
        return f"[{row.get('tag') or ''}]{row.get('alliance') or ''}"
    return row.get("name")


def row_matches(pred: dict[str, Any], label: dict[str, Any]) -> bool:
    """True when ``pred`` reproduces ``label`` (numbers exact, name similar)."""
    for k, v in label.items():
        if k in LABEL_ONLY_KEYS or k.endswith("_clipped"):
            continue
        if isinstance(v, int) and not isinstance(v, bool):
            pv = pred.get(k)
            if isinstance(pv, bool) or pv != v:
                return False
    if label.get("uncertain"):
        return True
    ln = _row_name(label)
    if ln is None:
        return True
    pn = _row_name(pred)
    if name_similarity(pn, ln) >= NAME_THRESHOLD:
        return True
    return bool(label.get("name_plain")) and plain_similarity(pn, label["name_plain"]) >= NAME_THRESHOLD


def categorical_fields(label: dict[str, Any]) -> list[str]:
    """The label's non-integer fields other than the name (a null counts: the reading must be null too)."""
    return [k for k, v in label.items()
            if k not in LABEL_ONLY_KEYS and k not in NAME_FIELDS and not k.endswith("_clipped")
            and not (isinstance(v, int) and not isinstance(v, bool))]


def is_doubtful(row: dict[str, Any]) -> bool:
    return bool(row.get("doubtful"))


@dataclass
class ImageScore:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    neutral: int = 0
    meta_ok: int = 0
    meta_total: int = 0
    kind_ok: bool = False
    doubtful: int = 0
    cat_ok: int = 0
    cat_total: int = 0
    misses: list[dict] = field(default_factory=list)
    false_pos: list[dict] = field(default_factory=list)
    meta_errors: list[str] = field(default_factory=list)
    cat_errors: list[str] = field(default_factory=list)


def meta_equal(pred: Any, label: Any) -> bool:
    if isinstance(label, str) and isinstance(pred, str):
        return " ".join(label.split()) == " ".join(pred.split())
    return pred == label


def score_image(pred_kind: str, pred_meta: dict, pred_rows: list[dict], label: dict) -> ImageScore:
    """Score one extraction against its label (greedy one-to-one row matching)."""
    s = ImageScore(kind_ok=(pred_kind == label.get("kind")))
    rows = list(label.get("rows") or [])
    partial = list(label.get("partial_rows") or [])
    used = [False] * len(rows)
    for p in pred_rows:
        if is_doubtful(p):
            s.doubtful += 1
            continue
        hit = next((i for i, lr in enumerate(rows) if not used[i] and row_matches(p, lr)), None)
        if hit is not None:
            used[hit] = True
            s.tp += 1
            for k in categorical_fields(rows[hit]):
                s.cat_total += 1
                if meta_equal(p.get(k), rows[hit][k]):
                    s.cat_ok += 1
                else:
                    s.cat_errors.append(f"{_row_name(rows[hit])} {k}: got {p.get(k)!r}, want {rows[hit][k]!r}")
        elif p.get("partial") and any(row_matches(p, pr) for pr in partial):
            s.neutral += 1
        else:
            s.fp += 1
            s.false_pos.append(p)
    s.fn = used.count(False)
    s.misses = [r for r, u in zip(rows, used) if not u]
    for k, v in (label.get("meta") or {}).items():
        if v is None or (label.get("kind") == "unknown"):
            continue
        s.meta_total += 1
        if meta_equal(pred_meta.get(k), v):
            s.meta_ok += 1
        else:
            s.meta_errors.append(f"{k}: got {pred_meta.get(k)!r}, want {v!r}")
    return s


@dataclass
class Summary:
    images: int = 0
    kind_ok: int = 0
    tp: int = 0
    fn: int = 0
    fp: int = 0
    meta_ok: int = 0
    meta_total: int = 0
    cat_ok: int = 0
    cat_total: int = 0
    doubtful: int = 0
    seconds: float = 0.0

    def add(self, s: ImageScore, seconds: float = 0.0) -> None:
        self.images += 1
        self.cat_ok += s.cat_ok
        self.cat_total += s.cat_total
        self.doubtful += s.doubtful
        self.kind_ok += int(s.kind_ok)
        self.tp += s.tp
        self.fn += s.fn
        self.fp += s.fp
        self.meta_ok += s.meta_ok
        self.meta_total += s.meta_total
        self.seconds += seconds

    @property
    def kind_accuracy(self) -> float:
        return self.kind_ok / self.images if self.images else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if (self.tp + self.fn) else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if (self.tp + self.fp) else 1.0

    @property
    def meta_accuracy(self) -> float:
        return self.meta_ok / self.meta_total if self.meta_total else 1.0

    @property
    def categorical_accuracy(self) -> float:
        return self.cat_ok / self.cat_total if self.cat_total else 1.0

    @property
    def sec_per_image(self) -> float:
        return self.seconds / self.images if self.images else 0.0
