"""One submission checked again and again by a grader kept warm, for ``grader check --watch``
and the notebook helper.

Torch, the checks and the sandbox's zygote (which forks a worker in about 20 ms) are loaded
once; checking an exercise again then costs only its checks. Start the sandbox before this
module is imported, so that the zygote imports torch while this process does::

    sandbox = sandbox_for(assignment)
    from grader.warm import CheckSession
    with CheckSession(assignment, Path("."), Options(mode="check"), sandbox) as session:
        session.check()                            # every exercise
        session.check(("attention",))              # attention again
        session.report                             # attention as now, the others as they were
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Self

from grader.config import AssignmentConfig
from grader.errors import GraderError
from grader.grading import Options, answers_of, grade, report_notes
from grader.model import GradeReport
from grader.sandbox.client import Sandbox, sandbox_for


class CheckSession:
    """A submission folder, the exercises chosen in it, the report on them and the sandbox they are checked in.

    The session owns ``sandbox`` and closes it. A zygote that died meanwhile (killed by hand,
    say) is replaced before the next check, by one with all the assignment's preloaded
    modules, instead of failing every check with a grader error.
    """

    def __init__(self, assignment: AssignmentConfig, folder: Path, options: Options, sandbox: Sandbox) -> None:
        self.assignment, self.folder, self.options = assignment, folder, options
        self.chosen = tuple(e.id for e in assignment.exercises if not options.exercises or e.id in options.exercises)
        self._sandbox = sandbox
        self._whole: GradeReport | None = None

    def check(self, exercises: tuple[str, ...] = ()) -> GradeReport:
        """Check ``exercises`` (default: every chosen one) and return the report on them."""
        again = tuple(e for e in self.chosen if e in exercises) if exercises else self.chosen
        if not self._sandbox.running():
            self._sandbox.close()
            self._sandbox = sandbox_for(self.assignment)
        fresh = grade(self.assignment, self.folder, self._sandbox, replace(self.options, exercises=again))
        self._whole = fresh if self._whole is None else self._merged(self._whole, fresh)
        return fresh

    @property
    def report(self) -> GradeReport:
        """The report on every exercise checked so far, each as at its last check."""
        if self._whole is None:
            raise GraderError("nothing has been checked in this session yet")
        return self._whole

    def _merged(self, previous: GradeReport, fresh: GradeReport) -> GradeReport:
        """``previous`` with the exercises of ``fresh`` in place of their old results, and notes on them all."""
        graded = {e.id: e for e in fresh.exercises}
        exercises = tuple(graded.get(e.id, e) for e in previous.exercises)
        configs = [self.assignment.exercise(e.id) for e in exercises]
        notes = report_notes(self.assignment, exercises, answers_of(self.assignment, configs, self.folder),
                             self.options, self._sandbox.isolation())
        return replace(fresh, exercises=exercises, notes=notes)

    def close(self) -> None:
        """End the sandbox: its zygote and every worker."""
        self._sandbox.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
