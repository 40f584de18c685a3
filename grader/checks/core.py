"""Declaring checks, calling the student through the worker, and hypothesis loops.

The pieces a check body uses:

* :class:`Call` — one set of arguments, with labels so feedback can show the input;
* :class:`Student` — calls the student's functions in the worker (data crosses, models
  stay behind handles) and turns every failure into a ``StudentFailure``;
* :class:`Context` — what a check gets: the student, the reference module, the catalogue
  of mistakes, the hypothesis budget, and helpers (:meth:`Context.agree`,
  :meth:`Context.for_all`, :meth:`Context.expect`) that raise :class:`CheckFailed` with
  feedback in the one grammar: what failed, on which input, got vs expected, hint.
"""

from __future__ import annotations

import atexit
import copy
import json
import math
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Flaky

from grader.catalogue import Mistake
from grader.checks.compare import Comparison, compare, compare_shape, fmt
from grader.config import ExerciseConfig
from grader.errors import (
    AbortCheck,
    BadReturn,
    CallTimedOut,
    ForbiddenCall,
    GraderError,
    ImportFailed,
    MissingPiece,
    ProtocolError,
    StudentCrash,
    StudentFailure,
    TimeBudgetSpent,
    WorkerLost,
)
from grader.images import safe_png
from grader.model import Feedback, Figure
from grader.sandbox.client import Sandbox, Worker
from grader.sandbox.codec import Handle, Opaque
from grader.sandbox.models import build_object, describe as describe_model
from grader.vocabulary import Outcome

# Hypothesis caches constants of local code in ./.hypothesis: a grader must leave the folder
# it was started from as it found it, so hypothesis gets a private folder for this run.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="grader-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
set_hypothesis_home_dir(_HYPOTHESIS_HOME)

INLINE_ELEMENTS = 16
SHRUNK = "smallest failing input"


@dataclass(frozen=True)
class Built:
    """An argument built from ``spec`` in the worker and in the parent: a model or an image.

    See :mod:`grader.sandbox.models` for the specs.
    """

    spec: dict[str, Any]

    def key(self) -> str:
        return json.dumps(self.spec, sort_keys=True)


@dataclass(frozen=True)
class Call:
    """The arguments of one call, labelled for feedback.

    >>> import torch
    >>> Call((torch.ones(2),), {"stride": 2}, ("x",)).describe()
    'x = [1, 1], stride=2'
    """

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] = ()

    def describe(self) -> str:
        labels = self.labels + tuple(f"arg{i}" for i in range(len(self.labels), len(self.args)))
        parts = [f"{label} = {show(value)}" for label, value in zip(labels, self.args)]
        parts += [f"{key}={show(value)}" for key, value in self.kwargs.items()]
        return ", ".join(parts)


def show(value: Any) -> str:
    """A value as it appears in feedback: small tensors in full, large ones by shape."""
    import torch

    if isinstance(value, torch.Tensor):
        if value.numel() <= INLINE_ELEMENTS:
            text = _nested(value.tolist())
            return text if value.ndim <= 1 else f"{text} (shape {tuple(value.shape)})"
        return f"tensor of shape {tuple(value.shape)}"
    if isinstance(value, Built):
        return describe_model(value.spec)
    if isinstance(value, float):
        return fmt(value)
    return repr(value)


