"""Matching a reading to a known player of the same community.

Exact key matches win. Otherwise a fuzzy match (rapidfuzz) is accepted only when it
is clearly above the threshold, clearly better than the runner-up, and the names are
long enough that one OCR slip cannot turn one real name into another: "Mar" and
"Marra" stay two people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

DEFAULT_THRESHOLD = 85.0
MIN_FUZZY_LENGTH = 5  # shorter keys only match exactly
MIN_MARGIN = 5.0  # the best candidate must beat the second by this much


@dataclass(frozen=True, slots=True)
class Match:
    player_id: str | None
    method: str  # exact | fuzzy | none | ambiguous
    score: float
    candidates: tuple[str, ...] = ()


def match_name(
    key: str,
    known: Mapping[str, str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    by_length: Mapping[int, Sequence[str]] | None = None,
) -> Match:
    """`known` maps normalized key -> player id. Pure and deterministic for a given `known`.

    `by_length` (the same keys grouped by length) lets a caller matching thousands of
    names look only at keys of a similar length instead of scanning every known key.
    """
    if key in known:
        return Match(known[key], "exact", 100.0)
    n = len(key)
    if n < MIN_FUZZY_LENGTH or not known:
        return Match(None, "none", 0.0)
    spread = max(2, n // 4)
    lengths = range(max(MIN_FUZZY_LENGTH, n - spread), n + spread + 1)
    # sorted: which of several equally good keys come back must not depend on insertion order
    if by_length is None:
        choices = sorted(k for k in known if len(k) in lengths)
    else:
        choices = sorted(k for length in lengths for k in by_length.get(length, ()))
    if not choices:
        return Match(None, "none", 0.0)
    best = process.extract(key, choices, scorer=fuzz.ratio, limit=3)
    best.sort(key=lambda t: (-t[1], t[0]))  # ties broken by key, so the result never depends on dict order
    top_key, top_score, _ = best[0]
    if top_score < threshold:
        return Match(None, "none", top_score)
    players = {known[k] for k, s, _ in best if s >= top_score - MIN_MARGIN}
    if len(players) > 1:
        return Match(None, "ambiguous", top_score, tuple(sorted(players)))
    return Match(known[top_key], "fuzzy", top_score)
