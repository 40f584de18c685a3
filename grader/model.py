"""What grading produces: small frozen values that renderers only read.

A :class:`GradeReport` holds one :class:`ExerciseResult` per exercise, each holding one
:class:`CheckResult` per check. Scores are computed from the results, never stored.

>>> result = CheckResult("attention", "matches_torch", "agrees with torch", 2.0, "public",
...                      "passed")
>>> result.score
2.0
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from grader.vocabulary import FileState, Kind, Mode, Outcome, Status, Visibility, status_of


@dataclass(frozen=True)
class Feedback:
    """Why a check failed, in the one grammar every renderer uses.

    ``summary`` says what failed; ``input`` the failing input (``input_label`` says whether
    hypothesis shrank it: "smallest failing input"); ``details`` the
    got-vs-expected lines; ``hint`` the likely mistake; ``traceback`` the student's frames
    of a crash; ``output`` what the student's code printed; ``reproduce`` a command line.
    ``warnings`` are those the student's code raised while its exercise was checked.
    ``nudge`` is a check's own short form of its ``hint`` (where the bug is, not its fix),
    used when the course asks for nudges; it is cleared before a report is made.
    """

    summary: str
    input: str | None = None
    input_label: str = "failing input"
    details: tuple[str, ...] = ()
    hint: str | None = None
    traceback: str | None = None
    output: str | None = None
    reproduce: str | None = None
    nudge: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """The result of one check on one submission.

    ``outcome`` says how the check ended: "passed", or how it failed ("wrong", "crash",
    "timeout", ...: the ``outcome`` of the error classes in ``grader.errors``), or
    "grader-error" when the grader itself failed (never the student's fault); ``status``
    is read from it. ``mistake`` is the id of the catalogued mistake the student's output
    matched, if any; ``notes`` are remarks that cost nothing (a float64 result judged on
    its values, say).

    >>> CheckResult("eigen", "symmetric", "A is symmetric", 1.0, "public", "timeout").status
    'failed'
    """

    exercise: str
    check: str
    description: str
    points: float
    visibility: Visibility
    outcome: Outcome
    feedback: Feedback | None = None
    mistake: str | None = None
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        return status_of(self.outcome)

    @property
    def score(self) -> float:
        return self.points if self.passed else 0.0

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


@dataclass(frozen=True)
class Figure:
    """A figure the student's code drew, beside the reference's (PNG bytes, re-encoded)."""

    title: str
    student_png: bytes | None
    reference_png: bytes | None
    note: str = ""


@dataclass(frozen=True)
class ExerciseResult:
    """All checks of one exercise, plus the free-text answers kept for a tutor.

    ``student_seconds`` is the time spent waiting for the student's code, and
    ``reference_seconds`` the time in reference solutions, oracles and mistake variants.
    ``file_state`` is what the exercise's file was before any code ran ("absent", the
    "skeleton" as shipped, or "submitted"), and ``near_match`` the file of the submission
    the student probably meant when it was absent (``conv2d (1).py``).
    """

    id: str
    title: str
    file: str
    checks: tuple[CheckResult, ...]
    free_text: tuple[tuple[str, str], ...] = ()
    student_seconds: float = 0.0
    reference_seconds: float = 0.0
    figures: tuple[Figure, ...] = ()
    file_state: FileState = "submitted"
    near_match: str | None = None

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def kind(self) -> Kind:
        """Why the exercise scored what it did, e.g. "misnamed file" or "partly wrong"."""
        if self.file_state == "absent":
            return "misnamed file" if self.near_match else "not submitted"
        if self.file_state == "skeleton":
            return "untouched skeleton"
        if any(c.outcome == "import-failed" for c in self.checks):
            return "did not import"
        if self.score >= self.max_score:
            return "full"
        return "wrong" if self.score == 0 else "partly wrong"

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)


@dataclass(frozen=True)
class ManualMark:
    """A tutor's mark for an item scored by hand (a free-text answer, a figure), from manual.csv.

    ``points`` is None until a tutor has filled it in; the automatic score never includes it.
    """

    exercise: str
    item: str
    title: str
    max_points: float
    points: float | None = None
    comment: str = ""


@dataclass(frozen=True)
class GradeReport:
    """Everything one grading run found out about one submission.

    ``mode`` is "check" (public checks, student self-check) or "grade" (all checks);
    ``notes`` are run-level remarks every renderer shows (isolation level, say).
    ``manual`` holds the tutor's marks where ``grader batch`` has manual items (see
    ``grader.batch.manual``); ``score`` and ``max_score`` stay the automatic ones.
    """

    assignment: str
    title: str
    submission: str
    mode: Mode
    seed: int
    exercises: tuple[ExerciseResult, ...]
    started: str
    seconds: float
    grader_version: str
    notes: tuple[str, ...] = field(default=())
    manual: tuple[ManualMark, ...] = ()

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def manual_score(self) -> float:
        """The tutor's points so far (items not marked yet count nothing)."""
        return sum(m.points or 0.0 for m in self.manual)

    @property
    def manual_max_score(self) -> float:
        return sum(m.max_points for m in self.manual)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    def checks(self) -> Iterator[CheckResult]:
        for exercise in self.exercises:
            yield from exercise.checks

    @property
    def grader_errors(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks() if c.status == "error")
