"""Helper processes: what they return comes back whole as JSON, and a helper's failure is the grader's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from grader import forked
from grader.errors import GraderError
from grader.model import CheckResult, Feedback


def test_a_helpers_results_come_back_whole(sandbox: Any) -> None:
    result = CheckResult("eigen", "symmetric", "A is symmetric", 1.0, "hidden", "wrong",
                         feedback=Feedback("eigh differs", input="A = [[1]]", details=("got 2", "expected 1")))
    helper = forked.start(sandbox, lambda share: [result, result])
    assert forked.finish(helper, list[CheckResult]) == [result, result]


def test_a_helper_that_fails_or_dies_is_a_grader_error(sandbox: Any) -> None:
    def fail(share: Any) -> None:
        raise GraderError("checks of eigen could not be loaded")

    with pytest.raises(GraderError, match="checks of eigen could not be loaded"):
        forked.finish(forked.start(sandbox, fail), list[CheckResult])
    with pytest.raises(GraderError, match=r"ended without its results \(exit code 3\)"):
        forked.finish(forked.start(sandbox, lambda share: os._exit(3)), list[CheckResult])


def test_a_helper_spawns_workers_of_its_own(sandbox: Any, tmp_path: Path) -> None:
    (tmp_path / "answer.py").write_text("VALUE = 42\n")

    def imported(share: Any) -> list[int]:
        worker = share.spawn(tmp_path)
        worker.request({"op": "import", "module": "answer"}, timeout=60)
        return [worker.pid]

    pids = forked.finish(forked.start(sandbox, imported), list[int])
    assert len(pids) == 1 and pids[0] > 0


@pytest.mark.parametrize(("cpu_max", "expected"), [("max 100000", None), ("50000 100000", 1), ("100000 100000", 1),
                                                    ("200000 100000", 2), ("not a quota", None)])
def test_usable_cores_follow_a_cgroup_quota(cpu_max: str, expected: int | None, tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    affinity = len(os.sched_getaffinity(0))
    assert forked.usable_cores(tmp_path) == min(affinity, expected or affinity)
    assert forked.usable_cores(tmp_path / "absent") == affinity
