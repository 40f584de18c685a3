"""The checks library with a real worker: shrinking, crashes, limits, hints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import strategies as st

from grader.catalogue import Mistake
from grader.checks import Call, CheckFailed, Context, Student
from grader.checks.strategies import tensors
from grader.config import ExerciseConfig
from grader.errors import AbortCheck, TimeBudgetSpent

SOURCE = '''
import random
import torch

def total(x):
    return x.sum() if x.sum() < 1 else x.sum() + 1     # wrong above 1

def fragile(x):
    if x.numel() > 2:
        raise ValueError("too long")
    return x.sum()

calls = [0]

def moody(x):
    calls[0] += 1                      # state kept between calls: not a function of x alone
    return x.sum() + calls[0] % 2 if x.numel() > 1 else x.sum()

def slow(x):
    while True:
        pass

def unfinished(x):
    raise NotImplementedError

def exact(x):
    return x.sum()
'''

EXERCISE = ExerciseConfig(id="demo", title="Demo", file="demo.py", functions=("total",), forbidden={},
                          checks=(), answers=(), free_text=())


@pytest.fixture()
def context(sandbox, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "demo.py").write_text(SOURCE)
    student = Student(sandbox, tmp_path, EXERCISE, call_seconds=2, exercise_seconds=3)
    mistake = Mistake("plus_one", "total", "Above 1 you add one.", lambda x: x.sum() + 1)
    yield Context(student=student, exercise=EXERCISE, reference=None, mistakes=(mistake,), max_examples=50,
                  seed=1, reproduce="grader check --exercise demo --seed 1", shrink_calls=100)
    student.close()


def vectors() -> st.SearchStrategy[Call]:
    return st.integers(1, 6).flatmap(lambda n: tensors((n,))).map(lambda x: Call((x,), {}, ("x",)))


def test_a_failure_is_reported_on_a_small_input_with_its_hint(context: Context) -> None:
    with pytest.raises(CheckFailed) as failed:
        context.agree("total", vectors(), lambda x: x.sum())
    explained = context.explain(failed.value)
    feedback = explained.feedback
    assert feedback.input_label == "smallest failing input"
    assert feedback.input in ("x = [1]", "x = [1.25]", "x = [1.5]", "x = [2]")
    assert "got" in feedback.summary and "expected" in feedback.summary
    assert explained.mistake == "plus_one" and feedback.hint == "Above 1 you add one."


def test_a_crash_is_reported_with_the_smallest_crashing_input(context: Context) -> None:
    with pytest.raises(CheckFailed) as failed:
        context.agree("fragile", vectors(), lambda x: x.sum())
    assert failed.value.feedback.summary == "fragile() raised ValueError: too long"
    assert failed.value.feedback.input == "x = [0, 0, 0]"
    assert "raise ValueError" in failed.value.feedback.traceback


def test_randomness_is_reproducible_because_every_call_is_reseeded(context: Context, tmp_path: Path) -> None:
    (tmp_path / "demo.py").write_text("import torch\n\ndef total(x):\n    return x.sum() + torch.rand(())\n")
    first = context.call("total", Call((torch.ones(2),)))
    assert torch.equal(first, context.call("total", Call((torch.ones(2),))))


def test_nondeterministic_code_fails_on_a_real_input_without_a_grader_error(context: Context) -> None:
    with pytest.raises(CheckFailed) as failed:
        context.agree("moody", vectors(), lambda x: x.sum())
    feedback = failed.value.feedback
    assert "x = " in (feedback.input or "")
    # Either the last failing call is shown, or, when its replay passed, the flakiness is named.
    assert "expected" in feedback.summary or "different results for the same input" in feedback.summary


def test_the_exercise_time_limit_counts_only_the_students_time(context: Context) -> None:
    with pytest.raises(AbortCheck):
        context.call("slow", Call((torch.ones(1),)))
    with pytest.raises(AbortCheck) as second:
        context.call("slow", Call((torch.ones(1),)))
    with pytest.raises(AbortCheck) as third:
        context.call("total", Call((torch.ones(1),)))
    assert "3 s for this exercise" in str(second.value.failure)
    assert isinstance(third.value.failure, TimeBudgetSpent)


def test_unfinished_and_missing_functions_end_the_check_at_once(context: Context) -> None:
    with pytest.raises(AbortCheck) as unfinished:
        context.call("unfinished", Call((torch.ones(1),)))
    assert "not implemented yet" in str(unfinished.value.failure)
    with pytest.raises(AbortCheck) as missing:
        context.call("nowhere", Call((torch.ones(1),)))
    assert "defines no function nowhere()" in str(missing.value.failure)


def test_a_passing_checks_inputs_are_replayed_and_a_failure_still_gets_the_full_run(context: Context) -> None:
    def again() -> Context:
        return Context(student=context.student, exercise=EXERCISE, reference=None, mistakes=(), max_examples=50,
                       seed=context.seed, reproduce=context.reproduce, shrink_calls=100)

    def recording(into: list, fail_above: float | None = None):  # type: ignore[no-untyped-def]
        def body(call: Call) -> None:
            into.append(call.args[0].tolist())
            got = context.student.call("exact", call)
            if fail_above is not None and float(got) > fail_above:
                raise context.failure("exact", call, "too big")
        return body

    first: list = []
    context.for_all("exact", vectors(), recording(first))
    replayed: list = []
    again().for_all("exact", vectors(), recording(replayed))
    assert replayed == first and len(first) > 10
    failing: list = []
    with pytest.raises(CheckFailed) as failed:
        again().for_all("exact", vectors(), recording(failing, fail_above=1))
    assert failed.value.feedback.input_label == "smallest failing input"
    assert failed.value.feedback.input in ("x = [1.25]", "x = [1.5]", "x = [2]")
