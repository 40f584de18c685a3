"""Grading one submission: every configured check of every exercise, into a GradeReport.

>>> with Sandbox() as sandbox:                                   # doctest: +SKIP
...     report = grade(assignment, Path("submission"), sandbox, Options(mode="grade"))
>>> report.score, report.max_score                               # doctest: +SKIP
(30.0, 30.0)
"""

from __future__ import annotations

import difflib
import shlex
import time
import traceback
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import torch

from grader import __version__
from grader.answers import Answers, check_answer, check_form, describe_form, free_text, read_answers
from grader.checks.core import CheckFailed, CheckSpec, Context, Student
from grader.config import AnswerConfig, AssignmentConfig, CheckConfig, ExerciseConfig
from grader.errors import AbortCheck, MissingPiece, StudentCrash, StudentFailure, TimeBudgetSpent, WorkerLost
from grader.loading import load_checks, load_mistakes, load_reference
from grader.model import CheckResult, ExerciseResult, Feedback, Figure, GradeReport
from grader.sandbox.client import Sandbox


@dataclass(frozen=True)
class Options:
    """How to grade: ``mode`` "check" runs public checks only; None means the config's value."""

    mode: Literal["check", "grade"] = "grade"
    seed: int | None = None
    exercises: tuple[str, ...] = ()
    exercise_seconds: float | None = None
    submission_label: str | None = None
    shrink_calls: int | None = None


def grade(assignment: AssignmentConfig, submission: Path, sandbox: Sandbox, options: Options) -> GradeReport:
    """Grade ``submission`` (a folder) and return the report; student failures never raise."""
    started = datetime.now(timezone.utc)
    start = time.perf_counter()
    # The grader's own tensors are tiny, and a worker computes beside it on the same cores.
    torch.set_num_threads(1)
    seed = assignment.seed if options.seed is None else options.seed
    chosen = [e for e in assignment.exercises if not options.exercises or e.id in options.exercises]
    answers = submitted_answers(assignment, submission) if any(e.answers or e.free_text for e in chosen) else None
    exercises = tuple(grade_exercise(assignment, exercise, submission, sandbox, options, seed, answers)
                      for exercise in chosen)
    return GradeReport(
        assignment=assignment.id,
        title=assignment.title,
        submission=options.submission_label or str(submission),
        mode=options.mode,
        seed=seed,
        exercises=exercises,
        started=started.isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - start, 3),
        grader_version=__version__,
        notes=(*answers_notes(assignment, exercises, answers, options), isolation_note(sandbox.isolation())),
    )


def isolation_note(layers: tuple[str, ...]) -> str:
    """One line on how the student's code was confined, and which layers were missing."""
    from grader.sandbox.confine import LAYERS, level_reached

    missing = [layer for layer in LAYERS if layer not in layers]
    text = f"isolation level {level_reached(layers) or 'none'}: process boundary, {', '.join(layers) or 'nothing more'}"
    if missing:
        text += f" (not available on this machine: {', '.join(missing)})"
    return text


def _wanted(visibility: str, options: Options) -> bool:
    return options.mode == "grade" or visibility == "public"


def reproduce_command(assignment: AssignmentConfig, exercise: ExerciseConfig, visibility: str,
                      options: Options, seed: int) -> str:
    folder = shlex.quote(options.submission_label or "SUBMISSION")
    if visibility == "public" and options.mode == "check":
        return f"grader check {folder} --exercise {exercise.id} --seed {seed}"
    return f"grader grade {folder} --assignment {assignment.id} --exercise {exercise.id} --seed {seed}"


def grade_exercise(assignment: AssignmentConfig, exercise: ExerciseConfig, submission: Path,
                   sandbox: Sandbox, options: Options, seed: int, answers: Submitted | None) -> ExerciseResult:
    """Run the checks and answer checks of one exercise in a fresh worker."""
    specs = load_checks(assignment, exercise)
    reference = load_reference(assignment, exercise) if options.mode == "grade" else None
    mistakes = load_mistakes(assignment, exercise)
    limit = options.exercise_seconds or assignment.limits.exercise_seconds
    student = Student(sandbox, submission, exercise, min(assignment.limits.call_seconds, limit), limit,
                      provided=assignment.provided, provided_from=assignment.templates)
    results: list[CheckResult] = []
    figures: list[Figure] = []
    reference_seconds = 0.0
    try:
        for config in exercise.checks:
            if not _wanted(config.visibility, options):
                continue
            context = Context(
                student=student, exercise=exercise, reference=reference, mistakes=mistakes,
                max_examples=config.max_examples or assignment.max_examples,
                seed=zlib.crc32(f"{seed}:{exercise.id}:{config.id}".encode()),
                reproduce=reproduce_command(assignment, exercise, config.visibility, options, seed),
                shrink_calls=assignment.shrink_calls if options.shrink_calls is None else options.shrink_calls,
            )
            results.append(run_check(specs[config.id], config, exercise, context))
            reference_seconds += context.reference_seconds
            figures += context.figures
    finally:
        student.close()
    if answers is not None:
        results += answer_results(assignment, exercise, answers, options)
    return ExerciseResult(
        id=exercise.id, title=exercise.title, file=exercise.file, checks=tuple(results),
        free_text=free_text(exercise.free_text, answers.values) if answers else (),
        student_seconds=round(student.spent, 4), reference_seconds=round(reference_seconds, 4),
        figures=tuple(figures),
    )


