"""Grading one batch entry, in a process that keeps its sandbox from one entry to the next.

A job process (a local one, or a Dask worker) imports torch and the grader once, starts one
:class:`Sandbox` (the zygote that forks a worker per exercise) on first use, and grades
entry after entry with it::

    >>> outcome = grade_entry(Task(entry, staging, config_path, settings))   # doctest: +SKIP
    >>> outcome.record["status"], outcome.record["score"]                    # doctest: +SKIP
    ('graded', 35.0)

The outcome carries the rendered ``results.json`` and ``report.html`` and the record; the
process that scheduled the task writes them. All of it is the grader's own data: nothing
the student's worker sent is pickled, only values the grader computed from it.
"""

from __future__ import annotations

import shutil
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from grader import __version__
from grader.batch.intake import stage
from grader.batch.tasks import Outcome, Task, base_record, error_record, now
from grader.config import AssignmentConfig, Config, load_config
from grader.errors import Unreadable
from grader.grading import Options, grade
from grader.loading import load_checks
from grader.model import CheckResult, ExerciseResult, Feedback, GradeReport
from grader.report.gradescope import render_json
from grader.report.html import render_html
from grader.sandbox.client import Sandbox

MAX_SUMMARY = 300


# One sandbox per thread of a job process (a Dask worker may run several threads).
_local = threading.local()
_configs: dict[Path, Config] = {}


def _config(path: Path) -> Config:
    if path not in _configs:
        _configs[path] = load_config(path)
    return _configs[path]


def _sandbox(assignment: AssignmentConfig) -> Sandbox:
    boxes: dict[tuple[Any, ...], Sandbox] = _local.__dict__.setdefault("sandboxes", {})
    key = (assignment.limits.max_message_mb, assignment.preload)
    if key not in boxes:
        boxes[key] = Sandbox(max_message=assignment.limits.max_message_mb * 1024 * 1024, preload=assignment.preload)
    return boxes[key]


def _discard_sandbox(assignment: AssignmentConfig) -> None:
    boxes: dict[tuple[Any, ...], Sandbox] = _local.__dict__.get("sandboxes", {})
    box = boxes.pop((assignment.limits.max_message_mb, assignment.preload), None)
    if box is not None:
        box.close()


def close_sandboxes() -> None:
    """Stop this thread's sandboxes (their zygotes would also die with the process)."""
    for box in _local.__dict__.pop("sandboxes", {}).values():
        box.close()


def warm_up(config_path: Path, assignment_id: str) -> None:
    """Start the sandbox and import the assignment's checks before the first entry arrives."""
    assignment = _config(config_path).assignments[assignment_id]
    _sandbox(assignment)
    for exercise in assignment.exercises:
        load_checks(assignment, exercise)


def grade_entry(task: Task) -> Outcome:
    """Stage and grade one entry; never raises for a failure of the submission or the grader."""
    start = time.perf_counter()
    entry, settings = task.entry, task.settings
    try:
        assignment = _config(task.config_path).assignments[settings.assignment]
        options = Options(mode="grade", seed=settings.seed, exercises=settings.exercises,
                          exercise_seconds=settings.exercise_seconds, submission_label=str(entry.source))
        try:
            folder = stage(entry, task.staging)
        except Unreadable as exc:
            report, status, reason = unreadable_report(assignment, options, str(exc)), "unreadable", str(exc)
        else:
            report, status, reason = _grade(assignment, folder, options), "graded", None
        record = make_record(task, report, status, reason, time.perf_counter() - start)
        return Outcome(entry.student, record, render_json(report), render_html(report))
    except Exception as exc:  # the grader's own failure on this entry: recorded, the batch goes on
        where = traceback.extract_tb(exc.__traceback__)[-3:]
        reason = f"grader error ({type(exc).__name__}: {str(exc)[:MAX_SUMMARY]}) at " + ", ".join(
            f"{Path(f.filename).name}:{f.lineno}" for f in where)
        return Outcome(entry.student, error_record(task, reason, time.perf_counter() - start), None, None)
    finally:
        shutil.rmtree(task.staging, ignore_errors=True)


def _grade(assignment: AssignmentConfig, folder: Path, options: Options) -> GradeReport:
    """Grade with this process's sandbox; on grader errors, once more with a fresh one.

    A sandbox whose zygote died (killed by a hostile submission, say) fails every later
    worker start; a fresh sandbox keeps that from spreading to the next submissions.
    """
    report = grade(assignment, folder, _sandbox(assignment), options)
    if report.grader_errors:
        _discard_sandbox(assignment)
        report = grade(assignment, folder, _sandbox(assignment), options)
    return report


def unreadable_report(assignment: AssignmentConfig, options: Options, reason: str) -> GradeReport:
    """Zero points: every check failed with ``reason`` (the archive was rejected or empty)."""
    feedback = Feedback(summary=f"your submission could not be read: {reason}")
    exercises = []
    for exercise in assignment.exercises:
        if options.exercises and exercise.id not in options.exercises:
            continue
        specs = load_checks(assignment, exercise)
        checks = [CheckResult(exercise.id, c.id, specs[c.id].description, c.points,
                              c.visibility, "failed", feedback)  # type: ignore[arg-type]
                  for c in exercise.checks]
        checks += [CheckResult(exercise.id, a.check_id, f"hand-computed answer '{a.key}' in answers.yaml",
                               a.points, a.visibility, "failed", feedback)  # type: ignore[arg-type]
                   for a in exercise.answers]
        exercises.append(ExerciseResult(exercise.id, exercise.title, exercise.file, tuple(checks),
                                        free_text=tuple((key, "") for key in exercise.free_text)))
    return GradeReport(
        assignment=assignment.id, title=assignment.title, submission=options.submission_label or "",
        mode="grade", seed=assignment.seed if options.seed is None else options.seed,
        exercises=tuple(exercises), started=now(), seconds=0.0, grader_version=__version__,
        notes=("no code was run: the submission could not be read",),
    )


def make_record(task: Task, report: GradeReport, status: str, reason: str | None, seconds: float) -> dict[str, Any]:
    """The record of a graded (or unreadable) entry: what the cohort files are built from."""
    return {
        **base_record(task, status, seconds),
        "reason": reason,
        "score": report.score,
        "max_score": report.max_score,
        "student_seconds": round(sum(e.student_seconds for e in report.exercises), 3),
        "exercises": [{"id": e.id, "title": e.title, "score": e.score, "max_score": e.max_score}
                      for e in report.exercises],
        "checks": [{
            "exercise": c.exercise, "check": c.check, "description": c.description, "points": c.points,
            "status": c.status, "mistake": c.mistake,
            "hint": c.feedback.hint if c.feedback else None,
            "summary": c.feedback.summary[:MAX_SUMMARY] if c.feedback else None,
        } for c in report.checks()],
        "free_text": [{"exercise": e.id, "key": key, "text": text}
                      for e in report.exercises for key, text in e.free_text],
        "grader_errors": [f"{c.exercise}.{c.check}: {c.feedback.summary[:MAX_SUMMARY] if c.feedback else 'error'}"
                          for c in report.grader_errors],
    }
