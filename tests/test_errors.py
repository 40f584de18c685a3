"""The error tree, and the meta-test that every low-level failure maps to exactly one outcome.

Each row of ``FAILURES`` is one thing that can go wrong under a check: what the worker's end of
the socket does (answers, says how the worker died, stays silent, hangs up, sends bytes that
are no message) and what the check body does with the reply. The row runs the real chain, a
:class:`Worker` on a socket pair, the :class:`Student` proxy, ``run_check``, and its outcome
must be the row's. Together the rows produce every outcome of ``grader.vocabulary`` but the
answers' own, which ``ANSWER_FAILURES`` adds through ``answer_results``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch

import grader
from grader import errors
from grader.answer_results import answer_results, submitted_answers
from grader.checks import Call, CheckFailed, CheckSpec, Context, Student
from grader.config import CheckConfig, ExerciseConfig, default_config_path, load_config
from grader.errors import AbortCheck, GraderError, StudentFailure
from grader.grading import run_check
from grader.sandbox import codec
from grader.sandbox.client import Worker
from grader.vocabulary import OUTCOMES

# Every class of the StudentFailure tree and its outcome.
FAILURE_OUTCOMES: dict[type[StudentFailure], str] = {
    CheckFailed: "wrong",
    errors.StudentCrash: "crash",
    errors.MissingPiece: "missing",
    errors.ImportFailed: "import-failed",
    errors.WorkerLost: "process-ended",
    errors.CallTimedOut: "timeout",
    errors.ResourceLimit: "resource-limit",
    errors.TimeBudgetSpent: "time-budget",
    errors.ForbiddenCall: "forbidden",
    errors.BadReturn: "bad-return",
    errors.Unreadable: "unreadable",
}


def subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]


def test_each_class_of_the_failure_tree_has_an_outcome_of_its_own() -> None:
    assert set(subclasses(StudentFailure)) == set(FAILURE_OUTCOMES)
    assert {cls: cls.outcome for cls in FAILURE_OUTCOMES} == FAILURE_OUTCOMES
    assert len(set(FAILURE_OUTCOMES.values())) == len(FAILURE_OUTCOMES)
    # The rest: a check that passed, and the grader's own failure (every GraderError, every bug).
    assert set(OUTCOMES) - set(FAILURE_OUTCOMES.values()) == {"passed", "grader-error"}


def test_the_graders_errors_and_the_students_failures_are_apart() -> None:
    assert not set(subclasses(GraderError)) & set(subclasses(StudentFailure))
    assert not issubclass(AbortCheck, Exception)  # it must pass hypothesis, which catches Exception


def test_every_exception_class_of_the_grader_is_in_the_tree_or_private_to_its_module() -> None:
    outside = []
    for module in pkgutil.walk_packages(grader.__path__, "grader."):
        if module.name == "grader.__main__":
            continue
        for name, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            defined_here = cls.__module__ == module.name
            if defined_here and issubclass(cls, BaseException) and not name.startswith("_") \
                    and not issubclass(cls, (GraderError, StudentFailure, AbortCheck)):
                outside.append(f"{module.name}.{name}")
    assert outside == []


# ---------------------------------------------------------------- the table of low-level failures

EXERCISE = ExerciseConfig(id="demo", title="Demo", file="demo.py", functions=("f",), forbidden={},
                          checks=(), answers=(), free_text=())
CALL = Call((torch.ones(2),), {}, ("x",))
IMPORTED = {"ok": True, "value": ["f"]}


def expect_ones(ctx: Context) -> None:
    ctx.expect("f", CALL, torch.ones(2))


def grader_bug(ctx: Context) -> None:
    raise KeyError("a bug in the check")


def needs_the_reference(ctx: Context) -> None:
    ctx.reference.f(CALL)  # the reference is not here: a GraderError


def crashed(kind: str) -> dict[str, Any]:
    return {"ok": False, "error": {"type": kind, "message": "no", "traceback": "  File \"demo.py\", line 2"}}


def died(**lost: Any) -> dict[str, Any]:
    return {"ok": False, "lost": lost}


@dataclass(frozen=True)
class Failure:
    """What the worker's end does after the import (``replies``, then ``then``) and the check body."""

    replies: tuple[dict[str, Any] | bytes, ...] = ()
    then: str = "wait"  # "wait" (silent: a call that never returns) or "hang up"
    body: Callable[[Context], None] = expect_ones
    imported: dict[str, Any] | None = field(default_factory=lambda: IMPORTED)  # None: the file is absent
    exercise_seconds: float = 30.0


