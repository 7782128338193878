"""Cross-checks: what a screen itself says about its numbers (pure).

A ranked list never increases down the ranks; a total shown on the screen bounds
each row it totals, and where the screen shows a team's total its rows add up to it
(a row missed or misread shows there). A value that breaks a check is re-read another way by the
pipeline; one that still breaks it is stored as doubtful, with the reason, and
stays out of the facts until a person confirms or corrects it. The checks a kind
gets are declared with it (`KindDefinition.checks`).
"""
from __future__ import annotations

from typing import Any

from .models import Check

Doubts = dict[int, dict[str, str]]  # row index -> field -> reason


def _keep_order(values: list[tuple[int, int]]) -> set[int]:
    """Row indexes of a longest non-increasing run of (index, value) in list order.

    The rows outside it are the fewest whose removal leaves the list ordered, so one
    misread digit (121,051 between 5,000 and 1,000) is the one pointed at.
    """
    n = len(values)
    best = [1] * n
    prev = [-1] * n
    for i in range(n):
        for j in range(i):
            if values[j][1] >= values[i][1] and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    if not n:
        return set()
    i = max(range(n), key=lambda k: (best[k], -k))
    keep = set()
    while i >= 0:
        keep.add(values[i][0])
        i = prev[i]
    return keep


def _fmt(v: int) -> str:
    return f"{v:,}"


def check_rows(checks: list[Check], rows: list[dict[str, Any]], meta: dict[str, Any],
               order: str | None = None) -> Doubts:
    """Which fields of which rows break the kind's checks, and why.

    `order` is the rank-like field the list is sorted by (rows are compared in its
    order, so a pinned self-row far down the ranks still fits).
    """
    doubts: Doubts = {}

    def doubt(i: int, field: str, why: str) -> None:
        doubts.setdefault(i, {}).setdefault(field, why)

    for c in checks:
        vals = [(i, r.get(c.field)) for i, r in enumerate(rows)]
        vals = [(i, v) for i, v in vals if isinstance(v, int) and not isinstance(v, bool)]
        if c.type == "non_increasing":
            if order:
                vals = sorted((t for t in vals if isinstance(rows[t[0]].get(order), int)),
                              key=lambda t: rows[t[0]][order])
            keep = _keep_order(vals)
            for pos, (i, v) in enumerate(vals):
                if i in keep:
                    continue
                above = next((vals[k][1] for k in range(pos - 1, -1, -1) if vals[k][0] in keep), None)
                below = next((vals[k][1] for k in range(pos + 1, len(vals)) if vals[k][0] in keep), None)
                where = " and ".join(x for x in (f"above it {_fmt(above)}" if above is not None else "",
                                                  f"below it {_fmt(below)}" if below is not None else "") if x)
                doubt(i, c.field, f"{_fmt(v)} breaks the ranking's order ({where})")
        elif c.type == "at_most_meta":
            total = meta.get(c.meta or "")
            if not isinstance(total, int) or isinstance(total, bool):
                continue
            for i, v in vals:
                if v > total:
                    doubt(i, c.field, f"{_fmt(v)} is more than the screen's {c.meta} {_fmt(total)}")
        elif c.type == "positive":
            for i, v in vals:
                if v <= 0:
                    doubt(i, c.field, f"{_fmt(v)} is not a possible {c.field}")
        elif c.type == "sum_meta":
            for key, members in _groups(rows, c.group).items():
                name = (c.meta or "").format(key) if c.group else c.meta or ""
                total = meta.get(name)
                if not isinstance(total, int) or isinstance(total, bool):
                    continue
                got = [rows[i].get(c.field) for i in members]
                if all(isinstance(v, int) and not isinstance(v, bool) for v in got) and sum(got) == total:
                    continue
                who = f"{c.group} {key}'s" if c.group else "the"
                known = sum(v for v in got if isinstance(v, int) and not isinstance(v, bool))
                why = (f"{who} {len(members)} row{'s' if len(members) > 1 else ''} add up to {_fmt(known)}, not the screen's {name} {_fmt(total)}"
                       + ("" if len(got) == sum(isinstance(v, int) for v in got) else " (a value is missing)"))
                for i in members:
                    doubt(i, c.field, why)
    return doubts


def _groups(rows: list[dict[str, Any]], group: str | None) -> dict[Any, list[int]]:
    """Row indexes by the value of `group` (all rows in one group without it)."""
    out: dict[Any, list[int]] = {}
    for i, r in enumerate(rows):
        key = r.get(group) if group else None
        if group and key is None:
            continue
        out.setdefault(key, []).append(i)
    return out


def passes(checks: list[Check], rows: list[dict[str, Any]], meta: dict[str, Any], index: int,
           field: str, value: int, order: str | None = None) -> bool:
    """Would `rows[index][field] = value` leave that row free of doubts?"""
    trial = [dict(r) for r in rows]
    trial[index][field] = value
    return field not in check_rows(checks, trial, meta, order).get(index, {})
