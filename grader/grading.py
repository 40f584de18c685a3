"""Grading one submission: every configured check of every exercise, into a GradeReport.

>>> with Sandbox() as sandbox:                                   # doctest: +SKIP
...     report = grade(assignment, Path("submission"), sandbox, Options(mode="grade"))
>>> report.score, report.max_score                               # doctest: +SKIP
(30.0, 30.0)
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import shlex
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import torch

from grader import __version__, forked
from grader.answer_results import Submitted, answer_results, answers_notes, submitted_answers
from grader.answers import free_text
from grader.catalogue import Mistake
from grader.checks import CheckFailed, CheckSpec, Context, Student
from grader.config import AssignmentConfig, CheckConfig, ExerciseConfig, require_reference
from grader.errors import AbortCheck, StudentCrash, StudentFailure
from grader.faults import grader_error_feedback
from grader.loading import load_checks, load_mistakes, load_reference
from grader.model import CheckResult, ExerciseResult, Feedback, Figure, GradeReport
from grader.sandbox.client import Sandbox
from grader.submission import file_state, near_match, submitted_python_files
from grader.vocabulary import HintLevel, Mode, Outcome


@dataclass(frozen=True)
class Options:
    """How to grade: ``mode`` "check" runs public checks only; None means the config's value.

    ``catalogue`` gives each exercise's mistakes (building a student bundle records what they
    return through it). ``jobs`` processes grade exercises side by side (this one and forked
    helpers, see :mod:`grader.forked`); each exercise's results are the same whichever grades it.
    """

    mode: Mode = "grade"
    seed: int | None = None
    exercises: tuple[str, ...] = ()
    exercise_seconds: float | None = None
    submission_label: str | None = None
    shrink_calls: int | None = None
    # The report goes to the student (a batch's report.html): reproduce lines they can run.
    for_student: bool = False
    # Draw the reference's figures beside the student's (in grade mode): worth it only where an
    # output shows them (an HTML report, a batch's pages), not for results.json alone (Gradescope, CI).
    reference_figures: bool = True
    catalogue: Callable[[AssignmentConfig, ExerciseConfig], tuple[Mistake, ...]] = load_mistakes
    jobs: int = 1


def grade(assignment: AssignmentConfig, submission: Path, sandbox: Sandbox, options: Options) -> GradeReport:
    """Grade ``submission`` (a folder) and return the report; student failures never raise."""
    if options.mode == "grade":
        require_reference(assignment)
    started = datetime.now(timezone.utc)
    start = time.perf_counter()
    # The grader's own tensors are tiny, and a worker computes beside it on the same cores.
    torch.set_num_threads(1)
    # What the zygote imports before its first worker, the exercises need here too (torchvision's
    # transforms, matplotlib for figures): imported now, beside the zygote on the other core.
    for module in sandbox.preload:
        importlib.import_module(module)
    _loaded_for_life()
    seed = assignment.seed if options.seed is None else options.seed
    chosen = [e for e in assignment.exercises if not options.exercises or e.id in options.exercises]
    answers = answers_of(assignment, chosen, submission)

    def grade_one(exercise: ExerciseConfig, box: Sandbox) -> ExerciseResult:
        return grade_exercise(assignment, exercise, submission, box, options, seed, answers)

    exercises = grade_exercises(grade_one, chosen, sandbox, options.jobs)
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
        notes=report_notes(assignment, exercises, answers, options, sandbox.isolation()),
    )


def _loaded_for_life() -> None:
    """Where the caller kept the cyclic garbage collector off while loading (the command line
    does, ``cli._run_grading``: collections during imports find nothing to free and cost a
    quarter of torch's import time), exempt what is loaded now from it and turn it on.

    Torch's modules and objects live as long as the process, yet each full collection walks
    them all again: about 0.2 s with torch loaded, and hypothesis asks for one. Once only: the
    collector is on for every later grade, whose garbage must stay collectable.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def grade_exercises(grade_one: Callable[[ExerciseConfig, Sandbox], ExerciseResult], exercises: list[ExerciseConfig],
                    sandbox: Sandbox, jobs: int) -> tuple[ExerciseResult, ...]:
    """``grade_one(exercise, sandbox)`` of every exercise, in order, graded by ``jobs``
    processes that each take the next exercise no process has taken yet: none waits while
    another still has a queue."""
    jobs = min(jobs, len(exercises))
    if jobs <= 1:
        return tuple(grade_one(exercise, sandbox) for exercise in exercises)
    untaken = multiprocessing.get_context("fork").Value("i", 0)

    def share(box: Sandbox) -> list[ExerciseResult]:
        results = []
        while True:
            with untaken.get_lock():
                index = untaken.value
                untaken.value += 1
            if index >= len(exercises):
                return results
            results.append(grade_one(exercises[index], box))

    helpers = [forked.start(sandbox, share) for _ in range(jobs - 1)]
    graded = share(sandbox)
    for helper in helpers:
        graded += forked.finish(helper, list[ExerciseResult])
    by_id = {result.id: result for result in graded}
    return tuple(by_id[exercise.id] for exercise in exercises)


def answers_of(assignment: AssignmentConfig, exercises: list[ExerciseConfig], submission: Path) -> Submitted | None:
    """The submission's answers.yaml, read once, where any of ``exercises`` asks for answers."""
    return submitted_answers(assignment, submission) if any(e.answers or e.free_text for e in exercises) else None


def report_notes(assignment: AssignmentConfig, exercises: tuple[ExerciseResult, ...], answers: Submitted | None,
                 options: Options, layers: tuple[str, ...]) -> tuple[str, ...]:
    """The run-level notes of a report on ``exercises``: what is left to grading, answers.yaml, isolation."""
    return (*not_judged_note(assignment, exercises, options), *answers_notes(assignment, exercises, answers, options.mode),
            isolation_note(layers))


def not_judged_note(assignment: AssignmentConfig, results: tuple[ExerciseResult, ...],
                    options: Options) -> tuple[str, ...]:
    """What ``grader check`` leaves to grading, as a note (none when every check ran).

    >>> not_judged_note(basics, results, Options(mode="check"))      # doctest: +SKIP
    ('public checks: 19 of 35 points; hidden checks and the answers in answers.yaml are graded after submission',)
    """
    if options.mode == "grade":
        return ()
    public = sum(r.max_score for r in results)
    later = sum(assignment.exercise(r.id).points_after_submission for r in results)
    if not later:
        return ()
    return ((f"public checks: {public:g} of {public + later:g} points; hidden checks and the answers in "
            "answers.yaml are graded after submission"),)


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
                      options: Options, seed: int) -> str | None:
    """The command that replays a check's inputs, for whoever reads the report.

    A report for the student (``Options.for_student``, as a batch writes them) names only what
    the student can run in their own folder: ``grader check`` for a public check, nothing for
    a hidden one (its failing input is shown instead).
    """
    if options.for_student:
        if visibility != "public":
            return None
        return f"grader check . --assignment {assignment.id} --exercise {exercise.id} --seed {seed}"
    folder = shlex.quote(options.submission_label or "SUBMISSION")
    if visibility == "public" and options.mode == "check":
        return f"grader check {folder} --exercise {exercise.id} --seed {seed}"
    return f"grader grade {folder} --assignment {assignment.id} --exercise {exercise.id} --seed {seed}"


