"""The proxy to the student's worker: remote objects and their methods, and failures that carry their call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.checks import Call, Remote, Student
from grader.config import ExerciseConfig
from grader.errors import AbortCheck, CallTimedOut, GraderError, StudentCrash

SOURCE = '''
from torch import nn


class Box(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def total(self, x):
        print("adding up")
        return x.sum() * self.n

    def forward(self, x):
        return x * self.n

    def wait(self):
        while True:
            pass


def unbox(box, x):
    return box.total(x)


def pair(n):
    return [Box(n), {"n": n, "box": Box(n + 1)}]
'''

EXERCISE = ExerciseConfig(id="demo", title="Demo", file="demo.py", functions=("Box", "unbox", "pair"), forbidden={},
                          checks=(), answers=(), free_text=())


@pytest.fixture()
def student(sandbox: Any, tmp_path: Path) -> Iterator[Student]:
    (tmp_path / "demo.py").write_text(SOURCE)
    (tmp_path / "provided").mkdir()
    (tmp_path / "provided" / "data.txt").write_text("the grader's copy")
    student = Student(sandbox, tmp_path, EXERCISE, call_seconds=2, exercise_seconds=6,
                      provided=("data.txt",), provided_from=tmp_path / "provided")
    yield student
    student.close()


def test_an_object_stays_in_the_worker_and_its_methods_run_there(student: Student) -> None:
    box = student.call("Box", Call((2,), {}, ("n",)))
    assert isinstance(box, Remote) and box.type == "Box"
    assert float(box.call("total", Call((torch.ones(3),), {}, ("x",)))) == 6
    assert box(Call((torch.ones(2),), {}, ("x",))).tolist() == [2, 2]
    assert float(student.call("unbox", Call((box, torch.ones(2)), {}, ("box", "x")))) == 4
    assert student.output == "adding up\n"


def test_objects_inside_returned_containers_are_remote_too(student: Student) -> None:
    first, rest = student.call("pair", Call((1,), {}, ("n",)))
    assert isinstance(first, Remote) and isinstance(rest["box"], Remote) and rest["n"] == 1
    assert float(rest["box"].call("total", Call((torch.ones(1),)))) == 2


def test_a_crash_in_a_method_carries_the_call_and_what_it_printed(student: Student) -> None:
    box = student.call("Box", Call((2,), {}, ("n",)))
    call = Call(("text",), {}, ("x",))
    with pytest.raises(StudentCrash) as crash:
        box.call("total", call)
    assert crash.value.call == ("Box.total", call)
    assert crash.value.exc_type == "AttributeError" and "sum" in crash.value.message
    assert crash.value.output == "adding up\n"


def test_a_timeout_names_the_call_it_ended(student: Student) -> None:
    box = student.call("Box", Call((2,), {}, ("n",)))
    with pytest.raises(AbortCheck) as stopped:
        box.call("wait")
    assert isinstance(stopped.value.failure, CallTimedOut)
    assert str(stopped.value.failure) == "Box.wait() did not finish within the time limit of 2 s per call"
    assert stopped.value.call == ("Box.wait", Call(()))


def test_a_missing_function_is_not_blamed_on_the_call_before_it(student: Student) -> None:
    student.call("pair", Call((1,), {}, ("n",)))
    with pytest.raises(AbortCheck) as stopped:
        student.call("nowhere", Call(()))
    assert str(stopped.value.failure) == "demo.py defines no function nowhere()" and stopped.value.call is None


def test_provided_files_are_the_graders_copies_and_only_those_configured(student: Student) -> None:
    assert student.provided_file("data.txt").read_text() == "the grader's copy"
    with pytest.raises(GraderError, match=r"other\.txt is not a provided file"):
        student.provided_file("other.txt")