@dataclass(frozen=True)
class Submitted:
    """The submission's answers.yaml as read: its answers, or why it could not be read at all."""

    answers: Answers
    failure: StudentFailure | None = None

    @property
    def values(self) -> dict[str, Any]:
        return self.answers.values


def submitted_answers(assignment: AssignmentConfig, submission: Path) -> Submitted:
    try:
        return Submitted(read_answers(submission / assignment.answers_file, answer_keys(assignment.exercises)))
    except StudentFailure as failure:  # no file (missing), too large or not a mapping (unreadable)
        return Submitted(Answers({}), failure)


def answer_results(assignment: AssignmentConfig, exercise: ExerciseConfig, answers: Submitted,
                   options: Options) -> list[CheckResult]:
    """One result per answer of the exercise. "grade" compares each hand-computed answer with the
    reference's. "check" never reads the reference: it judges the form of every answer (filled in,
    readable, of the declared kind and shape) and of the free text, and scores nothing, since a
    well-formed answer may still be wrong. The grader's own failures are grader errors."""
    results = []
    expected: dict[str, Any] | None = None
    grading = options.mode == "grade"
    items: list[AnswerConfig | str] = [*exercise.answers, *(() if grading else exercise.free_text)]
    for item in items:
        start = time.perf_counter()
        key = item.key if isinstance(item, AnswerConfig) else item
        problems = answers.answers.problems_of(key)
        status, outcome, feedback = "failed", None, None
        try:
            if answers.failure is not None:
                outcome, feedback = answers.failure.outcome, Feedback(summary=str(answers.failure))
            elif problems:
                outcome, feedback = "unreadable", Feedback(
                    summary=f"answers.yaml could not read '{key}': {problems[0]}",
                    details=tuple(str(p) for p in problems[1:]))
            elif not isinstance(item, AnswerConfig):
                filled = str(answers.values.get(key) or "").strip()
                status, outcome = ("passed", None) if filled else ("failed", "missing")
                feedback = None if filled else Feedback(summary=f"no answer yet: write your answer to '{key}' "
                                                                "in answers.yaml")
            else:
                if grading and expected is None:
                    expected = read_answers(assignment.reference / assignment.answers_file).values
                verdict = check_answer(item, answers.values, expected) if grading else check_form(item, answers.values)
                status = "passed" if verdict.ok else "failed"
                if not verdict.ok:
                    outcome = "missing" if answers.values.get(key) is None else "wrong"
                    feedback = Feedback(summary=f"answers.yaml '{key}': {verdict.summary}", details=verdict.details,
                                        hint=_misspelt(key, answers.values, assignment) if outcome == "missing" else None)
        except Exception as exc:  # the grader's own bug (the reference answers lack the key, say)
            status, outcome, feedback = "error", "grader-error", grader_error_feedback(exc)
        results.append(CheckResult(
            exercise=exercise.id, check=f"answer_{key}", description=_answer_description(item, grading),
            points=item.points if isinstance(item, AnswerConfig) and grading else 0.0,
            visibility=item.visibility if isinstance(item, AnswerConfig) and grading else "public",  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            feedback=feedback, seconds=round(time.perf_counter() - start, 4), outcome=outcome,
        ))
    return results


def _answer_description(item: AnswerConfig | str, grading: bool) -> str:
    if not isinstance(item, AnswerConfig):
        return "answers.yaml: free text, read by your tutor"
    if grading:
        return f"hand-computed answer '{item.key}' in answers.yaml"
    return f"answers.yaml: {describe_form(item)} ({points_text(item.points)} at grading)"


def _misspelt(key: str, given: dict[str, Any], assignment: AssignmentConfig) -> str | None:
    """"did you mean" for an answer filled in under a key the assignment does not know."""
    known = answer_keys(assignment.exercises)
    unknown = [k for k in given if k not in known and given[k] is not None]
    close = difflib.get_close_matches(key, unknown, n=1, cutoff=0.75)
    return f"your answers.yaml has '{close[0]}': did you mean '{key}'? Only the keys of the skeleton count" \
        if close else None