def grade_exercise(assignment: AssignmentConfig, exercise: ExerciseConfig, submission: Path,
                   sandbox: Sandbox, options: Options, seed: int, answers: Submitted | None) -> ExerciseResult:
    """Run the checks and answer checks of one exercise in a fresh worker."""
    specs = load_checks(assignment, exercise)
    reference = load_reference(assignment, exercise) if options.mode == "grade" else None
    mistakes = options.catalogue(assignment, exercise)
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
                reference_figures=options.reference_figures,
            )
            run = run_check(specs[config.id], config, exercise, context, exercise.hint_level(options.mode))
            results.append(run.result)
            reference_seconds += run.reference_seconds
            figures += run.figures
    finally:
        student.close()
    state = file_state(submission, exercise.file, assignment.templates / exercise.file)
    near = None
    if state == "absent":
        taken = {e.file for e in assignment.exercises} | set(assignment.provided)
        near = near_match(exercise.file, exercise.id, submitted_python_files(submission, taken))
    if near:
        results = [_suggest_name(result, near, exercise.file) for result in results]
    if answers is not None:
        results += answer_results(assignment, exercise, answers, options.mode)
    return ExerciseResult(
        id=exercise.id, title=exercise.title, file=exercise.file, checks=tuple(results),
        free_text=free_text(exercise.free_text, answers.values) if answers else (),
        student_seconds=round(student.spent, 4), reference_seconds=round(reference_seconds, 4),
        figures=tuple(figures), file_state=state, near_match=near,
    )


