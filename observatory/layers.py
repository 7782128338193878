"""The pipeline's topology, declared once: which module may import which.

Layers are listed bottom first. A module may import its own layer and the layers
below it, never one above, not even inside a function (tests/test_layers.py reads
every import with `ast` and enforces this; it also refuses a cycle between packages
of one layer). A module belongs to the longest prefix that names it here (the bare
`observatory` names only the package itself); a new package must be placed here
before the test passes.

Why this order, read from the code:
- foundation: settings, logs, clocks, small files; no pipeline knowledge.
- eventlog: the facts, their models and upcasters; `import observatory.eventlog`
  loads no OCR and no projection code.
- cli_support: what every command shares (settings context, opening the store); the
  steps of a later stage a command needs (project after correcting, OCR after
  ingesting) are handed in by cli.py through its Context.
- games: the game packs' declarations, which every stage above reads.
- identity, correct: pure rules over names and corrections; the projections apply them.
- ingest, watch: files in, events out.
- extract: pixels to rows, pure of the log.
- project: the read tables; they only read the log.
- process: drives the stages after ingest: OCR through extract, then brings the
  projections up to date, so it sits above both.
- operations: serve, health, backup, demo read or copy what the stages built.
- schedule: runs the operations (backup, verify, retention, staleness) on timers.
- top: `observatory status` (health and schedule in one report), the daemon, the CLI.
"""

from __future__ import annotations

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("observatory", "observatory.settings", "observatory.logs", "observatory.clock",
                    "observatory.durations", "observatory.jsonfiles", "observatory.lifecycle", "observatory.sqlite_wal",
                    "observatory.child_env", "observatory.layers")),
    ("eventlog", ("observatory.eventlog",)),
    ("cli_support", ("observatory.cli_support",)),
    ("games", ("observatory.games",)),
    ("rules", ("observatory.identity", "observatory.correct")),
    ("ingest", ("observatory.ingest", "observatory.watch")),
    ("extract", ("observatory.extract",)),
    ("project", ("observatory.project",)),
    ("process", ("observatory.process",)),
    ("operations", ("observatory.serve", "observatory.health", "observatory.backup", "observatory.demo")),
    ("schedule", ("observatory.schedule",)),
    ("top", ("observatory.status", "observatory.runner", "observatory.cli", "observatory.__main__")),
)


def layer_of(module: str) -> tuple[int, str, str]:
    """(position, layer name, the prefix that placed it) of a dotted module name; KeyError when undeclared."""
    best: tuple[int, str, str] | None = None
    for position, (name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != "observatory" and module.startswith(prefix + ".")):
                if best is None or len(prefix) > len(best[2]):
                    best = (position, name, prefix)
    if best is None:
        raise KeyError(f"{module} is in no layer of observatory/layers.py")
    return best
