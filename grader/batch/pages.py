"""Each student's report.html and results.json, rendered again when the tutor's marks change.

The job that grades a student stores the whole :class:`~grader.model.GradeReport` beside the
pages (``.grader-report.json``: every field as JSON through cattrs, figures as base85), so
that the marks a tutor enters in manual.csv later reach the student's pages without grading
again. ``results.json`` says which marks it shows (``extra_data.manual``): a student whose
marks are unchanged is not rendered again.

    >>> refresh_pages(Path("graded"), records, marking)     # doctest: +SKIP
    3
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader import as_json
from grader.model import GradeReport, ManualMark
from grader.report import write_atomic
from grader.report.gradescope import manual_results, render_json
from grader.report.html import render_html

STORED = ".grader-report.json"


def store(report: GradeReport) -> str:
    """The report as JSON text, read back whole by :func:`load`."""
    return as_json.dumps(report)


def load(text: str) -> GradeReport:
    return as_json.loads(text, GradeReport)


def shown_marks(folder: Path) -> Any:
    """What ``results.json`` in ``folder`` shows of the tutor's marks (None: none; "missing":
    no readable file)."""
    try:
        return json.loads((folder / "results.json").read_text(encoding="utf-8"))["extra_data"].get("manual")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "missing"


def refresh_pages(out: Path, records: tuple[dict[str, Any], ...], marks: dict[str, tuple[ManualMark, ...]]) -> int:
    """Render the pages of each graded student whose results.json does not show ``marks[student]``
    (``()`` or absent: no manual items); returns how many were rendered."""
    from cattrs.errors import BaseValidationError

    rendered = 0
    for record in records:
        if record["status"] == "error":
            continue
        folder, given = out / record["student"], tuple(marks.get(record["student"], ()))
        wanted = manual_results(given, record["score"], record["max_score"]) if given else None
        if shown_marks(folder) == wanted:
            continue
        try:
            report = replace(load((folder / STORED).read_text(encoding="utf-8")), manual=given)
        except (OSError, ValueError, BaseValidationError):
            continue  # nothing to render from; a missing stored report makes run.pending grade it again
        # results.json last: it says which marks the pages show, so a run killed in between
        # leaves a mismatch that the next run renders again.
        write_atomic(folder / "report.html", render_html(report))
        write_atomic(folder / "results.json", render_json(report))
        rendered += 1
    return rendered
