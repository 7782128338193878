"""Rules that keep the test suite easy to change and quick to run while changing code.

A helper a second test needs goes into a helper module (builders, stores, paths, ...) or a
fixture in conftest.py; importing a test module runs its module-level code and re-collects
its tests, and moving one test then breaks another.

`make test-fast` (`pytest -m "not slow"`) must still reach every package: each
`observatory/<package>` is imported by a test module with at least one test not marked slow.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGES = sorted(p.name for p in (TESTS.parent / "observatory").iterdir() if (p / "__init__.py").is_file())


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in `path`, those inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_no_test_module_imports_another_test_module_or_conftest():
    tests = {p.stem for p in TESTS.glob("test_*.py")}
    offences = [f"{path.name}:{line} imports {module}"
                for path in sorted(TESTS.glob("*.py"))
                for line, module in imported_modules(path)
                if module.split(".")[0] in tests or module.split(".")[0] == "conftest"]
    assert offences == [], "move the shared helper into a helper module or a conftest fixture:\n" + "\n".join(offences)


def test_the_rule_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("import os\n\ndef f():\n    from test_other import helper\n    import conftest\n")
    assert imported_modules(sample) == [(1, "os"), (4, "test_other"), (5, "conftest")]


def fast_tests(tree: ast.Module) -> list[str]:
    """The module's test functions that `-m "not slow"` runs."""
    if any(isinstance(n, ast.Assign) and "pytestmark" in [getattr(t, "id", None) for t in n.targets]
           and "slow" in ast.unparse(n.value) for n in tree.body):
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name.startswith("test_") and "pytest.mark.slow" not in map(ast.unparse, n.decorator_list)]


def packages_imported(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("observatory.")}
    return found


def test_the_fast_loop_reaches_every_package():
    reached: set[str] = set()
    for path in TESTS.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if fast_tests(tree):
            reached |= packages_imported(tree)
    assert PACKAGES and [p for p in PACKAGES if p not in reached] == []
