"""Pure scoring functions shared by ``benchmarks/accuracy.py`` and the tests.

A returned row is correct when every integer field of the label row is equal
and the name matches with similarity >= 0.9 (NFKC, case-folded, letters and
digits only).  Labels marked ``uncertain`` check only the numbers.  Returned
rows that match a ``partial_rows`` entry are neutral; everything else that
matches no label row (including ``excluded_rows``) is a false positive.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from .names import name_key

NAME_THRESHOLD = 0.9
LABEL_ONLY_KEYS = {"name_plain", "uncertain", "order_text", "reason"}


def name_similarity(a: str | None, b: str | None) -> float:
    ka, kb = name_key(a), name_key(b)
    if not ka and not kb:
        return 1.0
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
    return name_similarity(_row_name(pred), ln) >= NAME_THRESHOLD


@dataclass
class ImageScore:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    neutral: int = 0
    meta_ok: int = 0
    meta_total: int = 0
    kind_ok: bool = False
    misses: list[dict] = field(default_factory=list)
    false_pos: list[dict] = field(default_factory=list)
    meta_errors: list[str] = field(default_factory=list)


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
        hit = next((i for i, lr in enumerate(rows) if not used[i] and row_matches(p, lr)), None)
        if hit is not None:
            used[hit] = True
            s.tp += 1
        elif any(row_matches(p, pr) for pr in partial):
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
    seconds: float = 0.0

    def add(self, s: ImageScore, seconds: float = 0.0) -> None:
        self.images += 1
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
    def sec_per_image(self) -> float:
        return self.seconds / self.images if self.images else 0.0
