#!/usr/bin/env python
"""Roster benchmark: how many players one alliance's screenshots make, against the real people.

Ingests every development screenshot of ``shared/samples/wos/`` into one community of a
temp ``OBSERVATORY_HOME`` through the real pipeline (``observatory ingest``: blob store,
OCR, projection; OCR costs a few CPU-seconds per image, so it runs once), then prints:
players found, players expected (the distinct people the labels name), found players whose
names match no real player, real players with no found player, and real players split over
several found players.

Expected players come from the labels' ``rows`` and ``partial_rows`` (but for a partial name that is only
the visible part of a full name, such as ``k275`` of jack275) of every kind that
names players, compared by the rule of ``shared/samples/README.md`` (the alliance tag split
off first): NFKC, case-folded, letters and digits only, similarity >= 0.9, or a match of
``name_plain`` (accents stripped, ASCII letters and digits). The same rule decides whether a
found player (any of its names) is a real player. A real player with no player of their own but a row
the extraction kept as doubtful for its name (a name no reader could read: in ``review_queue``, matched to
its label row by its numbers) is counted apart: that is the product saying "not sure", not a loss.
First, without OCR, it prints how many
decorated label names (``name_plain``) fold to their plain letters: with the NFKC key used
before, with decancer on whole strings, and with the matching key. Prints measured figures only.

    .venv/bin/python benchmarks/roster.py [--samples DIR] [--home DIR] [--keep] [-v]

``--home DIR`` with an existing home skips ingesting and only reports on it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz  # noqa: E402

from observatory.extract.scoring import NAME_THRESHOLD, plain_key  # noqa: E402
from observatory.extract.names import name_key  # noqa: E402
from observatory.identity import parse_name  # noqa: E402

DEFAULT_SAMPLES = ROOT.parent / "shared" / "samples" / "wos"
COMMUNITY = "HEI"
OBSERVATORY = ROOT / ".venv" / "bin" / "observatory"


class Person:
    """A real player of the labels: every name the labels show for them, with the plain letters."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.plains: set[str] = set()

    def __repr__(self) -> str:
        return " / ".join(sorted(self.names))


def _similar(a: str, b: str) -> bool:
    ka, kb = name_key(a), name_key(b)
    return bool(ka and kb) and fuzz.ratio(ka, kb) >= NAME_THRESHOLD * 100


def _plain_similar(reading: str, plain: str) -> bool:
    ka, kb = plain_key(reading), plain_key(plain)
    return bool(ka and kb) and fuzz.ratio(ka, kb) >= NAME_THRESHOLD * 100


def is_person(reading: str, person: Person) -> bool:
    """The samples' scoring rule: the reading (tag split off) is one of the person's names."""
    name = parse_name(reading).name
    return any(_similar(name, n) for n in person.names) or any(_plain_similar(name, p) for p in person.plains)


def _fragment(shown: str, people: list[Person]) -> bool:
    """A partial row's name that is only the visible end or start of a known person's name (`k275` of
    jack275 under an overlay): no person of its own."""
    key = name_key(parse_name(shown).name)
    return bool(key) and any(key in name_key(n) and key != name_key(n) for p in people for n in p.names)


def expected_people(samples: Path) -> list[Person]:
    people: list[Person] = []
    labels = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(samples.glob("*.json"))]
    # full rows first, so a partial row's visible fragment of a name is known as one
    rows = [(r, False) for lab in labels for r in lab.get("rows") or []]
    rows += [(r, True) for lab in labels for r in lab.get("partial_rows") or []]
    for row, partial in rows:
        shown = row.get("name")
        if not isinstance(shown, str) or not shown.strip() or "alliance" in row:
            continue
        if partial and _fragment(shown, people):
            continue
        plain = row.get("name_plain")
        name = parse_name(shown).name
        plain_name = parse_name(plain).name if isinstance(plain, str) else None
        same = [p for p in people if is_person(shown, p) or (plain_name and is_person(plain_name, p))]
        person = same[0] if same else Person()
        for other in same[1:]:  # a name that bridges two people makes them one
            person.names |= other.names
            person.plains |= other.plains
            people.remove(other)
        if not same:
            people.append(person)
        person.names.add(name)
        if plain_name:
            person.plains.add(plain_name)
            person.names.add(plain_name)
    return people


