"""``grader validate``: the reference scores full marks and every catalogued mistake is caught.

For each mistake, a submission is made from the reference with that one function replaced
by the buggy variant, and graded on its own exercise: the mistake is *caught* when the
exercise loses points, and *diagnosed* when a failed check also named it in its hint. A
hint that names another mistake of the catalogue (*misnamed*) fails validation: a wrong hint
misleads a student more than none.

The mistakes are shared out between ``jobs`` processes (this one and forked helpers, each with
its own share of the one sandbox), so that one grades while another waits for its worker:

    >>> with sandbox_for(assignment) as sandbox:                     # doctest: +SKIP
    ...     print(render_validation(validate(assignment, sandbox, jobs=2)))
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from grader import catalogue, forked
from grader.catalogue import Mistake
from grader.config import AssignmentConfig, ExerciseConfig, require_reference
from grader.errors import GraderError
from grader.grading import Options, grade
from grader.loading import load_mistakes, mistakes_file
from grader.model import GradeReport
from grader.sandbox.client import Sandbox

MIN_MISTAKES = 3


@dataclass(frozen=True)
class MistakeResult:
    """How the checks of its exercise fared against one catalogued mistake."""

    exercise: str
    mistake: str
    score: float
    max_score: float
    failed_checks: tuple[str, ...]
    diagnosed: bool
    grader_errors: int
    misnamed: tuple[str, ...] = ()
    broken: str | None = None

    @property
    def caught(self) -> bool:
        """Lost points while it imported: a variant that cannot even be imported proves nothing."""
        return self.score < self.max_score and self.broken is None


@dataclass(frozen=True)
class Validation:
    assignment: str
    reference: GradeReport
    mistakes: tuple[MistakeResult, ...]
    thin_exercises: tuple[tuple[str, int], ...]

    @property
    def ok(self) -> bool:
        return (
            self.reference.score == self.reference.max_score
            and not self.reference.grader_errors
            and all(o.caught and not o.grader_errors and not o.misnamed for o in self.mistakes)
            and not self.thin_exercises
        )


def mutant(assignment: AssignmentConfig, exercise: ExerciseConfig, mistake: Mistake, target: Path) -> Path:
    """A copy of the reference submission with ``mistake.function`` replaced by the variant.

    The catalogue module comes along with its own copy of ``grader.catalogue`` (for
    ``Mistake``): student code, the mutant's included, cannot import the grader.
    """
    shutil.copytree(require_reference(assignment), target, ignore=shutil.ignore_patterns("mistakes", "__pycache__"))
    (target / "grader").mkdir()
    (target / "grader" / "__init__.py").touch()
    (target / "grader" / "catalogue.py").write_text(inspect.getsource(catalogue))
    module = exercise.module
    name = mistake.impl.__name__
    (target / f"_reference_{module}.py").write_text((target / exercise.file).read_text())
    shutil.copyfile(mistakes_file(assignment, exercise), target / f"_mistakes_{module}.py")
    (target / exercise.file).write_text(
        f"from _reference_{module} import *  # noqa: F401,F403\n"
        f"from _mistakes_{module} import {name} as {mistake.function}  # noqa: F401\n"
    )
    return target


def validate(assignment: AssignmentConfig, sandbox: Sandbox, seed: int | None = None, jobs: int = 1,
             exercises: tuple[str, ...] = ()) -> Validation:
    """Grade the reference, then every catalogued mistake on its own exercise, in ``jobs`` processes
    (of ``exercises`` only, when given: the one a course author is writing, say)."""
    work: list[tuple[ExerciseConfig, Mistake]] = []
    thin = []
    for exercise in assignment.exercises:
        if exercises and exercise.id not in exercises:
            continue
        mistakes = load_mistakes(assignment, exercise)
        if len(mistakes) < MIN_MISTAKES:
            thin.append((exercise.id, len(mistakes)))
        for mistake in mistakes:
            module = getattr(mistake.impl, "__module__", "")
            if not module.startswith("_grader_mistakes."):
                raise GraderError(f"mistake {exercise.id}.{mistake.id}: its impl must be defined in "
                                  f"{mistakes_file(assignment, exercise).name}")
            work.append((exercise, mistake))
    # Every jobs-th mistake to each process: the catalogue lists an exercise's mistakes together,
    # so each process gets its share of the slow exercises.
    jobs = max(1, min(jobs, len(work)))
    helpers = [forked.start(sandbox, partial(_grade_mistakes, assignment, work[number::jobs], seed))
               for number in range(1, jobs)]
    folder = require_reference(assignment)
    # Validation reads outcomes, never pictures: no reference figures.
    reference = grade(assignment, folder, sandbox, Options(mode="grade", seed=seed, exercises=exercises,
                                                           submission_label=str(folder), reference_figures=False))
    shares = [_grade_mistakes(assignment, work[0::jobs], seed, sandbox),
              *(forked.finish(helper, list[MistakeResult]) for helper in helpers)]
    results = [shares[index % len(shares)][index // len(shares)] for index in range(len(work))]
    return Validation(assignment.id, reference, tuple(results), tuple(thin))


def _grade_mistakes(assignment: AssignmentConfig, work: list[tuple[ExerciseConfig, Mistake]], seed: int | None,
                    sandbox: Sandbox) -> list[MistakeResult]:
    return [grade_mistake(assignment, sandbox, exercise, mistake, seed) for exercise, mistake in work]


def grade_mistake(assignment: AssignmentConfig, sandbox: Sandbox, exercise: ExerciseConfig, mistake: Mistake,
                  seed: int | None) -> MistakeResult:
    """Grade the reference with ``mistake`` in it, on the mistake's exercise only."""
    with tempfile.TemporaryDirectory(prefix="grader-mutant-") as tmp:
        folder = mutant(assignment, exercise, mistake, Path(tmp) / "submission")
        # Shrinking makes feedback readable; here only "caught or not" matters.
        report = grade(assignment, folder, sandbox, Options(
            mode="grade", seed=seed, exercises=(exercise.id,), shrink_calls=10, reference_figures=False))
    result = report.exercises[0]
    return MistakeResult(
        exercise=exercise.id, mistake=mistake.id, score=result.score, max_score=result.max_score,
        failed_checks=tuple(c.check for c in result.checks if not c.passed),
        diagnosed=any(c.mistake == mistake.id for c in result.checks),
        misnamed=tuple(sorted({c.mistake for c in result.checks if c.mistake and c.mistake != mistake.id})),
        grader_errors=sum(c.status == "error" for c in result.checks),
        broken=next((c.feedback.summary for c in result.checks
                     if c.outcome == "import-failed" and c.feedback), None),
    )


