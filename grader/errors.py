"""One error hierarchy for the whole grader.

    GraderError                      something the grader itself cannot do (exit status 2)
    ├── ConfigError                  config.yaml is missing, unreadable or invalid
    ├── UsageError                   bad command-line arguments or unreadable paths
    └── SandboxError                 the worker machinery failed (not the student's fault)
        └── ProtocolError            a message from the worker broke the wire format
    StudentFailure                   the student's code did something wrong (a failed check)
    ├── CheckFailed                  a check's verdict: a wrong value, with its feedback
    ├── StudentCrash                 student code raised; carries the student's traceback
    ├── MissingPiece                 a file or function is missing, or still the skeleton
    │   └── ImportFailed             ... or the file raised (or did not parse) when imported
    ├── WorkerLost                   the worker died or was killed (exit, crash)
    │   ├── CallTimedOut             ... because a call ran past its time limit
    │   ├── ResourceLimit            ... because it used more memory or CPU time than allowed
    │   └── TimeBudgetSpent          the exercise's time was used up before this call
    ├── ForbiddenCall                a forbidden function ran while a graded function ran
    ├── BadReturn                    a returned value that cannot be judged (type, message)
    └── Unreadable                   a batch entry that cannot be read safely (unsafe or huge archive),
                                     or an answers.yaml that is not YAML
    AbortCheck (a BaseException)     carries a StudentFailure past hypothesis, ending the check at once

Everything the student's code can cause is a ``StudentFailure`` and becomes a failed
check whose ``outcome`` (a ``grader.vocabulary.Outcome``) names what happened: each class
has its own (``crash``, ``timeout``, ...: the name reports and results.json carry).
Everything else is a ``GraderError`` or a bug, the outcome ``grader-error``, reported as
such and never charged to the student. ``ProtocolError`` is a ``SandboxError`` when raised
while talking to our own code, but the client maps a malformed reply to ``BadReturn`` (the
child is untrusted, so a garbled reply is the submission's doing).

``CheckFailed`` is defined with the check language (``grader.checks``), since it carries
feedback and the failing call, and its outcome is "wrong" unless it reports a value that
cannot be judged ("bad-return") or a crash that hypothesis shrank ("crash"). Two signals
stay private to the one function that raises and catches them, since they never reach a
result: the end of a shrinking budget in ``Context.for_all``, and a YAML problem that
``parse_answers`` turns into per-entry problems.
"""

from __future__ import annotations

from typing import Any

from grader.vocabulary import Outcome


class GraderError(Exception):
    """The grader could not do its job; never charged to the student."""


class ConfigError(GraderError):
    """config.yaml is missing or invalid. The message names the key and the problem."""


class UsageError(GraderError):
    """Bad command-line arguments or an unreadable path."""


class SandboxError(GraderError):
    """The sandbox machinery failed (could not start the worker, for example)."""


class ProtocolError(SandboxError):
    """A message broke the wire format (size, dtype, shape, byte count, JSON)."""


class StudentFailure(Exception):
    """The student's code failed; becomes a failed check with this message.

    ``outcome`` is the failure's name in reports (``extra_data.outcome`` in results.json):
    every subclass names its own.
    """

    outcome: Outcome


class StudentCrash(StudentFailure):
    """Student code raised an exception.

    ``exc_type`` is the exception's class name, ``traceback`` the student's frames only;
    ``call`` the call that raised it (the function's name and its ``Call``), when known, and
    ``output`` what that call printed.
    """

    outcome: Outcome = "crash"

    def __init__(self, exc_type: str, message: str, traceback: str, call: tuple[str, Any] | None = None,
                 output: str = "") -> None:
        super().__init__(f"{exc_type}: {message}" if message else exc_type)
        self.exc_type = exc_type
        self.message = message
        self.traceback = traceback
        self.call = call
        self.output = output


class WorkerLost(StudentFailure):
    """The worker process ended during a call: time limit, ``os._exit``, a crash.

    Raised as a ``BaseException`` wrapper (:class:`AbortCheck`) inside hypothesis runs so
    that hypothesis does not retry or shrink a call that costs a whole time limit.
    """

    outcome: Outcome = "process-ended"


class MissingPiece(StudentFailure):
    """The file, or a function in it, is missing, or is still the unfinished skeleton.

    ``traceback`` is the student's traceback when importing the file failed.
    """

    outcome: Outcome = "missing"

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


class ImportFailed(MissingPiece):
    """Importing the file raised, or the file does not parse; ``traceback`` shows where."""

    outcome: Outcome = "import-failed"


class TimeBudgetSpent(WorkerLost):
    """The exercise's time limit was used up before this check could call the student."""

    outcome: Outcome = "time-budget"


class CallTimedOut(WorkerLost):
    """A call ran past its time limit; the worker was killed."""

    outcome: Outcome = "timeout"


class ResourceLimit(WorkerLost):
    """The worker went over its memory or CPU-time limit and the kernel stopped it."""

    outcome: Outcome = "resource-limit"


class ForbiddenCall(StudentFailure):
    """A function the exercise forbids was called while the graded function ran."""

    outcome: Outcome = "forbidden"

    def __init__(self, function: str, used: tuple[str, ...]) -> None:
        names = ", ".join(used)
        super().__init__(
            f"{function} used {names}, which this exercise asks you to write by hand"
        )
        self.function = function
        self.used = used


class BadReturn(StudentFailure):
    """A value came back that cannot be judged: wrong type, subclass, malformed message."""

    outcome: Outcome = "bad-return"


class Unreadable(StudentFailure):
    """A submission of a batch could not be read: a broken or unsafe archive, too many bytes;
    or its answers.yaml (or an entry of it) is not YAML the grader can read.

    It is graded all the same, with zero points and this message as the reason.
    """

    outcome: Outcome = "unreadable"


class AbortCheck(BaseException):
    """Stops a running check at once, past hypothesis (which catches ``Exception``).

    Carries the ``StudentFailure`` that ends the check, for example a lost worker, the call
    it happened in (the function's name and its ``Call``; None for what happened before any
    call, importing the file say) and what the student's code printed there.
    """

    def __init__(self, failure: StudentFailure, call: tuple[str, Any] | None = None, output: str = "") -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.call = call
        self.output = output
