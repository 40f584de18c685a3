"""The check language: what a check body gets, and the verbs it judges the student's code with.

    ctx.call("conv2d", call)                 the student's function, run in the worker
    model = ctx.call("MLP2d", call)          an object kept in the worker: a Remote, whose
    model.call("state_dict"), model(call)    methods run there
    ctx.agree(function, calls, oracle)       for drawn inputs, equal to a trusted oracle
    ctx.for_all(function, examples, body)    a property, on drawn examples
    ctx.expect(function, call, expected)     one call, one expected value
    raise ctx.failure(function, call, "...") a failure in the one grammar
    ctx.memo, ctx.provided_file(name)        shared by the exercise's checks; the grader's copies
    ctx.call_with_figures(...), ctx.add_figure(...)   figures, beside the reference's
    ctx.reference                            the reference solution (hidden checks only)

Every failure is a :class:`CheckFailed` with feedback in the one grammar: what failed, on
which input, got vs expected, hint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from hypothesis import strategies as st

from grader.catalogue import Mistake
from grader.checks import diagnosis
from grader.checks.calls import Built, Call, Example, materialize
from grader.checks.compare import compare, compare_shape
from grader.checks.driver import PASSED_INPUTS, draw, evidence, replay, search
from grader.checks.failures import CheckFailed
from grader.checks.student import Student, StudentCall, unjudgeable
from grader.config import ExerciseConfig
from grader.errors import GraderError, MissingPiece, StudentCrash, StudentFailure, TimeBudgetSpent
from grader.model import Feedback, Figure

T = TypeVar("T")


class Context:
    """Everything one check needs; created by the runner for each check."""

    def __init__(self, *, student: Student, exercise: ExerciseConfig, reference: ModuleType | None,
                 mistakes: tuple[Mistake, ...], max_examples: int, seed: int, reproduce: str | None,
                 shrink_calls: int = 100, reference_figures: bool = True) -> None:
        self.student, self.exercise = student, exercise
        self.shrink_calls = shrink_calls
        self._reference, self.mistakes = reference, mistakes
        self._reference_figures = reference_figures
        self.max_examples, self.seed, self.reproduce = max_examples, seed, reproduce
        self.notes: list[str] = []
        self.figures: list[Figure] = []
        self._models: dict[str, Any] = {}
        self._runs = 0  # for_all runs so far in this check: part of the key of their inputs
        self.reference_seconds = 0.0
        student.begin_check()

    # -- the student's code, and what the exercise's checks share -------------------------

    def call(self, function: str, call: Call) -> Any:
        """Call the student's function (or class) with ``call``; returns its value, objects
        that stay in the worker as :class:`~grader.checks.Remote` values."""
        return self.student.call(function, call)

    def call_with_figures(self, function: str, call: Call, module: str | None = None) -> tuple[Any, list[bytes]]:
        """Call ``function`` (of a provided helper ``module``, ``"helper"`` say, when given) and
        collect the figures it drew, as PNG bytes."""
        return self.student.call_with_figures(function, call, module)

    @property
    def memo(self) -> dict[str, Any]:
        """Values the checks of one exercise share (a model trained once, say). Emptied when
        the worker is replaced, so a remote object in it is always alive."""
        return self.student.memo

    def provided_file(self, name: str) -> Path:
        """The grader's own copy of a provided file (``sample_image.png``), never the submission's."""
        return self.student.provided_file(name)

    def provided_module(self, name: str) -> ModuleType:
        """A provided helper (``helper.py``), loaded in the parent from the grader's own copy."""
        import importlib.util
        import sys

        path = self.provided_file(f"{name}.py")
        key = f"_grader_provided.{path.parent.name}.{name}"
        if key not in sys.modules:
            spec = importlib.util.spec_from_file_location(key, path)
            if spec is None or spec.loader is None:
                raise GraderError(f"provided file {name}.py is missing")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[key] = module
        return sys.modules[key]

    @property
    def reference(self) -> ModuleType:
        """The reference solution module; only hidden checks (grade mode) may use it."""
        if self._reference is None:
            raise GraderError(f"this check needs the reference solution of {self.exercise.id}, which is not here")
        return self._reference

    def trusted(self, run: Callable[[], T]) -> T:
        """Run trusted code (the reference, a catalogued variant), its time counted as the reference's."""
        start = time.perf_counter()
        try:
            return run()
        finally:
            self.reference_seconds += time.perf_counter() - start

    @property
    def shows_reference_figures(self) -> bool:
        """Whether the reference's figures are wanted beside the student's: in grade mode, where
        an output shows them (an HTML report, a batch's pages; not results.json alone). The work
        that only they need (training the reference's model for its plot, say) can start early,
        or not at all."""
        return self._reference is not None and self._reference_figures

    def build(self, spec: dict[str, Any]) -> Any:
        """A fresh parent-side object built from a ``Built`` spec, for reference work on a thread
        (seeded, as the worker builds it; never shared with the checks' own copies).

        >>> ctx.build({"seed": 0, "root": ["torchvision", "resnet50"]})  # doctest: +SKIP
        """
        return materialize(Built(spec), {}, self.student.provided_from)

    def parent_call(self, function: Callable[..., Any], call: Call) -> Any:
        """Run trusted code (an oracle, a mistake) on a private copy of the arguments."""
        def run() -> Any:
            args = materialize(call.args, self._models, self.student.provided_from)
            kwargs = materialize(call.kwargs, self._models, self.student.provided_from)
            return function(*args, **kwargs)

        return self.trusted(run)

    def add_figure(self, title: str, student_png: bytes | None, reference: Callable[[], Any] | None,
                   note: str = "") -> None:
        """Show the student's figure beside the reference's: ``reference()`` draws it here, or
        returns its PNG bytes (drawn on a thread while the student's code ran, say); only where
        :attr:`shows_reference_figures`."""
        from grader.images import drawn_png

        reference_png = None
        if reference is not None and self.shows_reference_figures:
            start = time.perf_counter()
            reference_png = drawn_png(reference)
            self.reference_seconds += time.perf_counter() - start
        self.figures.append(Figure(title, student_png, reference_png, note))

    # -- judging ----------------------------------------------------------------------------

    def expect(self, function: str, call: Call, expected: Any, *, rtol: float = 1e-4, atol: float = 1e-5,
               what: str | None = None) -> Any:
        """Call the student's ``function`` and compare with ``expected``; returns the value."""
        got = self.call(function, call)
        verdict = compare(got, expected, rtol, atol)
        self.notes.extend(n for n in verdict.notes if n not in self.notes)
        if not verdict.ok:
            raise self.failure(function, call, f"{what or function + '()'} {verdict.summary}",
                               verdict.details, got)
        return got

    def require_close(self, function: str, call: Call, value: Any, expected: Any, what: str, *,
                      rtol: float = 1e-4, atol: float = 1e-5, got: Any = None) -> None:
        """Fail with ``what`` and the comparison unless ``value`` equals ``expected``.

        For laws checked on the student's outputs: ``value`` is computed from them, ``got``
        (the student's raw output) is compared with the catalogue for a hint.
        """
        verdict = compare(value, expected, rtol, atol)
        if not verdict.ok:
            raise self.failure(function, call, f"{what} {verdict.summary}", verdict.details, got)

    def returned_tensor(self, function: str, call: Call, shape: tuple[int, ...]) -> Any:
        """Call the student's function; fail unless it returns a tensor of ``shape``.

        Returns the value as a float64 tensor, for property checks to compute with.
        """
        import torch

        got = self.call(function, call)
        verdict = compare_shape(got, shape)
        if not verdict.ok:
            raise self.failure(function, call, f"{function}() returned {verdict.summary}", got=got)
        self.notes.extend(n for n in verdict.notes if n not in self.notes)
        return torch.as_tensor(got).to(torch.float64)

    def agree(self, function: str, calls: st.SearchStrategy[Call], oracle: Callable[..., Any], *,
              rtol: float = 1e-4, atol: float = 1e-5, max_examples: int | None = None) -> None:
        """For inputs drawn from ``calls``, the student's function equals ``oracle``."""

        def body(call: Call) -> None:
            self.expect(function, call, self.parent_call(oracle, call), rtol=rtol, atol=atol,
                        what=f"{function}() differs from the expected result:")

        self.for_all(function, calls, body, max_examples=max_examples)

    def for_all(self, function: str, examples: st.SearchStrategy[Any], body: Callable[[Any], None], *,
                max_examples: int | None = None) -> None:
        """Run ``body`` on examples drawn by hypothesis; on failure, report the smallest found.

        An example is a :class:`Call`, or any value with a ``describe()`` for feedback.
        ``body`` raises :class:`CheckFailed` (``ctx.failure``); a crash of the student's code
        is reported with the smallest example that crashes it.
        """
        budget = max_examples or self.max_examples
        key = (self.seed, self._runs, budget, function, repr(examples))
        self._runs += 1
        if key in PASSED_INPUTS and replay(PASSED_INPUTS[key], body):
            return
        found = search(examples, body, seed=self.seed, examples=budget, shrink_calls=self.shrink_calls)
        if found.passed:
            PASSED_INPUTS[key] = list(found.tried)
            return
        if found.flaky:
            raise self.failure(function, found.failures[-1][0] if found.failures else None,
                               f"{function}() gave different results for the same input; make it deterministic")
        example, error = found.failures[-1]
        if isinstance(error, CheckFailed):
            raise error.shrunk(evidence(found.failures), lambda: draw(examples, self.seed + 1, 20))
        assert isinstance(error, StudentCrash)
        raise self.stopped(error, error.call or (function, example), error.output).shrunk(input=example.describe())

    # -- failures ---------------------------------------------------------------------------

    def failure(self, function: str, example: Example | str | None, summary: str, details: tuple[str, ...] = (),
                got: Any = None, *, mistake: Mistake | str | None = None, replay: Call | None = None,
                hint: str | None = None, nudge: str | None = None) -> CheckFailed:
        """A failure of ``function`` to raise, with the input and what the student's code printed.

        ``example`` is the input: a :class:`Call`, anything with a ``describe()``, or the input
        in words. ``got`` (the student's value) lets the catalogue's variants be compared with
        it, on ``replay`` when given: the same call with parent-side stand-ins for objects that
        live in the worker (the student's model as a network rebuilt from its weights).
        ``mistake`` names the catalogued mistake (its id, or the :class:`Mistake`) for a failure
        that tells its cause by itself; ``hint`` and ``nudge`` (where to look, not the fix) are
        the check's own, shown when no mistake is named.

        >>> raise ctx.failure("conv2d", call, f"conv2d() {verdict.summary}", verdict.details, got)  # doctest: +SKIP
        """
        known = mistake if isinstance(mistake, Mistake) else self.known(mistake)
        text = example if example is None or isinstance(example, str) else example.describe()
        feedback = Feedback(summary=summary, input=text, details=details, output=self.student.output.strip() or None,
                            reproduce=self.reproduce, hint=known.hint if known else hint, nudge=nudge)
        subject = (function, replay or example, got) if example is not None and got is not None else None
        return CheckFailed(feedback, mistake=known.id if known else None, subject=subject,
                           outcome="bad-return" if unjudgeable(got) else "wrong")

    def stopped(self, failure: StudentFailure, call: StudentCall | None = None, output: str = "") -> CheckFailed:
        """The failure of a check that the student's code ended: told from the exception, the
        call it happened in (``call``) and what the code printed there (``output``)."""
        missing = isinstance(failure, (MissingPiece, TimeBudgetSpent))
        mistake = None
        summary = str(failure)
        if isinstance(failure, StudentCrash) and call is not None:
            summary = f"{call[0]}() raised {failure}"
            mistake = diagnosis.crash_mistake(self, call[0], failure)
        traceback = failure.traceback if isinstance(failure, (MissingPiece, StudentCrash)) else ""
        return CheckFailed(Feedback(
            summary=summary,
            input=None if missing or call is None else call[1].describe(),
            traceback=traceback or None,
            output=output.strip() or None,
            hint=mistake.hint if mistake else None,
            reproduce=None if missing else self.reproduce,
        ), mistake.id if mistake else None, outcome=failure.outcome)

    # -- the catalogue of mistakes ----------------------------------------------------------

    def known(self, mistake: str | None) -> Mistake | None:
        """The catalogued mistake with this id, if the catalogue is here and has it."""
        return next((m for m in self.mistakes if m.id == mistake), None)

    def sole_mistake(self, function: str, got: Any, replay: Callable[[Mistake], Any], *,
                     rtol: float = 1e-4, atol: float = 1e-5) -> Mistake | None:
        """The one catalogued mistake of ``function`` whose variant, run by ``replay`` on the
        failing input, gives ``got``; None when none does or several do.

        For calls a variant cannot simply be given: ``replay`` builds what the worker held
        (a model after the reference's preparation, say) and runs ``mistake.impl`` on it.
        """
        return diagnosis.sole_mistake(self, function, got, replay, rtol=rtol, atol=atol)

    def explain(self, failed: CheckFailed) -> CheckFailed:
        """The same failure with a hint, when the student's values match a catalogued mistake."""
        return diagnosis.explain(self, failed)