def render_validation(validation: Validation) -> str:
    """The validation as terminal text."""
    ref = validation.reference
    lines = [f"assignment {validation.assignment}",
             f"  reference: {ref.score:g}/{ref.max_score:g} points"
             + ("" if ref.score == ref.max_score else "  <- not full marks")]
    for check in ref.checks():
        if not check.passed:
            lines.append(f"    ✗ {check.exercise}.{check.check}: {check.feedback.summary if check.feedback else check.outcome}")
    current = None
    for result in validation.mistakes:
        if result.exercise != current:
            current = result.exercise
            count = sum(o.exercise == current for o in validation.mistakes)
            caught = sum(o.exercise == current and o.caught for o in validation.mistakes)
            named = sum(o.exercise == current and o.caught and o.diagnosed for o in validation.mistakes)
            lines.append(f"  {current}: {caught}/{count} catalogued mistakes caught, {named} of them named by a hint")
        mark = "✓" if result.caught and not result.grader_errors else "✗"
        what = (f"loses {result.max_score - result.score:g}/{result.max_score:g} points "
                f"({', '.join(result.failed_checks)})" if result.caught
                else f"BROKEN VARIANT: {result.broken}" if result.broken else "NOT CAUGHT: scores full marks")
        named = "; named in the hint" if result.diagnosed else ""
        if result.misnamed:
            named += f"; A HINT NAMED ANOTHER MISTAKE: {', '.join(result.misnamed)}"
        errors = f"; {result.grader_errors} grader error(s)" if result.grader_errors else ""
        lines.append(f"    {mark} {result.mistake}: {what}{named}{errors}")
    for exercise, count in validation.thin_exercises:
        lines.append(f"  ✗ {exercise}: only {count} catalogued mistake(s), at least {MIN_MISTAKES} expected")
    lines.append("validation passed" if validation.ok else "validation FAILED")
    return "\n".join(lines) + "\n"
