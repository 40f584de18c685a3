"""A check session: one warm sandbox, exercises checked again on their own, the whole report kept."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from conftest import FIXTURES, REPO
from grader.grading import Options
from grader.sandbox.client import sandbox_for
from grader.warm import CheckSession


def test_an_exercise_checked_again_replaces_only_its_own_results(basics, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = Path(shutil.copytree(REPO / "reference" / "basics", tmp_path / "submission",
                                  ignore=shutil.ignore_patterns("mistakes")))
    options = Options(mode="check", exercises=("eigen", "attention"))
    with CheckSession(basics, folder, options, sandbox_for(basics)) as session:
        first = session.check()
        assert [e.id for e in first.exercises] == ["eigen", "attention"] and first.score == first.max_score
        shutil.copyfile(FIXTURES / "basics" / "wrong_attention_no_scaling" / "attention.py", folder / "attention.py")
        again = session.check(("attention",))
        assert [e.id for e in again.exercises] == ["attention"] and again.score < again.max_score
        whole = session.report
        assert [e.id for e in whole.exercises] == ["eigen", "attention"]
        assert whole.exercises[0] is first.exercises[0] and whole.exercises[1] is again.exercises[0]
        assert whole.notes == first.notes, "the notes speak of both exercises, as after the first check"

        # A zygote killed meanwhile is replaced, not charged to the student as grader errors.
        zygote = session._sandbox._process.pid
        os.kill(zygote, signal.SIGKILL)
        os.waitpid(zygote, 0)
        shutil.copyfile(REPO / "reference" / "basics" / "attention.py", folder / "attention.py")
        fixed = session.check(("attention",))
        assert fixed.score == fixed.max_score and not fixed.grader_errors
