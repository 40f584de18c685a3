"""results.json in Gradescope's format, one test per check.

Top level ``score``, ``max_score``, ``execution_time``, ``output``, ``stdout_visibility``
(hidden: the terminal report shows hidden checks), ``tests``; each test has ``name``,
``number``, ``score``, ``max_score``, ``status``, ``output``, ``visibility`` and
``extra_data`` with the exercise and check ids and the check's ``outcome`` ("passed",
"wrong", "timeout", ...: ``grader.vocabulary.Outcome``). ``status`` is Gradescope's:
"passed" or "failed", a grader error included (its outcome is "grader-error"). Public
checks are "visible"; hidden checks are "after_published", so students see them once the
grades are published.
"""

from __future__ import annotations

import json
from typing import Any

from grader.model import GradeReport, ManualMark
from grader.report.text import check_text, points

VISIBILITY = {"public": "visible", "hidden": "after_published"}
# The grader's terminal output (Gradescope shows a run's stdout) has every hidden check's
# feedback: course staff only.
STDOUT_VISIBILITY = "hidden"


def results(report: GradeReport) -> dict[str, Any]:
    """The results.json content as a dict."""
    tests = []
    for e_number, exercise in enumerate(report.exercises, 1):
        for c_number, check in enumerate(exercise.checks, 1):
            tests.append({
                "name": f"{exercise.title} · {check.check}: {check.description}",
                "number": f"{e_number}.{c_number}",
                "score": check.score,
                "max_score": check.points,
                "status": "passed" if check.passed else "failed",
                "output": check_text(check),
                "output_format": "text",
                "visibility": VISIBILITY[check.visibility],
                "extra_data": {
                    "exercise": check.exercise,
                    "check": check.check,
                    "outcome": check.outcome,
                    "mistake": check.mistake,
                    "seconds": check.seconds,
                },
            })
    errors = len(report.grader_errors)
    summary = [
        (f"{report.title}: {points(report.score)}/{points(report.max_score)} points "
        f"(seed {report.seed}, grader {report.grader_version})"),
        *report.notes,
    ]
    if errors:
        summary.append(f"{errors} check(s) hit a grader error; this is not your fault, please tell the course staff.")
    return {
        "score": report.score,
        "max_score": report.max_score,
        "execution_time": report.seconds,
        "output": "\n".join(summary),
        "output_format": "text",
        "stdout_visibility": STDOUT_VISIBILITY,
        "tests": tests,
        "extra_data": {
            "assignment": report.assignment,
            "mode": report.mode,
            "seed": report.seed,
            "started": report.started,
            "grader_version": report.grader_version,
            "submission": report.submission,
            # Why each exercise scored what it did ("misnamed file", "partly wrong", ...), for tutors.
            "exercises": {e.id: {"kind": e.kind, "near_match": e.near_match} for e in report.exercises},
            "seconds": {
                "total": report.seconds,
                "student": round(sum(e.student_seconds for e in report.exercises), 4),
                "reference": round(sum(e.reference_seconds for e in report.exercises), 4),
            },
            **({"manual": manual_results(report.manual, report.score, report.max_score)} if report.manual else {}),
        },
    }


def manual_results(marks: tuple[ManualMark, ...], score: float, max_score: float) -> dict[str, Any]:
    """The tutor's marks as results.json carries them (``extra_data.manual``, batch only): each
    item, their sum, and the totals with the automatic score, which the top-level ``score``
    and ``max_score`` keep on their own."""
    given = sum(m.points or 0.0 for m in marks)
    top = sum(m.max_points for m in marks)
    return {
        "score": given, "max_score": top, "marked": sum(m.points is not None for m in marks),
        "score_with_manual": score + given, "max_score_with_manual": max_score + top,
        "items": [{"exercise": m.exercise, "item": m.item, "title": m.title, "points": m.points,
                   "max_points": m.max_points, "comment": m.comment} for m in marks],
    }


def render_json(report: GradeReport) -> str:
    return json.dumps(results(report), indent=2, ensure_ascii=False) + "\n"
