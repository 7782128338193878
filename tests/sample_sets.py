"""The labelled sample screenshots of each game, read in place (never copied in), and their extraction by the
real default reader, once per fixture in two worker processes: shared by every game's sample-set tests."""
from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor

from observatory.extract import extract
from paths import REPO

SHARED = REPO.parent / "shared" / "samples"


def labelled(*folders: str) -> dict[str, dict]:
    """Image path -> its label, for every image of these game folders that has a label beside it."""
    out: dict[str, dict] = {}
    for folder in folders:
        for j in sorted((SHARED / folder).glob("*.json")):
            img = next((j.with_suffix(s) for s in (".jpg", ".png") if j.with_suffix(s).exists()), None)
            if img is not None:
                out[str(img)] = json.loads(j.read_text(encoding="utf-8"))
    return out


def _extract(path: str) -> dict:
    return extract(path).model_dump()


def extracted(labels: dict[str, dict]) -> dict[str, tuple[dict, dict]]:
    """Image path -> (the extraction, its label)."""
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        results = dict(zip(labels, pool.map(_extract, labels)))
    return {p: (results[p], labels[p]) for p in labels}
