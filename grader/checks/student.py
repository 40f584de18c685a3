"""The proxy to the student's code: one exercise's module, reached through a worker process.

Data crosses the boundary; an object the student's code makes (a model, a layer) stays in
the worker and comes back as a :class:`Remote`, whose methods run there. Every failure of a
call is raised with the call it happened in and what the call printed, so that feedback is
told from the exception alone:

* :class:`~grader.errors.StudentCrash` when the student's code raises (hypothesis may shrink it);
* :class:`~grader.errors.AbortCheck` for what must end the check at once: a missing function,
  NotImplementedError, a forbidden call, a lost worker, a bad reply.

Its messages name the call (``f() did not finish within ...``, ``importing f.py was killed by
...``); a crash's does not, so that it can be matched with a catalogued variant's own crash.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks.calls import Built, Call
from grader.checks.remote import Remote
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
    TimeBudgetSpent,
    WorkerLost,
)
from grader.images import safe_png
from grader.sandbox.client import Sandbox, Worker
from grader.sandbox.codec import Handle, Opaque

# A call as feedback names it ("conv2d", "TransformerLayer.forward") and its arguments.
StudentCall = tuple[str, Call]


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
        self.output = ""  # what the latest call printed
        self.import_output = ""
        # Warnings the student's code raised in this exercise (a deprecated .T, say), in order.
        self.warnings: list[str] = []
        self.import_failure: MissingPiece | None = None
        # Results that several checks of the exercise share (a trained model, say); emptied
        # with the worker, which holds the objects they refer to.
        self.memo: dict[str, Any] = {}

    def provided_file(self, name: str) -> Path:
        """The grader's own copy of a file the assignment provides (config.yaml ``provided``)."""
        if name not in self.provided:
            raise GraderError(f"{name} is not a provided file of this assignment (config.yaml: provided)")
        return self.provided_from / name

    def begin_check(self) -> None:
        """Forget the previous check's output, so that feedback never shows it."""
        self.output = ""

    def call(self, function: str, call: Call) -> Any:
        """Call ``function`` of the student's module; returns the decoded value."""
        self._ensure_worker()
        if function not in self.names:
            raise AbortCheck(MissingPiece(f"{self.exercise.file} defines no function {function}()"),
                             output=self.import_output)
        target = {"op": "call", "module": self.exercise.module, "function": function}
        return self._invoke(target, function, call, self.exercise.forbidden_in(function))[0]

    def call_with_figures(self, function: str, call: Call, module: str | None = None) -> tuple[Any, list[bytes]]:
        """Call ``function`` and collect the matplotlib figures it drew, as safe PNG bytes.

        ``module`` may name a provided helper (``helper_maxpool``) instead of the exercise's file.
        """
        self._ensure_worker()
        if module is None and function not in self.names:
            raise AbortCheck(MissingPiece(f"{self.exercise.file} defines no function {function}()"),
                             output=self.import_output)
        target = {"op": "call", "module": module or self.exercise.module, "function": function, "figures": True}
        value, reply = self._invoke(target, function, call, ())
        raw = reply.get("figures") if isinstance(reply.get("figures"), list) else []
        pngs = [safe_png(a.tobytes()) for a in raw if isinstance(a, np.ndarray) and a.dtype == np.uint8]
        return value, [png for png in pngs if png is not None]

    def call_method(self, remote: Remote, method: str, call: Call | None = None) -> Any:
        """Call a method of an object kept in the worker (``"__call__"`` runs its forward)."""
        call = call or Call(())
        name = f"{remote.type}.{'forward' if method == '__call__' else method}"
        target = {"op": "call_method", "handle": remote.handle.id, "method": method}
        return self._invoke(target, name, call, self.exercise.forbidden_in(method))[0]

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def _invoke(self, target: dict[str, Any], name: str, call: Call,
                watch: tuple[str, ...]) -> tuple[Any, dict[str, Any]]:
        """The one way into the student's code: send ``target`` with the call's arguments."""
        where = (name, call)
        message = {**target, "args": list(self._arguments(call.args, where)),
                   "kwargs": self._arguments(call.kwargs, where), "watch": list(watch)}
        reply = self._request(message, f"{name}()", where)
        return self._value(reply, f"{name}()", where), reply

    def _timeout(self) -> tuple[float, str]:
        """Seconds the next request may take, and how to name that limit to a student."""
        left = self.exercise_seconds - self.spent
        if left <= 0:
            raise AbortCheck(TimeBudgetSpent(
                f"not run: the time limit of {self.exercise_seconds:g} s for this exercise was used up"),
                output=self.import_output)
        if left < self.call_seconds:
            return left, f"the time limit of {self.exercise_seconds:g} s for this exercise"
        return self.call_seconds, f"the time limit of {self.call_seconds:g} s per call"

    def _request(self, message: dict[str, Any], what: str, where: StudentCall | None) -> dict[str, Any]:
        """Send one request; a lost worker or a bad reply ends the check, naming ``what`` ran."""
        worker = self._ensure_worker()
        seconds, limit = self._timeout()
        start = time.monotonic()
        try:
            reply = worker.request(message, seconds)
        except CallTimedOut:
            self.worker = None
            raise AbortCheck(CallTimedOut(f"{what} did not finish within {limit}"), where) from None
        except WorkerLost as lost:
            self.worker = None
            raise AbortCheck(type(lost)(f"{what} {lost}"), where) from None
        except ProtocolError as exc:
            self.worker = None
            raise AbortCheck(BadReturn(f"{what} sent back something that is not plain data ({exc})"),
                             where) from None
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
            raise AbortCheck(self.import_failure, output=self.import_output)
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
        reply = self._request({"op": "import", "module": self.exercise.module}, f"importing {file}", None)
        self.import_output = self.output
        if not reply.get("ok"):
            error = reply.get("error") or {}
            crash = StudentCrash(str(error.get("type", "Error")), str(error.get("message", "")),
                                 str(error.get("traceback", "")))
            self.import_failure = ImportFailed(f"{file} could not be imported: {crash}", crash.traceback)
            raise AbortCheck(self.import_failure, output=self.import_output)
        value = reply.get("value")
        self.names = [n for n in value if isinstance(n, str)] if isinstance(value, list) else []
        return self.worker

    def _arguments(self, value: Any, where: StudentCall) -> Any:
        """Arguments as the worker takes them: specs built there once, remote objects by handle."""
        if isinstance(value, Remote):
            return value.handle
        if isinstance(value, Built):
            key = value.key()
            if key not in self.handles:
                reply = self._request({"op": "build", "spec": value.spec}, f"{where[0]}()", where)
                built = self._value(reply, f"{where[0]}()", where)
                self.handles[key] = built.handle if isinstance(built, Remote) else built
            return self.handles[key]
        if isinstance(value, tuple):
            return tuple(self._arguments(v, where) for v in value)
        if isinstance(value, list):
            return [self._arguments(v, where) for v in value]
        if isinstance(value, dict):
            return {k: self._arguments(v, where) for k, v in value.items()}
        return value

    def _value(self, reply: dict[str, Any], what: str, where: StudentCall) -> Any:
        if not reply.get("ok"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            kind, message = str(error.get("type", "Error")), str(error.get("message", ""))
            if kind == "NotImplementedError":
                why = f"NotImplementedError: {message}" if message else "it raises NotImplementedError"
                raise AbortCheck(MissingPiece(f"{what} is not implemented yet ({why})"), where,
                                 output=self.import_output)
            raise StudentCrash(kind, message, str(error.get("traceback", "")), where, output=self.output)
        used = reply.get("used") or []
        if used:
            raise AbortCheck(ForbiddenCall(what, tuple(str(u) for u in used)), where, output=self.output)
        return self._bind(reply.get("value"))

    def _bind(self, value: Any) -> Any:
        """The decoded value with every handle, however nested, as a :class:`Remote` of this student."""
        if isinstance(value, Handle):
            return Remote(value, self)
        if isinstance(value, (tuple, list)):
            return type(value)(self._bind(v) for v in value)
        if isinstance(value, dict):
            return {k: self._bind(v) for k, v in value.items()}
        return value


def unjudgeable(value: Any) -> bool:
    """True for a value that arrived as an opaque stand-in, at the top or inside a container."""
    if isinstance(value, Opaque):
        return True
    if isinstance(value, (tuple, list)):
        return any(unjudgeable(v) for v in value)
    if isinstance(value, dict):
        return any(unjudgeable(v) for v in value.values())
    return False