def fold_report(samples_root: Path) -> None:
    """Decorated names of every game's labels: how many keys equal (and fuzzy-match) their name_plain's key,
    for the NFKC-only key used before, decancer on the whole string, and the matching key."""
    import unicodedata

    import decancer_py

    from observatory.identity import normalize
    from observatory.identity.matching import DEFAULT_THRESHOLD

    pairs = set()
    for path in samples_root.glob("*/*.json"):
        label = json.loads(path.read_text(encoding="utf-8"))
        for row in (label.get("rows") or []) + (label.get("partial_rows") or []) + (label.get("excluded_rows") or []):
            if isinstance(row.get("name_plain"), str) and isinstance(row.get("name"), str):
                pairs.add((parse_name(row["name"]).name, parse_name(row["name_plain"]).name))
    keys = {
        "NFKC + casefold (before)": lambda t: unicodedata.normalize("NFKC", t).casefold().replace(" ", ""),
        "decancer, whole string": lambda t: str(decancer_py.parse(t)).replace(" ", ""),
        "matching key (now)": normalize,
    }
    print(f"decorated names in the labels: {len(pairs)}")
    for label, key in keys.items():
        exact = sum(key(a) == key(b) for a, b in pairs)
        close = sum(fuzz.ratio(key(a), key(b)) >= DEFAULT_THRESHOLD for a, b in pairs)
        print(f"  {label:<26} equal to name_plain's key: {exact:>2}   fuzzy match (>= {DEFAULT_THRESHOLD:.0f}): {close:>2}")