def _nested(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return fmt(value) if isinstance(value, float) else str(value)


Subject = tuple[str, "Call", Any]  # a failing call: the function, its arguments, the student's value


class CheckFailed(StudentFailure):
    """Raised in a check body to fail the check with this feedback.

    ``subject`` is the failing call (function, arguments, the student's value); the
    runner compares it with the catalogue once, after shrinking, to add a hint.
    ``evidence`` holds other failing calls of the same check (the first example that
    failed, before shrinking, among them): a mistake is named only if it explains them too;
    ``probes`` gives inputs of the check's kind (drawn when first asked for), on which
    mistakes that all explain the failure can be told apart by asking the student's code.
    ``outcome`` names the failure in reports: "wrong" (a wrong value), "bad-return" (a
    value that cannot be judged: a tensor subclass, an object), or "crash".
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


@dataclass(frozen=True)
class CheckSpec:
    """A check as declared in an exercise module; points and visibility come from config."""

    id: str
    description: str
    run: Callable[["Context"], None]


def check(check_id: str, description: str) -> Callable[[Callable[["Context"], None]], CheckSpec]:
    """Declare a check; the decorated function receives a :class:`Context`."""

    def wrap(function: Callable[["Context"], None]) -> CheckSpec:
        return CheckSpec(check_id, description, function)

    return wrap


class Student:
    """The student's module for one exercise, reached through a worker process.

    A worker is forked on first use and replaced after it dies; every call has a time
    limit, and all calls of the exercise together share the exercise's limit. Only the
    time spent waiting for the student's code counts against these limits: the grader's
    own work (drawing inputs, the reference, shrinking) is never charged to the student.
    """

    def __init__(self, sandbox: Sandbox, folder: Path, exercise: ExerciseConfig,
                 call_seconds: float, exercise_seconds: float,
                 provided: tuple[str, ...] = (), provided_from: Path = Path(".")) -> None:
        self.sandbox, self.folder, self.exercise = sandbox, folder, exercise
        # Helper files and images come from the grader's own copies, never the submission.
        self.provided, self.provided_from = provided, provided_from
        self.call_seconds, self.exercise_seconds = call_seconds, exercise_seconds
        self.spent = 0.0
        self.worker: Worker | None = None
        self.names: list[str] = []
        self.handles: dict[str, Handle] = {}
        self.output = ""
        self.import_output = ""
        # Warnings the student's code raised in this exercise (a deprecated .T, say), in order.
        self.warnings: list[str] = []
        self.last_call: tuple[str, Call] | None = None
        self.import_failure: MissingPiece | None = None
        # Results that several checks of the exercise share (a trained model's handle, say);
        # emptied with the worker, whose objects the handles name.
        self.memo: dict[str, Any] = {}

    def _timeout(self) -> tuple[float, str]:
        """Seconds the next request may take, and how to name that limit to a student."""
        left = self.exercise_seconds - self.spent
        if left <= 0:
            raise AbortCheck(TimeBudgetSpent(
                f"not run: the time limit of {self.exercise_seconds:g} s for this exercise was used up"))
        if left < self.call_seconds:
            return left, f"the time limit of {self.exercise_seconds:g} s for this exercise"
        return self.call_seconds, f"the time limit of {self.call_seconds:g} s per call"

    def begin_check(self) -> None:
        """Forget the previous check's call and output, so feedback never mixes them up."""
        self.last_call = None
        self.output = ""

    def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        worker = self._ensure_worker()
        seconds, limit = self._timeout()
        start = time.monotonic()
        try:
            reply = worker.request(message, seconds)
        except CallTimedOut:
            self.worker = None
            raise AbortCheck(CallTimedOut(f"did not finish within {limit}")) from None
        except WorkerLost as lost:
            self.worker = None
            raise AbortCheck(lost) from None
        except ProtocolError as exc:
            self.worker = None
            raise AbortCheck(BadReturn(f"your code sent back something that is not plain data ({exc})")) from None
        finally:
            self.spent += time.monotonic() - start
        self.output = str(reply.get("stdout", ""))
        raised = reply.get("warnings")
        for warning in raised if isinstance(raised, list) else []:
            if isinstance(warning, str) and warning not in self.warnings and len(self.warnings) < 10:
                self.warnings.append(warning)
        return reply

    def _ensure_worker(self) -> Worker:
        if self.import_failure is not None:
            raise AbortCheck(self.import_failure)
        if self.worker is not None and self.worker.alive:
            return self.worker
        self._timeout()  # no new worker once the exercise's time is used up
        file = self.exercise.file
        if not (self.folder / file).is_file() or (self.folder / file).is_symlink():
            raise AbortCheck(MissingPiece(f"your submission has no file {file} (or it is not a regular file)"))
        # CPU time is a backstop behind the wall-clock limits: a little above the whole budget.
        self.worker = self.sandbox.spawn(self.folder, tuple(self.provided_from / name for name in self.provided),
                                         cpu_seconds=math.ceil(self.exercise_seconds) + 10)
        self.handles = {}
        self.memo = {}
        reply = self._request({"op": "import", "module": self.exercise.module})
        self.import_output = self.output
        if not reply.get("ok"):
            error = reply.get("error") or {}
            crash = StudentCrash(str(error.get("type", "Error")), str(error.get("message", "")),
                                 str(error.get("traceback", "")))
            self.import_failure = ImportFailed(f"{file} could not be imported: {crash}", crash.traceback)
            raise AbortCheck(self.import_failure)
        value = reply.get("value")
        self.names = [n for n in value if isinstance(n, str)] if isinstance(value, list) else []
        return self.worker

    def _arguments(self, value: Any) -> Any:
        if isinstance(value, Built):
            key = value.key()
            if key not in self.handles:
                self.handles[key] = self._value(self._request({"op": "build", "spec": value.spec}), "building an input")
            return self.handles[key]
        if isinstance(value, tuple):
            return tuple(self._arguments(v) for v in value)
        if isinstance(value, list):
            return [self._arguments(v) for v in value]
        if isinstance(value, dict):
            return {k: self._arguments(v) for k, v in value.items()}
        return value

    def call(self, function: str, call: Call) -> Any:
        """Call ``function`` of the student's module; returns the decoded value.

        Raises :class:`StudentCrash` when the student's code raises (hypothesis may shrink
        it), and :class:`AbortCheck` for what must end the check at once: a missing
        function, NotImplementedError, a forbidden call, a lost worker, a bad reply.
        """
        self._ensure_worker()
        if function not in self.names:
            raise AbortCheck(MissingPiece(f"{self.exercise.file} defines no function {function}()"))
        self.last_call = (function, call)
        message = {
            "op": "call", "module": self.exercise.module, "function": function,
            "args": list(self._arguments(call.args)), "kwargs": self._arguments(call.kwargs),
            "watch": list(self.exercise.forbidden_in(function)),
        }
        return self._value(self._request(message), f"{function}()", (function, call))

    def call_with_figures(self, function: str, call: Call, module: str | None = None) -> tuple[Any, list[bytes]]:
        """Call ``function`` and collect the matplotlib figures it drew, as safe PNG bytes.

        ``module`` may name a provided helper (``helper_maxpool``) instead of the exercise's file.
        """
        self._ensure_worker()
        if module is None and function not in self.names:
            raise AbortCheck(MissingPiece(f"{self.exercise.module}.py defines no function {function}()"))
        self.last_call = (function, call)
        reply = self._request({"op": "call", "module": module or self.exercise.module, "function": function,
                               "args": list(self._arguments(call.args)), "kwargs": self._arguments(call.kwargs),
                               "watch": [], "figures": True})
        value = self._value(reply, f"{function}()")
        raw = reply.get("figures") if isinstance(reply.get("figures"), list) else []
        pngs = [safe_png(a.tobytes()) for a in raw if isinstance(a, np.ndarray) and a.dtype == np.uint8]
        return value, [png for png in pngs if png is not None]

    def call_method(self, handle: Handle, method: str, call: Call) -> Any:
        """Call a method of an object kept in the worker (``"__call__"`` runs its forward)."""
        name = f"{handle.type}.{'forward' if method == '__call__' else method}"
        self.last_call = (name, call)
        message = {"op": "call_method", "handle": handle.id, "method": method,
                   "args": list(self._arguments(call.args)), "kwargs": self._arguments(call.kwargs),
                   "watch": list(self.exercise.forbidden_in(method))}
        return self._value(self._request(message), f"{name}()", (name, call))

    def _value(self, reply: dict[str, Any], what: str, call: tuple[str, Call] | None = None) -> Any:
        if not reply.get("ok"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            kind, message = str(error.get("type", "Error")), str(error.get("message", ""))
            if kind == "NotImplementedError":
                why = f"NotImplementedError: {message}" if message else "it raises NotImplementedError"
                raise AbortCheck(MissingPiece(f"{what} is not implemented yet ({why})"))
            raise StudentCrash(kind, message, str(error.get("traceback", "")), call)
        used = reply.get("used") or []
        if used:
            raise AbortCheck(ForbiddenCall(what, tuple(str(u) for u in used)))
        return reply.get("value")

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None


def materialize(value: Any, cache: dict[str, Any], folder: Path) -> Any:
    """Parent-side copy of call arguments: objects built from their specs, tensors cloned.

    ``folder`` holds the provided files that image specs name (the assignment's templates).
    """
    if isinstance(value, Built):
        key = value.key()
        if key not in cache:
            cache[key] = build_object(value.spec, folder)
        return cache[key]
    if isinstance(value, tuple):
        return tuple(materialize(v, cache, folder) for v in value)
    if isinstance(value, list):
        return [materialize(v, cache, folder) for v in value]
    if isinstance(value, dict):
        return {k: materialize(v, cache, folder) for k, v in value.items()}
    return copy.deepcopy(value)


class Context:
    """Everything one check needs; created by the runner for each check."""

    def __init__(self, *, student: Student, exercise: ExerciseConfig, reference: ModuleType | None,
                 mistakes: tuple[Mistake, ...], max_examples: int, seed: int, reproduce: str | None,
                 shrink_calls: int = 100) -> None:
        self.student, self.exercise = student, exercise
        self.shrink_calls = shrink_calls
        self._reference, self.mistakes = reference, mistakes
        self.max_examples, self.seed, self.reproduce = max_examples, seed, reproduce
        self.notes: list[str] = []
        self.figures: list[Figure] = []
        self._models: dict[str, Any] = {}
        self._runs = 0  # for_all runs so far in this check: part of the key of their inputs
        self.reference_seconds = 0.0

    def provided_module(self, name: str) -> ModuleType:
        """A provided helper (``helper.py``), loaded in the parent from the grader's own copy."""
        import importlib.util
        import sys

        key = f"_grader_provided.{self.student.provided_from.name}.{name}"
        if key not in sys.modules:
            spec = importlib.util.spec_from_file_location(key, self.student.provided_from / f"{name}.py")
            if spec is None or spec.loader is None:
                raise GraderError(f"provided file {name}.py is missing")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[key] = module
        return sys.modules[key]

    def add_figure(self, title: str, student_png: bytes | None, reference: Callable[[], Any] | None,
                   note: str = "") -> None:
        """Show the student's figure beside the reference's (drawn here by ``reference()``)."""
        from grader.images import figure_png

        reference_png = None
        if reference is not None and self._reference is not None:
            import matplotlib

            matplotlib.use("Agg")  # the grader draws headless, whatever the machine has
            import matplotlib.pyplot as plt

            start = time.perf_counter()
            figure = reference()
            reference_png = figure_png(figure)
            plt.close(figure)
            self.reference_seconds += time.perf_counter() - start
        self.figures.append(Figure(title, student_png, reference_png, note))

    @property
    def reference(self) -> ModuleType:
        """The reference solution module; only hidden checks (grade mode) may use it."""
        if self._reference is None:
            raise GraderError(f"this check needs the reference solution of {self.exercise.id}, which is not here")
        return self._reference

    def parent_call(self, function: Callable[..., Any], call: Call) -> Any:
        """Run trusted code (an oracle, a mistake) on a private copy of the arguments."""
        start = time.perf_counter()
        try:
            args = materialize(call.args, self._models, self.student.provided_from)
            kwargs = materialize(call.kwargs, self._models, self.student.provided_from)
            return function(*args, **kwargs)
        finally:
            self.reference_seconds += time.perf_counter() - start

    def call(self, function: str, call: Call) -> Any:
        """Call the student's function; notes about the value are kept for the report."""
        return self.student.call(function, call)

    def explains(self, mistake: Mistake, subject: Subject) -> bool | None:
        """Whether ``mistake`` returns what the student returned on ``subject``'s input.

        None when that cannot be told: another function's call, or a variant that knows no
        answer for the input (``LookupError``); a variant that crashes does not explain a value.
        """
        function, call, got = subject
        if mistake.function != function:
            return None
        try:
            return compare(got, self.parent_call(mistake.impl, call)).ok
        except LookupError:
            return None
        except Exception:  # a variant may crash on inputs the reference accepts, or return a module
            return False

    def diagnose(self, subject: Subject, evidence: tuple[Subject, ...] = ()) -> tuple[Mistake, ...]:
        """The catalogued mistakes that return the student's value on ``subject`` and explain
        every other failing call in ``evidence`` that they can be judged on."""
        found = [m for m in self.mistakes if self.explains(m, subject)]
        for other in evidence:
            found = [m for m in found if self.explains(m, other) is not False]
        return tuple(found)

    def sole_mistake(self, function: str, got: Any, replay: Callable[[Mistake], Any], *,
                     rtol: float = 1e-4, atol: float = 1e-5) -> Mistake | None:
        """The one catalogued mistake of ``function`` whose variant, run by ``replay`` on the
        failing input, gives ``got``; None when none does or several do.

        For calls a variant cannot simply be given: ``replay`` builds what the worker held
        (a model after the reference's preparation, say) and runs ``mistake.impl`` on it.
        """
        found = []
        for mistake in self.mistakes:
            if mistake.function != function:
                continue
            start = time.perf_counter()
            try:
                matches = compare(got, replay(mistake), rtol, atol).ok
            except Exception:  # a variant may crash on inputs the reference accepts
                matches = False
            finally:
                self.reference_seconds += time.perf_counter() - start
            if matches:
                found.append(mistake)
        return found[0] if len(found) == 1 else None

    def crash_mistake(self, function: str, crash: StudentCrash) -> Mistake | None:
        """The catalogued mistake whose crash this is, if any.

        A mistake's crash is known by ``Mistake.raises``, or by its variant raising the very
        same error (type and message) on the call that crashed. ``function`` may be a
        method, "TransformerLayer.forward": the mistakes of any class of the exercise count
        then for ``raises`` (the instance's class may be a subclass or a renamed variant).
        """
        text = f"{crash.exc_type}: {crash.message}"
        for mistake in self.mistakes:
            owner = function == mistake.function or "." in function
            if mistake.raises and owner and re.search(mistake.raises, text):
                return mistake
        last = crash.call or self.student.last_call
        for mistake in self.mistakes:
            if last is None or last[0] != function or mistake.function != function:
                continue
            try:
                self.parent_call(mistake.impl, last[1])
            except Exception as exc:  # the variant's own crash, compared with the student's
                if type(exc).__name__ == crash.exc_type and str(exc)[:2000] == crash.message:
                    return mistake
        return None

    def known(self, mistake: str | None) -> Mistake | None:
        """The catalogued mistake with this id, if the catalogue is here and has it."""
        return next((m for m in self.mistakes if m.id == mistake), None)

    def failure(self, function: str, call: Call | None, summary: str, details: tuple[str, ...] = (),
                got: Any = None, *, mistake: str | None = None, replay: Call | None = None) -> CheckFailed:
        """A :class:`CheckFailed` with the input and what the student's code printed.

        ``got`` (the student's value) lets the catalogue's variants be compared with it, on
        ``replay`` when given: the same call with parent-side stand-ins for objects that live
        in the worker (the student's model as a network rebuilt from its weights).
        ``mistake`` names the catalogued mistake for a failure that tells its cause by itself.
        """
        output = self.student.output.strip() or None
        known = self.known(mistake)
        feedback = Feedback(summary=summary, input=call.describe() if call is not None else None,
                            details=details, output=output, reproduce=self.reproduce,
                            hint=known.hint if known else None)
        subject = (function, replay or call, got) if call is not None and got is not None else None
        return CheckFailed(feedback, mistake=known.id if known else None, subject=subject,
                           outcome="bad-return" if unjudgeable(got) else "wrong")

    def explain(self, failed: CheckFailed) -> CheckFailed:
        """The same failure with a hint, when the student's values match a catalogued mistake.

        A hint that names the wrong mistake misleads more than none: with one candidate left
        it is named; with several, only what they are about, when they share it; else nothing.
        """
        if failed.subject is None or failed.feedback.hint:
            return failed
        candidates = self.diagnose(failed.subject, failed.evidence)
        if len(candidates) > 1:
            candidates = self.tell_apart(candidates, failed.subject[0], failed.probes)
        if len(candidates) == 1:
            mistake = candidates[0]
            return CheckFailed(replace(failed.feedback, hint=mistake.hint), mistake.id, failed.subject,
                               failed.outcome, failed.evidence)
        topics = {m.about for m in candidates}
        if len(topics) == 1 and "" not in topics:
            hint = (f"Your output matches {len(candidates)} known mistakes on these inputs, all in "
                    f"{topics.pop()}: look there first.")
            return CheckFailed(replace(failed.feedback, hint=hint), None, failed.subject, failed.outcome,
                               failed.evidence)
        return failed

    def tell_apart(self, candidates: tuple[Mistake, ...], function: str, probes: Callable[[], list[Any]],
                   most: int = 3) -> tuple[Mistake, ...]:
        """Keep the candidates that agree with the student's code on the first few ``probes``
        where they disagree with each other (at most ``most`` more calls into the student's code)."""
        asked = 0
        for probe in probes():
            if len(candidates) < 2 or asked == most:
                break
            if not isinstance(probe, Call):
                continue
            outputs = []
            for mistake in candidates:
                try:
                    outputs.append(self.parent_call(mistake.impl, probe))
                except Exception:  # a variant that crashes here cannot be told apart by its value
                    outputs.append(None)
            if any(o is None for o in outputs) or all(compare(o, outputs[0]).ok for o in outputs[1:]):
                continue
            asked += 1
            try:
                got = self.call(function, probe)
            except (Exception, AbortCheck):  # the student's code fails here: leave the candidates as they are
                break
            candidates = tuple(m for m, o in zip(candidates, outputs) if compare(got, o).ok)
        return candidates

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

    def for_all(self, function: str, calls: st.SearchStrategy[Any], body: Callable[[Any], None], *,
                max_examples: int | None = None) -> None:
        """Run ``body`` on examples drawn by hypothesis; on failure, report the smallest found.

        An example is a :class:`Call`, or any value with a ``describe()`` for feedback.
        ``body`` raises :class:`CheckFailed`; a crash of the student's code is reported with
        the smallest input that crashes it. Shrinking stops after ``shrink_calls`` examples
        (a count, not a time, so that the reported input does not depend on the machine's
        load): the shrinker only ever moves to a smaller failing example, so the last
        failure seen is the smallest found so far, and it is a real one.
        """
        examples = max_examples or self.max_examples
        key = (self.seed, self._runs, examples, function, repr(calls))
        self._runs += 1
        if key in _PASSED_INPUTS and _replay(_PASSED_INPUTS[key], body):
            return
        failures: list[tuple[Any, Exception]] = []
        shrink_tries: list[int] = []
        tried: list[Any] = []

        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            derandomize=False,
            print_blob=False,
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
        )
        @hypothesis.seed(self.seed)
        @given(calls)
        def run(call: Any) -> None:
            if shrink_tries:
                shrink_tries[0] += 1
                if shrink_tries[0] > self.shrink_calls:
                    raise _ShrinkingDone()
            else:
                tried.append(copy.deepcopy(call))
            try:
                body(call)
            except (CheckFailed, StudentCrash) as failure:
                failures.append((call, failure))
                shrink_tries[:] = shrink_tries or [0]
                raise

        try:
            run()
            _PASSED_INPUTS[key] = tried
        except (_ShrinkingDone, CheckFailed, StudentCrash):
            call, failure = failures[-1]
            if isinstance(failure, CheckFailed):
                raise CheckFailed(replace(failure.feedback, input_label=SHRUNK), failure.mistake,
                                  failure.subject, failure.outcome, _evidence(failures),
                                  lambda: _draw(calls, self.seed + 1, 20)) from None
            crash = failure
            assert isinstance(crash, StudentCrash)
            where = crash.call or self.student.last_call
            crashed = where[0] if where else function
            mistake = self.crash_mistake(crashed, crash)
            raise CheckFailed(Feedback(
                summary=f"{crashed}() raised {crash}",
                input=call.describe(),
                input_label=SHRUNK,
                traceback=crash.traceback or None,
                hint=mistake.hint if mistake else None,
                reproduce=self.reproduce,
            ), mistake.id if mistake else None, outcome=StudentCrash.outcome) from None
        except Flaky:
            raise CheckFailed(Feedback(
                summary=f"{function}() gave different results for the same input; make it deterministic",
                input=failures[-1][0].describe() if failures else None,
                reproduce=self.reproduce,
            )) from None


# The inputs hypothesis generated for checks that passed, by seed, run, budget and strategy.
# Generation depends on the seed alone, never on the code under test, so a process grading
# many submissions (``grader batch``) replays them instead of generating them again, which
# is about half of a passing check's time. A submission that fails one of them gets the
# whole hypothesis run, shrinking included, so its feedback is the same as alone.
_PASSED_INPUTS: dict[tuple[Any, ...], list[Any]] = {}


def _replay(inputs: list[Any], body: Callable[[Any], None]) -> bool:
    """Run ``body`` on copies of recorded inputs; False at the first failure (of any kind)."""
    for call in inputs:
        try:
            body(copy.deepcopy(call))
        except Exception:
            return False
    return True


def _draw(strategy: st.SearchStrategy[Any], seed: int, count: int) -> list[Any]:
    """``count`` examples of ``strategy``, the same for the same seed, calling nothing."""
    drawn: list[Any] = []

    @settings(max_examples=count, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @hypothesis.seed(seed)
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(copy.deepcopy(example))

    collect()
    return drawn


def _evidence(failures: list[tuple[Any, Exception]], most: int = 4) -> tuple[Subject, ...]:
    """Failing calls besides the last (shrunk) one, for a hint to be checked against: the
    first failure hypothesis generated, whose larger input tells mistakes apart best, and a
    few spread over the shrinking that followed."""
    subjects = [f.subject for _, f in failures[:-1] if isinstance(f, CheckFailed) and f.subject is not None]
    if len(subjects) > most:
        step = (len(subjects) - 1) / (most - 1)
        subjects = [subjects[round(i * step)] for i in range(most)]
    return tuple(subjects)


def unjudgeable(value: Any) -> bool:
    """True for a value that arrived as an opaque stand-in, at the top or inside a container."""
    if isinstance(value, Opaque):
        return True
    if isinstance(value, (tuple, list)):
        return any(unjudgeable(v) for v in value)
    if isinstance(value, dict):
        return any(unjudgeable(v) for v in value.values())
    return False


class _ShrinkingDone(BaseException):
    """Ends a hypothesis run whose shrinking budget is spent (hypothesis catches only Exception)."""


__all__ = ["Call", "CheckFailed", "CheckSpec", "Comparison", "Context", "Built", "Student", "check"]
