"""The grader's words for what happened, chosen once: config, model and every renderer use these.

``Outcome``: how a check ended (passed, wrong, crash, timeout, ...). ``CheckResult.outcome``;
    results.json ``extra_data.outcome``; JUnit ``type``; the HTML and Markdown reports; the
    checks of a batch record. The README's table of outcomes lists exactly these.
``Status``: passed, failed or error, read from the outcome (``CheckResult.status``). JUnit's
    failure or error and the mark of every report; results.json ``status`` too, where
    Gradescope knows "passed" and "failed" only, so an error is written "failed" there.
``EntryStatus``: a batch entry was graded, unreadable, or hit an error. Its record,
    grades.csv ``status``, summary.html.
``Kind``: why an exercise scored what it did (not submitted, ..., full).
    ``ExerciseResult.kind``; results.json ``extra_data.exercises``; grades.csv
    ``<exercise>_kind``; summary.html.
``Visibility``, ``HintLevel``, ``Mode``: as config.yaml and the command line spell them.

A word means the same wherever it appears: "unreadable" is the outcome of each check of an
entry whose status is "unreadable", and "error" (a status) is what "grader-error" (an
outcome) is counted as, for a check or for a whole entry: the grader's fault, never the
student's. Every failure the student's code can cause has its own outcome, named by its
class in ``grader.errors`` (``CallTimedOut.outcome == "timeout"``).

>>> status_of("timeout"), status_of("grader-error"), status_of("passed")
('failed', 'error', 'passed')
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

Outcome = Literal[
    "passed",          # the check passed
    "wrong",           # a wrong value or answer (the check's verdict: CheckFailed)
    "bad-return",      # a value that cannot be judged: a tensor subclass, an object, a malformed reply
    "crash",           # the student's code raised
    "missing",         # a file, a function or an answer is missing, or still the skeleton
    "import-failed",   # the file raised, or did not parse, when imported
    "process-ended",   # the process running the student's code ended: os._exit, a signal
    "timeout",         # a call ran past its time limit
    "time-budget",     # the exercise's time was used up before this check could run
    "resource-limit",  # more memory or CPU time than allowed
    "forbidden",       # a function the exercise forbids ran
    "unreadable",      # an answers.yaml (entry) or a batch entry that cannot be read
    "grader-error",    # the grader itself failed: never the student's fault
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

Status = Literal["passed", "failed", "error"]

EntryStatus = Literal["graded", "unreadable", "error"]
ENTRY_STATUSES: tuple[EntryStatus, ...] = get_args(EntryStatus)

# Why an exercise scored what it did, for tutors: the first four mean the code never ran as the
# student meant it (a file name, the skeleton as shipped, an import that fails), and are counted
# apart from the conceptual failures, "wrong" and "partly wrong".
Kind = Literal["not submitted", "misnamed file", "untouched skeleton", "did not import", "wrong", "partly wrong",
               "full"]
KINDS: tuple[Kind, ...] = get_args(Kind)
NEVER_RAN: tuple[Kind, ...] = KINDS[:4]

Visibility = Literal["public", "hidden"]
VISIBILITIES: tuple[Visibility, ...] = get_args(Visibility)

# How much a failed check's hint says: the whole hint, a nudge (where the bug is, not its fix), nothing.
HintLevel = Literal["full", "nudge", "none"]
HINT_LEVELS: tuple[HintLevel, ...] = get_args(HintLevel)

# "check": the public checks, a student's self-check; "grade": every check, against the reference.
Mode = Literal["check", "grade"]
MODES: tuple[Mode, ...] = get_args(Mode)

# An exercise's file before any code ran: as submitted, absent, or the skeleton as shipped.
FileState = Literal["submitted", "absent", "skeleton"]


def status_of(outcome: Outcome) -> Status:
    """The status an outcome counts as: "passed", "error" for the grader's own, else "failed"."""
    if outcome == "passed":
        return "passed"
    return "error" if outcome == "grader-error" else "failed"


Word = TypeVar("Word", bound=str)


def one_of(value: object, words: tuple[Word, ...]) -> Word | None:
    """``value`` as the word of ``words`` it equals, None when it is none of them.

    >>> one_of("hidden", VISIBILITIES), one_of("secret", VISIBILITIES)
    ('hidden', None)
    """
    return next((word for word in words if value == word), None)
