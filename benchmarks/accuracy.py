#!/usr/bin/env python
"""Accuracy benchmark of the extraction engine against labelled screenshots.

Scores with the rule of ``shared/samples/README.md`` (``observatory.extract.scoring``:
``name_plain`` counts, doubtful rows are not stored). Prints per kind and overall:
kind accuracy, row recall and precision, categorical field accuracy, meta accuracy,
doubtful rows, CPU seconds per image (median and p95, one worker, the worker plus
its Tesseract child processes) and the peak RSS of a worker; for the default
engine (rapidocr), the Tesseract engine and a baseline of plain full-page
``tesseract`` text parsed with regexes, all measured in the same run.

    .venv/bin/python benchmarks/accuracy.py [--samples DIR]... [--all-games] [--engines rapidocr,tesseract,baseline] [-v]
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


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_pipeline(path: str, reader: str = "rapidocr") -> tuple[str, dict, float, float, float]:
    t, c = time.perf_counter(), _cpu()
    r = extract(path, reader=reader)
    return path, r.model_dump(), time.perf_counter() - t, _cpu() - c, _rss_mb()


def run_tesseract(path: str) -> tuple[str, dict, float, float, float]:
    return run_pipeline(path, "tesseract")


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


def run_baseline(path: str) -> tuple[str, dict, float, float, float]:
    import pytesseract
    from PIL import Image

    t, c = time.perf_counter(), _cpu()
    text = pytesseract.image_to_string(Image.open(path))
    kind, conf, _ = classify(text, DEFINITIONS)
    rows = baseline_rows(text, kind)
    return path, {"kind": kind, "meta": {}, "rows": rows}, time.perf_counter() - t, _cpu() - c, _rss_mb()


def _pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else 0.0


def report(title: str, results: dict[str, tuple[dict, float, float]], labels: dict[str, dict], verbose: bool,
           rss: float = 0.0) -> Summary:
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
        if verbose and (s.fn or s.fp or s.meta_errors or s.cat_errors or s.doubtful or not s.kind_ok):
            print(f"  {Path(path).name}: kind {res['kind']} (want {lab['kind']}) tp={s.tp} fn={s.fn} fp={s.fp}"
                  f" doubtful={s.doubtful}")
            for r in res.get("rows") or []:
                if r.get("doubtful"):
                    print(f"     doubt {json.dumps(r, ensure_ascii=False)}")
            for m in s.cat_errors:
                print(f"     field {m}")
            for m in s.misses:
                print(f"     miss {json.dumps(m, ensure_ascii=False)}")
            for m in s.false_pos:
                print(f"     f.p. {json.dumps(m, ensure_ascii=False)}")
            for m in s.meta_errors:
                print(f"     meta {m}")
    print(f"\n== {title} ==")
    print(f"{'kind':<22}{'imgs':>5}{'kind_acc':>10}{'recall':>9}{'precision':>11}{'fields':>8}{'meta_acc':>10}"
          f"{'doubtful':>9}{'cpu med':>9}{'cpu p95':>9}")
    for k, sm in sorted(per_kind.items()) + [("OVERALL", overall)]:
        print(f"{k:<22}{sm.images:>5}{sm.kind_accuracy:>10.1%}{sm.recall:>9.1%}{sm.precision:>11.1%}"
              f"{sm.categorical_accuracy:>8.1%}{sm.meta_accuracy:>10.1%}{sm.doubtful:>9}"
              f"{_pct(cpu[k], 0.5):>9.2f}{_pct(cpu[k], 0.95):>9.2f}")
    print(f"rows: tp={overall.tp} fn={overall.fn} fp={overall.fp} doubtful={overall.doubtful}; "
          f"fields {overall.cat_ok}/{overall.cat_total}; peak RSS per worker {rss:.0f} MB")
    return overall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, action="append",
                    help=f"a folder of labelled screenshots (repeatable; default {DEFAULT_SAMPLES})")
    ap.add_argument("--all-games", action="store_true",
                    help=f"every game folder under {DEFAULT_SAMPLES.parent} (wos, mk8d, mkw, totalbattle), kinds side by side")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (per-image time is still per core)")
    ap.add_argument("--engines", default="rapidocr,tesseract,baseline",
                    help="comma-separated: rapidocr (default engine), tesseract (Tesseract engine), baseline")
    ap.add_argument("--no-baseline", action="store_true", help="the same as leaving baseline out of --engines")
    ap.add_argument("-v", "--verbose", action="store_true", help="list misses and false positives")
    args = ap.parse_args(argv)
    folders = list(args.samples or [])
    if args.all_games:
        folders += sorted(p for p in DEFAULT_SAMPLES.parent.iterdir() if p.is_dir() and any(p.glob("*.json")))
    folders = folders or [DEFAULT_SAMPLES]
    labels = {}
    for folder in folders:
        if not folder.is_dir():
            print(f"samples folder not found: {folder}", file=sys.stderr)
            return 2
        for j in sorted(folder.glob("*.json")):
            img = next((j.with_suffix(s) for s in (".jpg", ".png", ".jpeg") if j.with_suffix(s).exists()), None)
            if img is not None:
                labels[str(img)] = json.loads(j.read_text(encoding="utf-8"))
    available = {"rapidocr": ("ENGINE rapidocr (default)", run_pipeline),
                 "tesseract": ("ENGINE tesseract", run_tesseract),
                 "baseline": ("BASELINE plain tesseract + regex", run_baseline)}
    wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
    if args.no_baseline and "baseline" in wanted:
        wanted.remove("baseline")
    unknown = [e for e in wanted if e not in available]
    if unknown:
        print(f"unknown engine(s): {', '.join(unknown)}; expected {', '.join(available)}", file=sys.stderr)
        return 2
    totals = {}
    for name in wanted:
        title, fn = available[name]
        # a fresh pool per engine: the peak RSS of its workers is that engine's own
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results, rss = {}, 0.0
            for i, (path, res, secs, cpu_s, rss_mb) in enumerate(pool.map(fn, labels), 1):
                results[path] = (res, secs, cpu_s)
                rss = max(rss, rss_mb)
                print(f"[{name} {i}/{len(labels)}] {Path(path).name} -> {res['kind']} "
                      f"{len(res.get('rows') or [])} rows {cpu_s:.2f} cpu s", file=sys.stderr)
            totals[name] = report(title, results, labels, args.verbose, rss)
    if len(totals) > 1:
        print("\n== side by side (same images, same run) ==")
        for name, sm in totals.items():
            print(f"{name:<10} recall {sm.recall:.1%}  precision {sm.precision:.1%}  fields "
                  f"{sm.categorical_accuracy:.1%}  meta {sm.meta_accuracy:.1%}  doubtful {sm.doubtful}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