def answers_notes(assignment: AssignmentConfig, exercises: tuple[ExerciseResult, ...], answers: Submitted | None,
                  options: Options) -> tuple[str, ...]:
    """Remarks on answers.yaml that no result of an answer shows: lines outside every known key,
    free text lost (in "grade" mode, where free text is no check), and in "check" mode what the
    answers as they are would lose at grading."""
    if answers is None:
        return ()
    configs = [assignment.exercise(e.id) for e in exercises]
    known = answer_keys(assignment.exercises)
    notes = [f"answers.yaml {problem}" for problem in answers.answers.problems if problem.key not in known]
    if options.mode == "grade":
        free = {key for e in configs for key in e.free_text}
        notes += [f"answers.yaml {problem} (so the free text '{problem.key}' is lost)"
                  for problem in answers.answers.problems if problem.key in free]
    else:
        checks = {(c.exercise, c.check): c for e in exercises for c in e.checks}
        lost = [a for e in configs for a in e.answers if not checks[(e.id, a.check_id)].passed]
        if lost:
            notes.insert(0, f"answers.yaml: {len(lost)} hand-computed answer(s) not ready yet (see above); as they "
                            f"are, they would score nothing at grading ({points_text(sum(a.points for a in lost))})")
    return tuple(notes)


def answer_keys(exercises: tuple[ExerciseConfig, ...] | list[ExerciseConfig]) -> tuple[str, ...]:
    """Every key of answers.yaml these exercises ask for, numeric and free text."""
    return tuple(key for e in exercises for key in (*(a.key for a in e.answers), *e.free_text))


def points_text(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def run_check(spec: CheckSpec, config: CheckConfig, exercise: ExerciseConfig, context: Context) -> CheckResult:
    """Run one check; the student's failures fail it, the grader's own are errors."""
    start = time.perf_counter()
    status, feedback, mistake, outcome = "passed", None, None, None
    context.student.begin_check()
    try:
        spec.run(context)
    except CheckFailed as failed:
        explained = context.explain(failed)
        status, feedback, mistake, outcome = "failed", explained.feedback, explained.mistake, explained.outcome
    except AbortCheck as abort:
        status, (feedback, mistake), outcome = "failed", _abort_feedback(abort.failure, context), abort.failure.outcome
    except StudentFailure as failure:
        status, (feedback, mistake), outcome = "failed", _abort_feedback(failure, context), failure.outcome
    except Exception as exc:  # the grader's own bug: reported as such, never the student's fault
        status, outcome, feedback = "error", "grader-error", grader_error_feedback(exc)
    return CheckResult(
        exercise=exercise.id, check=spec.id, description=spec.description, points=config.points,
        visibility=config.visibility,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        feedback=feedback, mistake=mistake, notes=tuple(context.notes),
        seconds=round(time.perf_counter() - start, 4), outcome=outcome,
    )


def _abort_feedback(failure: StudentFailure, context: Context) -> tuple[Feedback, str | None]:
    """Feedback for a failure that ended the check, and the catalogued crash it matches."""
    last = context.student.last_call
    crash_trace = failure.traceback if isinstance(failure, (MissingPiece, StudentCrash)) else ""
    summary = str(failure)
    if isinstance(failure, StudentCrash) and last:
        summary = f"{last[0]}() raised {failure}"
    elif last and not isinstance(failure, TimeBudgetSpent) and not summary.startswith(last[0]):
        summary = f"{last[0]}() {summary}"
    elif not last and isinstance(failure, WorkerLost) and not isinstance(failure, TimeBudgetSpent):
        summary = f"importing {context.exercise.file} {summary}"
    missing = isinstance(failure, (MissingPiece, TimeBudgetSpent))
    mistake = context.crash_mistake(last[0], failure) if isinstance(failure, StudentCrash) and last else None
    return Feedback(
        summary=summary,
        input=None if missing or not last else last[1].describe(),
        traceback=crash_trace or None,
        output=(context.student.output.strip() or None) if not missing else (context.student.import_output.strip() or None),
        hint=mistake.hint if mistake else None,
        reproduce=None if missing else context.reproduce,
    ), mistake.id if mistake else None


def grader_error_feedback(exc: Exception) -> Feedback:
    """What a check says when the grader itself failed: never charged to the student."""
    return Feedback(
        summary=f"grader error ({type(exc).__name__}: {exc}); this is not your fault, please tell the course staff",
        details=("where the grader failed:", *_grader_location(exc)),
    )


def _grader_location(exc: BaseException) -> tuple[str, ...]:
    """Where the grader failed, without source lines (they could quote a reference solution)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return tuple(f"  {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames[-4:])
