"""The check language with a real worker: shrinking, crashes, limits, hints, failures told from exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import strategies as st

from grader.catalogue import Mistake
from grader.checks import Call, CheckFailed, Context, Student
from grader.checks.strategies import tensors
from grader.config import ExerciseConfig
from grader.errors import AbortCheck, StudentCrash, TimeBudgetSpent

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

def chatty(x):
    print("summing", x.numel(), "values")
    if x.numel() > 2:
        raise ValueError("too long")
    return x.sum()
'''

EXERCISE = ExerciseConfig(id="demo", title="Demo", file="demo.py", functions=("total",), forbidden={},
                          checks=(), answers=(), free_text=())


def make_context(sandbox, folder: Path, exercise_seconds: float):  # type: ignore[no-untyped-def]
    (folder / "demo.py").write_text(SOURCE)
    student = Student(sandbox, folder, EXERCISE, call_seconds=2, exercise_seconds=exercise_seconds)
    mistake = Mistake("plus_one", "total", "Above 1 you add one.", lambda x: x.sum() + 1)
    return Context(student=student, exercise=EXERCISE, reference=None, mistakes=(mistake,), max_examples=50,
                   seed=1, reproduce="grader check --exercise demo --seed 1", shrink_calls=100)


@pytest.fixture()
def context(sandbox, tmp_path: Path):  # type: ignore[no-untyped-def]
    # An exercise budget far above the per-call limit: on a busy machine the 2 s limit of a slow
    # call must still be the one that ends it, and a long search must not run out of time.
    context = make_context(sandbox, tmp_path, exercise_seconds=120)
    yield context
    context.student.close()


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


def test_the_exercise_time_limit_counts_only_the_students_time(sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = make_context(sandbox, tmp_path, exercise_seconds=3)
    try:
        with pytest.raises(AbortCheck):
            context.call("slow", Call((torch.ones(1),)))
        with pytest.raises(AbortCheck) as second:
            context.call("slow", Call((torch.ones(1),)))
        with pytest.raises(AbortCheck) as third:
            context.call("total", Call((torch.ones(1),)))
    finally:
        context.student.close()
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
            got = context.call("exact", call)
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


def test_a_crash_while_searching_shows_what_the_crashing_call_printed(context: Context) -> None:
    with pytest.raises(CheckFailed) as failed:
        context.agree("chatty", vectors(), lambda x: x.sum())
    feedback = failed.value.feedback
    assert feedback.summary == "chatty() raised ValueError: too long" and failed.value.outcome == "crash"
    assert (feedback.input, feedback.output) == ("x = [0, 0, 0]", "summing 3 values")


def test_a_failure_that_ended_the_check_is_told_from_the_exception(context: Context) -> None:
    context.call("exact", Call((torch.ones(1),), {}, ("x",)))
    with pytest.raises(AbortCheck) as stopped:
        context.call("slow", Call((torch.ones(2),), {}, ("x",)))
    failed = context.stopped(stopped.value.failure, stopped.value.call, stopped.value.output)
    assert failed.feedback.summary == "slow() did not finish within the time limit of 2 s per call"
    assert failed.feedback.input == "x = [1, 1]" and failed.outcome == "timeout"
    assert failed.feedback.reproduce == "grader check --exercise demo --seed 1"


def test_a_crash_outside_a_search_names_its_call(context: Context) -> None:
    call = Call((torch.ones(3),), {}, ("x",))
    with pytest.raises(StudentCrash) as crash:
        context.call("fragile", call)
    failed = context.stopped(crash.value, crash.value.call, crash.value.output)
    assert failed.feedback.summary == "fragile() raised ValueError: too long"
    assert failed.feedback.input == "x = [1, 1, 1]" and "raise ValueError" in (failed.feedback.traceback or "")


def test_a_hand_made_failure_takes_the_catalogued_hint_or_the_checks_own(context: Context) -> None:
    call = Call((torch.ones(2),), {}, ("x",))
    named = context.failure("total", call, "total() is off by one", mistake="plus_one", hint="look again")
    assert (named.mistake, named.feedback.hint) == ("plus_one", "Above 1 you add one.")
    own = context.failure("total", "two ones", "total() is off", hint="look again", nudge="the sum")
    assert (own.mistake, own.feedback.hint, own.feedback.nudge, own.feedback.input) == (
        None, "look again", "the sum", "two ones")
    assert own.subject is None and own.outcome == "wrong"
    judged = context.failure("total", call, "total() differs", got=torch.tensor(3.0))
    assert judged.subject == ("total", call, torch.tensor(3.0))
