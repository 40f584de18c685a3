"""What a submission's files say before any of its code runs: a misnamed file, an untouched skeleton,
the assignment they belong to, the heavy modules they import.

Runs in the parent on the files as data: they are parsed (``ast.parse``), never executed.

>>> near_match("conv2d.py", "conv2d", ["conv2d (1).py", "notes.py"])
'conv2d (1).py'
>>> near_match("param_count.py", "parameter_counting", ["parameter_counting.py"])
'parameter_counting.py'
"""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import UsageError
from grader.vocabulary import FileState

if TYPE_CHECKING:
    from grader.config import AssignmentConfig, Config

MAX_BYTES = 1024 * 1024
# What copying, downloading twice or an editor adds to a name: "conv2d (1)", "conv2d - Copy", "conv2d_copy2".
_COPY_MARK = re.compile(r"(\s*\(\d+\)|[\s_-]*copy(\s*\d+)?|[\s_-]+\d+)$", re.IGNORECASE)


def _normal(name: str) -> str:
    """A file name as a student means it: case, a repeated ".py", copy marks and spaces ignored."""
    stem = name.lower()
    while stem.endswith(".py"):
        stem = stem[:-3]
    stem = _COPY_MARK.sub("", stem.strip())
    return re.sub(r"[\s-]+", "_", stem)


def near_match(expected: str, exercise_id: str, candidates: list[str]) -> str | None:
    """The candidate a student most likely meant as ``expected``, or None.

    Equal once normalised to the file's name or the exercise id, or close to either by
    ``difflib`` (a typo, ``atention.py``), or holding the name whole (``my_attention.py``).
    """
    wanted = {_normal(expected), _normal(exercise_id)}
    scored = []
    for candidate in candidates:
        name = _normal(candidate)
        ratio = max(difflib.SequenceMatcher(None, name, w).ratio() for w in wanted)
        holds = any(len(w) >= 4 and w in name for w in wanted)
        if name in wanted or ratio >= 0.8 or holds:
            scored.append((name in wanted, ratio, candidate))
    return max(scored)[2] if scored else None


def submitted_python_files(folder: Path, taken: set[str]) -> list[str]:
    """The .py files at the top of ``folder`` that no exercise or helper of the assignment claims."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [p.name for p in entries
            if p.name.lower().endswith(".py") and p.name not in taken and p.is_file() and not p.is_symlink()]


def _parsed(path: Path) -> ast.Module | None:
    """The file's syntax tree, None where it is no regular file, too large or does not parse."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        return ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _tree(path: Path) -> str | None:
    """The file's syntax tree as text (comments and layout dropped), None where it does not parse."""
    tree = _parsed(path)
    return None if tree is None else ast.dump(tree)


def imported(path: Path) -> set[str]:
    """The absolute imports anywhere in a Python file, inside functions too: ``import a.b`` and
    ``from a.b import c`` both give "a.b".

    >>> {"torchvision", "matplotlib.pyplot"} <= imported(Path("reference/ps5/guided_backprop.py"))  # doctest: +SKIP
    True
    """
    tree = _parsed(path)
    names: set[str] = set()
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def needed_preload(assignment: AssignmentConfig, exercises: list[str], folder: Path) -> tuple[str, ...]:
    """The assignment's preloaded modules (torchvision, matplotlib) that the files of ``exercises``
    in ``folder`` import, themselves or through a helper file the assignment provides.

    Only a matter of speed: a worker imports whatever else its student's code asks for.
    """
    files = [folder / assignment.exercise(e).file for e in exercises]
    packages: set[str] = set()
    seen: set[Path] = set()
    while files:
        path = files.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported(path):
            packages.add(name.split(".")[0])
            if f"{name}.py" in assignment.provided:
                files.append(assignment.templates / f"{name}.py")
    return tuple(module for module in assignment.preload if module.split(".")[0] in packages)


def file_state(folder: Path, file: str, template: Path) -> FileState:
    """"absent" without a regular file named ``file``; "skeleton" when it is the template again.

    The template is compared by syntax tree, so comments and layout do not count: the
    skeleton of Ex. 5 runs as shipped (it holds the sheet's buggy layer) and a half-done file
    may raise NotImplementedError in every check, so neither failures nor that exception
    tell an untouched file from an unfinished one; its text does.
    """
    path = folder / file
    if path.is_symlink() or not path.is_file():
        return "absent"
    skeleton = _tree(template)
    return "skeleton" if skeleton is not None and _tree(path) == skeleton else "submitted"


def recognise_assignment(config: Config, folder: Path) -> AssignmentConfig:
    """The assignment whose exercise files ``folder`` holds most of (a UsageError when none or a tie).

    >>> recognise_assignment(config, Path("examples/basics")).id       # doctest: +SKIP
    'basics'
    """
    counts = {a.id: sum((folder / e.file).is_file() for e in a.exercises) for a in config.assignments.values()}
    best = max(counts.values())
    winners = [aid for aid, n in counts.items() if n == best]
    if best == 0:
        files = ", ".join(sorted({e.file for a in config.assignments.values() for e in a.exercises}))
        raise UsageError(f"{folder} holds none of the exercise files ({files}); pass --assignment")
    if len(winners) > 1:
        raise UsageError(f"{folder} could belong to {' or '.join(winners)}; pass --assignment")
    return config.assignments[winners[0]]
