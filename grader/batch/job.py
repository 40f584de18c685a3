"""Grading one batch entry, in a process that keeps its sandbox from one entry to the next.

A job process (a local one, or a Dask worker) imports torch and the grader once, keeps one
sandbox (the zygote that forks a worker per exercise, see :mod:`grader.batch.sandboxes`)
and grades entry after entry with it::

    >>> result = grade_entry(Task(entry, staging, config_path, settings))   # doctest: +SKIP
    >>> result.record["status"], result.record["score"]                    # doctest: +SKIP
    ('graded', 35.0)

The result carries the rendered ``results.json`` and ``report.html``, the whole report (to
render them again with a tutor's marks) and the record; the process that scheduled the
task writes them. All of it is the grader's own data: nothing
the student's worker sent is pickled, only values the grader computed from it.
"""

from __future__ import annotations

import base64
import gc
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from grader import __version__
from grader.batch.intake import stage
from grader.batch.pages import store
from grader.batch.sandboxes import config, discard, sandbox
from grader.batch.similarity import prepare
from grader.batch.tasks import EntryResult, Task, base_record, error_record, now
from grader.config import AssignmentConfig
from grader.errors import Unreadable
from grader.grading import Options, grade
from grader.loading import load_checks
from grader.model import CheckResult, ExerciseResult, Feedback, GradeReport
from grader.report.gradescope import render_json
from grader.report.html import render_html
from grader.vocabulary import EntryStatus

MAX_SUMMARY = 300


_warmed: set[tuple[Path, str]] = set()


def warm_up(config_path: Path, assignment_id: str) -> None:
    """Import the assignment's checks (and their libraries) once, before the first entry.

    Then the objects of all those imports (torch's are many) are frozen out of the garbage
    collector's way: they live as long as the process, and every full collection would walk
    them again. Measured here: collections took about 10% of a job's time, about 5% after.
    """
    if (config_path, assignment_id) in _warmed:
        return
    import torch

    # Before any torch operation: job processes forked from this one must not inherit a thread pool.
    torch.set_num_threads(1)
    assignment = config(config_path).assignments[assignment_id]
    for exercise in assignment.exercises:
        load_checks(assignment, exercise)
    prepare("warm_up.py", "")  # loads the lexer that prepares every student's files for comparing
    gc.freeze()
    _warmed.add((config_path, assignment_id))


def grade_entry(task: Task) -> EntryResult:
    """Stage and grade one entry; never raises for a failure of the submission or the grader."""
    start = time.perf_counter()
    entry, settings = task.entry, task.settings
    try:
        assignment = config(task.config_path).assignments[settings.assignment]
        options = Options(mode="grade", seed=settings.seed, exercises=settings.exercises,
                          exercise_seconds=settings.exercise_seconds, submission_label=entry.name,
                          for_student=True)
        status: EntryStatus
        reason: str | None
        try:
            folder: Path | None = stage(entry, task.staging)
        except Unreadable as exc:
            report, status, reason = unreadable_report(assignment, options, str(exc)), "unreadable", str(exc)
            folder = None
        else:
            report, status, reason = _grade(assignment, folder, options), "graded", None
        record = make_record(task, report, status, reason, time.perf_counter() - start, folder)
        return EntryResult(entry.student, record, render_json(report), render_html(report), store(report))
    except Exception as exc:  # the grader's own failure on this entry: recorded, the batch goes on  # noqa: BLE001
        where = traceback.extract_tb(exc.__traceback__)[-3:]
        reason = f"grader error ({type(exc).__name__}: {str(exc)[:MAX_SUMMARY]}) at " + ", ".join(
            f"{Path(f.filename).name}:{f.lineno}" for f in where)
        return EntryResult(entry.student, error_record(task, reason, time.perf_counter() - start), None, None)
    finally:
        shutil.rmtree(task.staging, ignore_errors=True)


def _grade(assignment: AssignmentConfig, folder: Path, options: Options) -> GradeReport:
    """Grade with this process's sandbox; on grader errors, once more with a fresh one.

    A sandbox whose zygote died (killed by a hostile submission, say) fails every later
    worker start; a fresh sandbox keeps that from spreading to the next submissions.
    """
    report = grade(assignment, folder, sandbox(assignment), options)
    if report.grader_errors:
        discard(assignment)
        report = grade(assignment, folder, sandbox(assignment), options)
    return report


