"""Renderers: each reads a GradeReport and returns text; none of them runs code.

``text`` (terminal and the plain feedback grammar), ``gradescope`` (results.json), ``html``
(one self-contained page) and ``junit`` (JUnit XML for CI). :func:`write_atomic` writes
their output so that a reader never sees half a file, :func:`write_reports` each file asked for.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.model import GradeReport

# Each report file by its command-line option: the renderer, imported only when that file is
# asked for (jinja2 takes a while to import).
RENDERERS = {"json": ("grader.report.gradescope", "render_json"), "html": ("grader.report.html", "render_html"),
             "junit": ("grader.report.junit", "render_junit"), "markdown": ("grader.report.markdown", "render_markdown")}
# The report files that show figures (the student's beside the reference's); the others never do.
WITH_FIGURES = frozenset({"html"})


def shows_figures(files: dict[str, Path | None]) -> bool:
    """Whether any report file asked for shows figures: only then is a reference figure worth drawing.

    >>> shows_figures({"json": Path("results.json"), "html": None})
    False
    """
    return any(files.get(option) is not None for option in WITH_FIGURES)


def write_reports(report: GradeReport, files: dict[str, Path | None]) -> None:
    """Write ``report`` to each file given, in the format its key names (a key of :data:`RENDERERS`).

    >>> write_reports(report, {"json": Path("results.json"), "html": None})   # doctest: +SKIP
    """
    for option, target in files.items():
        if target is not None:
            module, name = RENDERERS[option]
            render: Callable[[GradeReport], str] = getattr(importlib.import_module(module), name)
            write_atomic(target, render(report))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
