"""Rules that keep the test suite easy to change: test modules share helpers, never each other.

A helper a second test needs goes into a helper module (builders, stores, paths, ...) or a
fixture in conftest.py; importing a test module runs its module-level code and re-collects
its tests, and moving one test then breaks another.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


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
