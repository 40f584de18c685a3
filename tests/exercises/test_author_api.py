"""Every exercise module speaks only the course author's language.

It imports the checks library (``grader.checks``: the verbs, compare, strategies, background) and the
catalogue's ``Mistake``, never the sandbox or the report model; it reaches no further than
the ``Context`` (never ``ctx.student``), and fails a check with ``ctx.failure``, never by
building a ``CheckFailed`` or a ``Feedback`` by hand.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO

AUTHOR_MODULES = {"grader.checks", "grader.checks.background", "grader.checks.compare", "grader.checks.strategies",
                  "grader.catalogue"}
MODULES = [*sorted((REPO / "grader" / "exercises").glob("*/*.py")), FIXTURES / "new_exercise" / "checks" / "layer_norm.py"]


def reach_throughs(path: Path) -> list[str]:
    """What in the module's source goes past the author's API, one line each, in order."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader"):
            names = {node.module}
        elif isinstance(node, ast.Import):
            names = {alias.name for alias in node.names if alias.name.startswith("grader")}
        else:
            names = set()
        found += [(node.lineno, f"imports {name}") for name in names - AUTHOR_MODULES]
        if isinstance(node, ast.Attribute) and node.attr == "student":
            found.append((node.lineno, "reaches into .student"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("CheckFailed", "Feedback"):
            found.append((node.lineno, f"builds {node.func.id}(...) by hand"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_an_exercise_module_uses_the_authors_verbs_only(path: Path) -> None:
    assert reach_throughs(path) == []


def test_the_reach_throughs_are_found_where_they_are(tmp_path: Path) -> None:
    module = tmp_path / "old_style.py"
    module.write_text("from grader.sandbox.codec import Handle\nfrom grader.model import Feedback\n"
                      "from grader.checks import CheckFailed\n\n"
                      "def body(ctx):\n    ctx.student.memo['x'] = 1\n    raise CheckFailed(Feedback('wrong'))\n")
    assert reach_throughs(module) == [
        "line 1: imports grader.sandbox.codec", "line 2: imports grader.model", "line 6: reaches into .student",
        "line 7: builds CheckFailed(...) by hand", "line 7: builds Feedback(...) by hand",
    ]
