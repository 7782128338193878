"""Screen-kind classification from the screen's own text (never the file name)."""
from __future__ import annotations

import re

from rapidfuzz import fuzz

from .models import KindDefinition, Phrase

THRESHOLD = 0.5


def normalize_text(text: str) -> str:
    """Lower-case, punctuation to spaces, collapsed — what phrase matching sees."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def phrase_found(phrase: str, norm_text: str) -> bool:
    """Exact (normalised) substring, or a close fuzzy match for longer phrases.

    Fuzzy matching tolerates OCR slips such as ``WeeklyiContributi``.
    """
    p = normalize_text(phrase)
    if not p:
        return False
    if re.search(r"(?<![0-9a-z])" + re.escape(p) + r"(?![0-9a-z])", norm_text):
        return True
    if len(p) >= 10:
        return fuzz.partial_ratio(p, norm_text, score_cutoff=88) > 0
    return False


def classify(text: str, definitions: dict[str, KindDefinition],
             layout: dict[str, tuple[float, str]] | None = None) -> tuple[str, float, list[str]]:
    """Return (kind, confidence 0..1, evidence).

    Each kind scores the summed weight of its phrases found in the text.  The
    confidence combines reaching the kind's ``min_score`` with the margin over
    the runner-up; below ``THRESHOLD`` the kind is ``unknown``.
    """
    norm = normalize_text(text)
    scored = []
    for name, d in definitions.items():
        hits = [p for p in d.phrases if phrase_found(p.text, norm)]
        score = sum(p.weight for p in hits)
        if layout and name in layout:
            score += layout[name][0]
            hits = hits + [Phrase(text=f"layout: {layout[name][1]}", weight=layout[name][0])]
        total = sum(p.weight for p in d.phrases) or 1.0
        # layout evidence can lift a kind past its phrases' total: a ratio above 1 would be no more certain
        scored.append((score, min(1.0, score / total), name, hits, d.min_score))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    best, ratio, name, hits, min_score = scored[0]
    second = scored[1][0] if len(scored) > 1 else 0.0
    evidence = [f"{name}: matched '{p.text}' (+{p.weight:g})" for p in hits]
    if len(scored) > 1 and scored[1][0] > 0:
        evidence.append(f"runner-up {scored[1][2]} scored {second:g}")
    reach = min(1.0, best / min_score) if min_score else 1.0
    margin = (best - second) / best if best > 0 else 0.0
    conf = round(reach * (0.5 + 0.25 * ratio + 0.25 * margin), 3)
    if best < min_score or conf < THRESHOLD:
        evidence.append(f"best kind {name} scored {best:g} (< {min_score:g} needed) or confidence {conf} "
                        f"< {THRESHOLD}")
        return "unknown", round(1.0 - min(best / min_score, 1.0) * 0.5, 3) if min_score else 0.5, evidence
    return name, conf, evidence