def unreadable_report(assignment: AssignmentConfig, options: Options, reason: str) -> GradeReport:
    """Zero points: every check failed with ``reason`` (the archive was rejected or empty)."""
    feedback = Feedback(summary=f"your submission could not be read: {reason}")
    exercises = []
    for exercise in assignment.exercises:
        if options.exercises and exercise.id not in options.exercises:
            continue
        specs = load_checks(assignment, exercise)
        checks = [CheckResult(exercise.id, c.id, specs[c.id].description, c.points, c.visibility,
                              Unreadable.outcome, feedback)
                  for c in exercise.checks]
        checks += [CheckResult(exercise.id, a.check_id, f"hand-computed answer '{a.key}' in answers.yaml",
                               a.points, a.visibility, Unreadable.outcome, feedback)
                   for a in exercise.answers]
        exercises.append(ExerciseResult(exercise.id, exercise.title, exercise.file, tuple(checks),
                                        free_text=tuple((key, "") for key in exercise.free_text),
                                        file_state="absent"))
    return GradeReport(
        assignment=assignment.id, title=assignment.title, submission=options.submission_label or "",
        mode="grade", seed=assignment.seed if options.seed is None else options.seed,
        exercises=tuple(exercises), started=now(), seconds=0.0, grader_version=__version__,
        notes=("no code was run: the submission could not be read",),
    )


def make_record(task: Task, report: GradeReport, status: EntryStatus, reason: str | None, seconds: float,
                folder: Path | None = None) -> dict[str, Any]:
    """The record of a graded (or unreadable) entry: what the cohort files are built from;
    ``folder`` is the staged submission, whose files are prepared for comparing."""
    return {
        **base_record(task, status, seconds),
        "reason": reason,
        "score": report.score,
        "max_score": report.max_score,
        "student_seconds": round(sum(e.student_seconds for e in report.exercises), 3),
        "exercises": [{"id": e.id, "title": e.title, "file": e.file, "score": e.score, "max_score": e.max_score,
                       "kind": e.kind, "near_match": e.near_match} for e in report.exercises],
        "checks": [{
            "exercise": c.exercise, "check": c.check, "description": c.description, "points": c.points,
            "status": c.status, "outcome": c.outcome, "mistake": c.mistake,
            "hint": c.feedback.hint if c.feedback else None,
            "summary": c.feedback.summary[:MAX_SUMMARY] if c.feedback else None,
            # The failing input and got-vs-expected rows: students who share them share a mistake.
            "input": c.feedback.input[:MAX_SUMMARY] if c.feedback and c.feedback.input else None,
            "details": [row[:MAX_SUMMARY] for row in c.feedback.details[:6]] if c.feedback else [],
        } for c in report.checks()],
        "free_text": [{"exercise": e.id, "key": key, "text": text}
                      for e in report.exercises for key, text in e.free_text],
        "grader_errors": [f"{c.exercise}.{c.check}: {c.feedback.summary[:MAX_SUMMARY] if c.feedback else 'error'}"
                          for c in report.grader_errors],
        "code": code_for_similarity(report, folder) if folder else {},
        "figures": [{"exercise": e.id, "title": f.title, "student": _thumbnail(f.student_png),
                     "reference": _thumbnail(f.reference_png), "note": f.note}
                    for e in report.exercises for f in e.figures],
    }


def code_for_similarity(report: GradeReport, folder: Path) -> dict[str, dict[str, Any]]:
    """Each file the student wrote (not the skeleton as shipped, not absent), prepared for
    :mod:`grader.batch.similarity`; a file that cannot be read or lexed is left out, since
    comparing is a lead for the tutor and must not cost the student's grading."""
    code: dict[str, dict[str, Any]] = {}
    for exercise in report.exercises:
        if exercise.file_state != "submitted" or exercise.file in code:
            continue
        try:
            text = (folder / exercise.file).read_bytes().decode("utf-8", "replace")
            code[exercise.file] = prepare(exercise.file, text)
        except Exception:  # noqa: BLE001 - see the docstring
            continue
    return code


def _thumbnail(png: bytes | None) -> str | None:
    from grader.images import thumbnail_jpeg

    return base64.b64encode(thumbnail_jpeg(png)).decode("ascii") if png else None