def ingest(samples: Path, home: Path) -> float:
    """Copy the images into the inbox and run `observatory ingest` on it (OCR and projection included)."""
    inbox = home / "watch_dir" / COMMUNITY
    inbox.mkdir(parents=True, exist_ok=True)
    images = sorted(samples.glob("*.jpg")) + sorted(samples.glob("*.png"))
    for img in images:
        shutil.copy2(img, inbox / img.name)
    env = {**os.environ, "OBSERVATORY_HOME": str(home)}
    env.pop("OBSERVATORY_WATCH_DIR", None)
    t = time.perf_counter()
    quiet = [str(OBSERVATORY), "--log-level", "WARNING"]
    subprocess.run([*quiet, "ingest", str(inbox), "--community", COMMUNITY], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([*quiet, "project"], env=env, check=True, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - t
    print(f"ingested {len(images)} screenshots in {took:.1f} s (OCR and projection included)")
    return took


def found_players(home: Path) -> dict[str, tuple[str, list[str]]]:
    """player id -> (display name, every name read for it)."""
    conn = sqlite3.connect(f"file:{home / 'projections' / 'observatory.db'}?mode=ro", uri=True)
    try:
        out = {pid: (name or "", []) for pid, name in
               conn.execute("SELECT player_id, display_name FROM players WHERE community = ?", [COMMUNITY])}
        for pid, name, tag in conn.execute("SELECT player_id, name, tag FROM player_aliases WHERE community = ?",
                                           [COMMUNITY]):
            if pid in out:
                out[pid][1].append(f"[{tag}]{name}" if tag else name)
        usage = dict(conn.execute("SELECT coalesce(kind, 'none'), count(*) FROM screenshots GROUP BY 1"))
        print("screenshots by kind:", ", ".join(f"{k} {n}" for k, n in sorted(usage.items())))
        return out
    finally:
        conn.close()


NUMBERS = ("rank", "order", "power", "contribution", "damage", "points")


def awaiting_review(home: Path, samples: Path, people: list[Person]) -> dict[int, list[str]]:
    """Real players (by index) with a row the extraction kept as doubtful for its name (a name no reader could
    read): the product's honest "not sure", in review_queue, never a player. A doubtful row is matched to its label
    row by its numbers (rank or order, and the value), then to the person by the label's name."""
    conn = sqlite3.connect(f"file:{home / 'projections' / 'observatory.db'}?mode=ro", uri=True)
    try:
        doubtful = conn.execute("SELECT s.file_name, e.data FROM extracted_rows e JOIN screenshots s ON s.id = "
                                "e.screenshot_id WHERE e.doubtful LIKE '%name%'").fetchall()
    finally:
        conn.close()
    out: dict[int, list[str]] = {}
    for file_name, data in doubtful:
        label_path = samples / (Path(file_name).stem + ".json")
        if not label_path.exists():
            continue
        label = json.loads(label_path.read_text(encoding="utf-8"))
        row = json.loads(data)
        shared = [k for k in NUMBERS if row.get(k) is not None]
        for want in (label.get("rows") or []) + (label.get("partial_rows") or []):
            if shared and all(want.get(k) == row[k] for k in shared) and isinstance(want.get("name"), str):
                for i, person in enumerate(people):
                    if is_person(want["name"], person):
                        out.setdefault(i, []).append(f"{Path(file_name).stem[11:26]} {row.get('name')!r}")
                break
    return out


def report(people: list[Person], found: dict[str, tuple[str, list[str]]], verbose: bool,
           review: dict[int, list[str]] | None = None) -> None:
    matched: dict[int, list[str]] = {}
    strangers = []
    for pid, (display, names) in sorted(found.items(), key=lambda kv: kv[1][0].casefold()):
        hits = {i for i, person in enumerate(people) for n in (names or [display]) if is_person(n, person)}
        for i in hits:
            matched.setdefault(i, []).append(display)
        if not hits:
            strangers.append((display, names))
    missing = [p for i, p in enumerate(people) if i not in matched]
    split = {i: d for i, d in matched.items() if len(d) > 1}
    print(f"players found:    {len(found)}")
    print(f"players expected: {len(people)} (distinct people in the labels)")
    print(f"found players matching a real player: {len(found) - len(strangers)}")
    print(f"found players matching no real player: {len(strangers)}")
    for display, names in strangers:
        others = sorted(set(names) - {display})
        print(f"  {display!r}" + (f"  (also read as {', '.join(map(repr, others))})" if others else ""))
    review = review or {}
    waiting = [i for i, p in enumerate(people) if i not in matched and i in review]
    print(f"real players missing: {len(missing)}, of them with rows in review_queue (name doubtful): {len(waiting)}")
    for i, p in sorted(((i, p) for i, p in enumerate(people) if i not in matched), key=lambda ip: repr(ip[1])):
        print(f"  {p!r}" + (f"  (in review: {'; '.join(review[i])})" if i in review else ""))
    print(f"real players split over several found players: {len(split)}")
    for i, displays in sorted(split.items(), key=lambda kv: repr(people[kv[0]])):
        print(f"  {people[i]!r}: {', '.join(map(repr, sorted(displays)))}")
    exact = not strangers and not split and len(missing) == len(waiting)
    print(f"one player per real person, no garbled names (a name no reader could read is in review): "
          f"{'yes' if exact else 'no'}")
    if verbose:
        print("real players and the found players that are them:")
        for i, person in sorted(enumerate(people), key=lambda kv: repr(kv[1])):
            print(f"  {person!r}: {', '.join(map(repr, matched.get(i, [])))}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES, help="labelled screenshots (*.jpg + *.json)")
    ap.add_argument("--home", type=Path, help="report on this home; ingest into it first if it has no projections")
    ap.add_argument("--keep", action="store_true", help="keep the temp home and print its path")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every real player and who they were found as")
    args = ap.parse_args(argv)
    if not args.samples.is_dir():
        print(f"no samples at {args.samples}", file=sys.stderr)
        return 2
    fold_report(args.samples.parent)
    people = expected_people(args.samples)
    tmp = None
    home = args.home
    if home is None:
        tmp = tempfile.mkdtemp(prefix="observatory-roster-")
        home = Path(tmp)
    try:
        if not (home / "projections" / "observatory.db").exists():
            ingest(args.samples, home)
        report(people, found_players(home), args.verbose, awaiting_review(home, args.samples, people))
    finally:
        if tmp is not None:
            if args.keep:
                print(f"home kept at {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
