"""Imports go one way: the layers declared in observatory/layers.py, read from every module's source.

Function-local and TYPE_CHECKING imports count too: a cycle hidden inside a function is
still a cycle for the reader.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import observatory
from observatory.layers import LAYERS, layer_of

ROOT = Path(observatory.__file__).parent


def _module_name(path: Path) -> str:
    parts = ("observatory", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported observatory module) for every import in the file, at any depth."""
    is_package = path.name == "__init__.py"
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:  # `from . import x` may name a submodule
                sub = f"{base}.{alias.name}"
                out.append((node.lineno, sub if sub in MODULES else base))
    return [(line, name) for line, name in out if name == "observatory" or name.startswith("observatory.")]


EDGES = [(m, line, target) for m, p in MODULES.items() for line, target in _imports(m, p)]


def test_every_module_has_a_declared_layer() -> None:
    undeclared = []
    for module in MODULES:
        try:
            layer_of(module)
        except KeyError as exc:
            undeclared.append(str(exc))
    assert not undeclared, "\n".join(undeclared)


def test_no_module_imports_a_layer_above_its_own() -> None:
    bad = []
    for module, line, target in EDGES:
        (mine, my_layer, _), (theirs, their_layer, _) = layer_of(module), layer_of(target)
        if theirs > mine:
            bad.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line}: {module} ({my_layer}) imports {target} "
                       f"({their_layer}), a layer above")
    assert not bad, "\n".join(bad)


def test_the_packages_of_one_layer_form_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for module, line, target in EDGES:
        a, b = layer_of(module)[2], layer_of(target)[2]
        if a != b:
            graph.setdefault(a, set()).add(b)
            where.setdefault((a, b), f"{MODULES[module].relative_to(ROOT.parent)}:{line}")

    def cycle_from(start: str, node: str, path: list[str]) -> list[str] | None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, nxt]
            if nxt not in path:
                found = cycle_from(start, nxt, [*path, nxt])
                if found:
                    return found
        return None

    for start in sorted(graph):
        cycle = cycle_from(start, start, [start])
        assert cycle is None, "import cycle: " + " -> ".join(cycle) + " (" + ", ".join(
            where[(x, y)] for x, y in zip(cycle, cycle[1:])) + ")"


def test_the_declaration_names_each_prefix_once() -> None:
    prefixes = [p for _, group in LAYERS for p in group]
    assert len(prefixes) == len(set(prefixes))


def test_a_lower_layer_import_is_caught_with_its_file_and_line(tmp_path: Path) -> None:
    """The checker itself: an upward import inside a function is found."""
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from ..project import open_db\n", encoding="utf-8")
    found = _imports("observatory.eventlog.probe", source)
    assert found == [(2, "observatory.project")]
    assert layer_of("observatory.project")[0] > layer_of("observatory.eventlog.probe")[0]


FORBIDDEN = ("observatory.extract", "observatory.project", "rapidocr", "onnxruntime", "pytesseract", "PIL")


@pytest.mark.parametrize("module", ["observatory.eventlog"])
def test_importing_the_event_log_loads_no_ocr_and_no_projection_code(module: str) -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                          capture_output=True, text=True, timeout=120, check=True)
    loaded = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert module in loaded
    heavy = sorted({name for name in loaded for f in FORBIDDEN if name == f or name.startswith(f + ".")})
    assert not heavy, f"`import {module}` loads {', '.join(heavy)}"