def _suggest_name(result: CheckResult, near: str, file: str) -> CheckResult:
    """A check failed for want of ``file`` says which file of the submission was probably meant.

    The file is not graded under its other name: the names are part of the exercise's contract.
    """
    if result.outcome != "missing" or result.feedback is None:
        return result
    hint = f"did you mean {near}? The grader reads {file} only: rename your file to {file} and check again."
    return replace(result, feedback=replace(result.feedback, hint=hint))


@dataclass(frozen=True)
class CheckRun:
    """What running one check gave: its result, the figures it drew, the reference's time."""

    result: CheckResult
    figures: tuple[Figure, ...]
    reference_seconds: float


def run_check(spec: CheckSpec, config: CheckConfig, exercise: ExerciseConfig, context: Context,
              hint_level: HintLevel = "full") -> CheckRun:
    """Run one check; the student's failures fail it, the grader's own are errors."""
    start = time.perf_counter()
    outcome: Outcome = "passed"
    feedback, mistake = None, None
    try:
        spec.run(context)
    except (CheckFailed, AbortCheck, StudentFailure) as error:
        failed = failure_of(error, context)
        outcome, feedback, mistake = failed.outcome, failed.feedback, failed.mistake
    except Exception as exc:  # the grader's own bug: reported as such, never the student's fault  # noqa: BLE001
        outcome, feedback = "grader-error", grader_error_feedback(exc)
    result = CheckResult(
        exercise=exercise.id, check=spec.id, description=spec.description, points=config.points,
        visibility=config.visibility, outcome=outcome,
        feedback=as_reported(feedback, context.known(mistake), hint_level, tuple(context.student.warnings)),
        mistake=mistake, notes=tuple(context.notes), seconds=round(time.perf_counter() - start, 4),
    )
    return CheckRun(result, tuple(context.figures), context.reference_seconds)


def failure_of(error: CheckFailed | AbortCheck | StudentFailure, context: Context) -> CheckFailed:
    """The failure a check ended with, its hint from the catalogue where one explains it."""
    if isinstance(error, CheckFailed):
        return context.explain(error)
    if isinstance(error, AbortCheck):
        return context.stopped(error.failure, error.call, error.output)
    if isinstance(error, StudentCrash):
        return context.stopped(error, error.call, error.output)
    return context.stopped(error)


def as_reported(feedback: Feedback | None, mistake: Mistake | None, level: HintLevel,
            warnings: tuple[str, ...] = ()) -> Feedback | None:
    """``feedback`` with as much of its hint as the course wants shown, and the warnings the
    student's code raised in its exercise so far (they often explain the failure).

    "nudge" keeps where the bug is, not its fix: the catalogued mistake's nudge, or the
    check's own; a hint with no nudge is left out then.

    >>> as_reported(Feedback("wrong", hint="use -inf", nudge="look at the mask"), None, "nudge").hint
    'look at the mask'
    """
    if feedback is None:
        return None
    if level == "full":
        hint = feedback.hint
    elif level == "none" or not feedback.hint:
        hint = None
    else:
        hint = mistake.nudge if mistake and mistake.nudge else feedback.nudge
    return replace(feedback, hint=hint, nudge=None, warnings=warnings)
