"""A failed check: the exception a check raises, carrying its feedback.

A check body never builds one by hand: :meth:`grader.checks.Context.failure` does, in the
one grammar (what failed, on which input, got vs expected, what the code printed, a hint),
and the runner turns what the student's code raised into one (:meth:`Context.stopped`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from grader.errors import StudentFailure
from grader.model import Feedback
from grader.vocabulary import Outcome

SHRUNK = "smallest failing input"

Subject = tuple[str, Any, Any]  # a failing call: the function, its arguments, the student's value


class CheckFailed(StudentFailure):
    """Raised in a check body to fail the check with this feedback.

    ``subject`` is the failing call (function, arguments, the student's value); the
    runner compares it with the catalogue once, after shrinking, to add a hint.
    ``evidence`` holds other failing calls of the same check (the first example that
    failed, before shrinking, among them): a mistake is named only if it explains them too;
    ``probes`` gives inputs of the check's kind (drawn when first asked for), on which
    mistakes that all explain the failure can be told apart by asking the student's code.
    ``outcome`` names the failure in reports: "wrong" (a wrong value), "bad-return" (a
    value that cannot be judged: a tensor subclass, an object), or what the student's code
    did ("crash", "timeout", ...: :data:`grader.vocabulary.Outcome`).
    """

    outcome: Outcome = "wrong"

    def __init__(self, feedback: Feedback, mistake: str | None = None, subject: Subject | None = None,
                 outcome: Outcome = "wrong", evidence: tuple[Subject, ...] = (),
                 probes: Callable[[], list[Any]] = list) -> None:
        super().__init__(feedback.summary)
        self.feedback = feedback
        self.mistake = mistake
        self.subject = subject
        self.outcome = outcome
        self.evidence = evidence
        self.probes = probes

    def shrunk(self, evidence: tuple[Subject, ...] = (), probes: Callable[[], list[Any]] = list,
               input: str | None = None) -> CheckFailed:
        """This failure as the smallest failing example of a search, with the other failures
        seen as ``evidence``; ``input`` replaces the input shown (the example, not its last call)."""
        feedback = replace(self.feedback, input_label=SHRUNK)
        if input is not None:
            feedback = replace(feedback, input=input)
        return CheckFailed(feedback, self.mistake, self.subject, self.outcome, evidence, probes)

    def named(self, hint: str, mistake: str | None) -> CheckFailed:
        """This failure with a hint from the catalogue: ``mistake`` when one mistake explains it."""
        return CheckFailed(replace(self.feedback, hint=hint), mistake, self.subject, self.outcome, self.evidence)