GARBLED = codec.PREFIX.pack(5, 0) + b"nope!"
FAILURES: dict[str, tuple[Failure, str]] = {
    "the right value": (Failure(({"ok": True, "value": torch.ones(2)},)), "passed"),
    "a wrong value": (Failure(({"ok": True, "value": torch.zeros(2)},)), "wrong"),
    "a wrong shape": (Failure(({"ok": True, "value": torch.ones(3)},)), "wrong"),
    "an object that cannot cross": (Failure(({"ok": True, "value": object()},)), "bad-return"),
    "a reply that is no message": (Failure((GARBLED,)), "bad-return"),
    "the student's exception": (Failure((crashed("ValueError"),)), "crash"),
    "NotImplementedError": (Failure((crashed("NotImplementedError"),)), "missing"),
    "no such function": (Failure(imported={"ok": True, "value": ["g"]}), "missing"),
    "no file": (Failure(imported=None), "missing"),
    "an import that raises": (Failure(imported=crashed("SyntaxError")), "import-failed"),
    "a forbidden call": (Failure(({"ok": True, "value": torch.ones(2), "used": ["F.conv2d"]},)), "forbidden"),
    "a call past its time limit": (Failure(), "timeout"),
    "the exercise's time used up": (Failure(exercise_seconds=0.0), "time-budget"),
    "the worker hangs up at the import": (Failure(then="hang up"), "process-ended"),
    "os._exit": (Failure((died(kind="exit", code=3),)), "process-ended"),
    "a signal": (Failure((died(kind="signal", signal="SIGSEGV"),)), "process-ended"),
    "a death the keeper cannot name": (Failure((died(kind="?"),)), "process-ended"),
    "the memory limit": (Failure((died(kind="memory"),)), "resource-limit"),
    "the CPU-time limit": (Failure((died(kind="cpu"),)), "resource-limit"),
    "a bug in the check": (Failure(body=grader_bug), "grader-error"),
    "a GraderError in the check": (Failure(body=needs_the_reference), "grader-error"),
}


class ScriptedSandbox:
    """Hands out a :class:`Worker` whose other end of the socket answers as scripted."""

    def __init__(self, failure: Failure, folder: Path) -> None:
        self.failure, self.folder = failure, folder
        self.ends: list[socket.socket] = []
        self.sleepers: list[subprocess.Popen[bytes]] = []

    def spawn(self, submission: Path, provided: tuple[Path, ...] = (), cpu_seconds: int = 120) -> Worker:
        ours, theirs = socket.socketpair()
        self.ends.append(theirs)
        assert self.failure.imported is not None
        for reply in (self.failure.imported, *self.failure.replies):
            theirs.sendall(reply if isinstance(reply, bytes) else codec.encode(reply))
        if self.failure.then == "hang up":
            theirs.close()
        # A real process for the worker to be: killing it is part of every lost worker.
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
        self.sleepers.append(sleeper)
        scratch = self.folder / f"scratch-{len(self.sleepers)}"
        scratch.mkdir()
        return Worker(sleeper.pid, ours, scratch, 1 << 20, limits=(4096, 70))

    def close(self) -> None:
        for end in self.ends:
            end.close()
        for sleeper in self.sleepers:
            sleeper.kill()
            sleeper.wait()


@pytest.fixture()
def outcome_of(tmp_path: Path) -> Iterator[Callable[[Failure], str]]:
    sandboxes: list[ScriptedSandbox] = []

    def run(failure: Failure) -> str:
        folder = tmp_path / f"submission-{len(sandboxes)}"
        folder.mkdir()
        if failure.imported is not None:
            (folder / EXERCISE.file).write_text("def f(x):\n    return x\n")
        sandbox = ScriptedSandbox(failure, tmp_path)
        sandboxes.append(sandbox)
        student = Student(sandbox, folder, EXERCISE, call_seconds=1.0,  # type: ignore[arg-type]
                          exercise_seconds=failure.exercise_seconds)
        context = Context(student=student, exercise=EXERCISE, reference=None, mistakes=(), max_examples=1,
                          seed=0, reproduce=None)
        try:
            return run_check(CheckSpec("c", "a check", failure.body), CheckConfig("c", 1.0, "public"),
                             EXERCISE, context).result.outcome
        finally:
            student.close()

    yield run
    for sandbox in sandboxes:
        sandbox.close()


@pytest.mark.parametrize("situation", FAILURES)
def test_each_low_level_failure_maps_to_exactly_one_outcome(outcome_of: Callable[[Failure], str],
                                                            situation: str) -> None:
    failure, outcome = FAILURES[situation]
    assert outcome_of(failure) == outcome


ANSWER_FAILURES: dict[str, tuple[str | None, str]] = {
    "no answers.yaml": (None, "missing"),
    "an answers.yaml that is no mapping": ("- just a list\n", "unreadable"),
    "an entry YAML cannot read": ("eigen_matrix: [[1, 2]\n", "unreadable"),
    "an answer not filled in": ("eigen_matrix:\n", "missing"),
    "an answer of the wrong form": ("eigen_matrix: 3\n", "wrong"),
}


@pytest.mark.parametrize("situation", ANSWER_FAILURES)
def test_each_failure_of_an_answer_maps_to_exactly_one_outcome(tmp_path: Path, situation: str) -> None:
    text, outcome = ANSWER_FAILURES[situation]
    assignment = load_config(default_config_path()).assignments["basics"]
    if text is not None:
        (tmp_path / assignment.answers_file).write_text(text)
    eigen = assignment.exercise("eigen")
    results = answer_results(assignment, eigen, submitted_answers(assignment, tmp_path), "check")
    assert next(r.outcome for r in results if r.check == "answer_eigen_matrix") == outcome


def test_the_table_reaches_every_outcome() -> None:
    reached = {outcome for _, outcome in FAILURES.values()} | {outcome for _, outcome in ANSWER_FAILURES.values()}
    assert reached == set(OUTCOMES)
