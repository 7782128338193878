#!/usr/bin/env python
"""Accuracy benchmark of the extraction engine against labelled screenshots.

Prints per kind and overall: classification accuracy, row recall/precision,
meta accuracy and measured seconds per image, for the pipeline and for a
baseline of plain full-page ``tesseract`` text parsed with regexes.  Seconds
are wall clock (``s/img``) and CPU time of the worker plus its Tesseract
child processes (``cpu/img``): the CPU figure is the cost on one core and
does not grow when other jobs share the machine.

    .venv/bin/python benchmarks/accuracy.py [--samples DIR] [--jobs 2] [-v]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from observatory.extract import DEFINITIONS, extract  # noqa: E402
from observatory.extract.classify import classify  # noqa: E402
from observatory.extract.numbers import parse_abbrev, parse_int  # noqa: E402
from observatory.extract.scoring import Summary, score_image  # noqa: E402

DEFAULT_SAMPLES = ROOT.parent / "shared" / "samples" / "wos"


def _cpu() -> float:
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime


def run_pipeline(path: str) -> tuple[str, dict, float, float]:
    t, c = time.perf_counter(), _cpu()
    r = extract(path)
    return path, r.model_dump(), time.perf_counter() - t, _cpu() - c


def baseline_rows(text: str, kind: str) -> list[dict]:
    """Naive parse of full-page text: each number-bearing line is a row, the
    name is the text before the number or the previous line."""
    defn = DEFINITIONS.get(kind)
    if defn is None or defn.rows is None:
        return []
    main = next((f for f in defn.fields if f.source == "anchor"), None)
    seq = defn.rows.sequence_field
    rows, prev = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if main.type == "abbrev":
            m = re.search(r"(\d{1,4}(?:\.\d)?[MKB])", line)
            val = parse_abbrev(m.group(1)) if m else None
        else:
            m = re.search(r"(\d{1,3}(?:,\d{3})+)", line)
            val = parse_int(m.group(1)) if m else None
        if val is None:
            prev = line
            continue
        before = re.sub(r"^\W*\d{0,2}\W+", "", line[: m.start()]).strip(" :")
        before = re.sub(r"(Damage Points|Power)\s*:?$", "", before).strip(" :")
        name = before or prev
        row = {main.name: val}
        if main.text_of:
            row[main.text_of] = m.group(1)
        if kind == "alliance_power":
            mm = re.match(r"\[(\w+)\](.*)", name)
            row["tag"], row["alliance"] = (mm.group(1), mm.group(2)) if mm else (None, name)
        else:
            row["name"] = name
        if seq:
            row[seq] = len(rows) + 1 if defn.rows.sequence == "ascending" else None
        rows.append(row)
        prev = ""
    return rows


def run_baseline(path: str) -> tuple[str, dict, float, float]:
    import pytesseract
    from PIL import Image

    t, c = time.perf_counter(), _cpu()
    text = pytesseract.image_to_string(Image.open(path))
    kind, conf, _ = classify(text, DEFINITIONS)
    rows = baseline_rows(text, kind)
    return path, {"kind": kind, "meta": {}, "rows": rows}, time.perf_counter() - t, _cpu() - c


def report(title: str, results: dict[str, tuple[dict, float, float]], labels: dict[str, dict], verbose: bool):
    per_kind: dict[str, Summary] = {}
    overall = Summary()
    cpu: dict[str, list[float]] = {}
    for path, (res, secs, cpu_s) in sorted(results.items()):
        lab = labels[path]
        s = score_image(res["kind"], res.get("meta") or {}, res.get("rows") or [], lab)
        per_kind.setdefault(lab["kind"], Summary()).add(s, secs)
        overall.add(s, secs)
        cpu.setdefault(lab["kind"], []).append(cpu_s)
        cpu.setdefault("OVERALL", []).append(cpu_s)
        if verbose and (s.fn or s.fp or s.meta_errors or not s.kind_ok):
            print(f"  {Path(path).name}: kind {res['kind']} (want {lab['kind']}) tp={s.tp} fn={s.fn} fp={s.fp}")
            for m in s.misses:
                print(f"     miss {json.dumps(m, ensure_ascii=False)}")
            for m in s.false_pos:
                print(f"     f.p. {json.dumps(m, ensure_ascii=False)}")
            for m in s.meta_errors:
                print(f"     meta {m}")
    print(f"\n== {title} ==")
    print(f"{'kind':<18}{'imgs':>5}{'kind_acc':>10}{'recall':>9}{'precision':>11}{'meta_acc':>10}{'s/img':>8}"
          f"{'cpu/img':>9}{'cpu max':>9}")
    for k, sm in sorted(per_kind.items()) + [("OVERALL", overall)]:
        print(f"{k:<18}{sm.images:>5}{sm.kind_accuracy:>10.1%}{sm.recall:>9.1%}{sm.precision:>11.1%}"
              f"{sm.meta_accuracy:>10.1%}{sm.sec_per_image:>8.2f}{sum(cpu[k]) / len(cpu[k]):>9.2f}{max(cpu[k]):>9.2f}")
    print(f"rows: tp={overall.tp} fn={overall.fn} fp={overall.fp}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (per-image time is still per core)")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="list misses and false positives")
    args = ap.parse_args(argv)
    if not args.samples.is_dir():
        print(f"samples folder not found: {args.samples}", file=sys.stderr)
        return 2
    labels = {}
    for j in sorted(args.samples.glob("*.json")):
        img = j.with_suffix(".jpg")
        if img.exists():
            labels[str(img)] = json.loads(j.read_text(encoding="utf-8"))
    runs = [("PIPELINE", run_pipeline)]
    if not args.no_baseline:
        runs.append(("BASELINE plain tesseract + regex", run_baseline))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for title, fn in runs:
            results = {}
            for i, (path, res, secs, cpu_s) in enumerate(pool.map(fn, labels), 1):
                results[path] = (res, secs, cpu_s)
                print(f"[{title.split()[0]} {i}/{len(labels)}] {Path(path).name} -> {res['kind']} "
                      f"{len(res.get('rows') or [])} rows {secs:.2f}s", file=sys.stderr)
            report(title, results, labels, args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
