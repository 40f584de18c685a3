"""``grader check --watch``: which saves concern which exercises, and the real CLI kept running on a
submission whose files the tests save, break and fix, then stop with Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, process_tree, run_cli, start_cli, still_running
from grader.watch import changed_exercises, watched

# Generous: the first report waits for two torch imports on a machine other jobs may be loading.
PATIENCE = 600
END_OF_REPORT = "for saved files; Ctrl-C to stop\n"
on_linux = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="follows the processes through /proc")


def test_only_files_that_can_change_a_check_are_watched(basics, config) -> None:  # type: ignore[no-untyped-def]
    ps5 = config.assignments["ps5"]
    assert watched(basics, "attention.py") and watched(basics, "answers.yaml") and watched(basics, "notes.py")
    for name in (".attention.py.swp", "attention.py~", ".#attention.py", "4913", "report.html", "notebook.ipynb"):
        assert not watched(basics, name), name
    assert not watched(ps5, "helper.py"), "the grader uses its own copy of a provided file"


def test_a_save_concerns_the_exercises_of_its_file(basics, config) -> None:  # type: ignore[no-untyped-def]
    ps5 = config.assignments["ps5"]
    every = tuple(e.id for e in ps5.exercises)
    assert changed_exercises(basics, ("eigen", "attention"), ["attention.py", ".attention.py.swp"]) == ("attention",)
    assert changed_exercises(basics, ("attention",), ["eigen.py"]) == ()
    assert changed_exercises(ps5, every, ["transformer_layer.py"]) == ("transformer_layer", "param_count")
    assert changed_exercises(ps5, every, ["answers.yaml"]) == (
        "param_count", "iter_maxpool", "gradients2d", "guided_backprop")
    assert changed_exercises(ps5, every, ["helper.py"]) == ()
    # A module of the student's own may be imported by any exercise file.
    assert changed_exercises(ps5, ("softmax_temperature", "iter_maxpool"), ["my_utils.py"]) == (
        "softmax_temperature", "iter_maxpool")


class Watching:
    """A running ``grader check --watch``: what it printed, and every process it started, followed
    on threads (a full pipe would stall it)."""

    def __init__(self, folder: Path, *options: str) -> None:
        self.process = start_cli("check", folder, "--watch", *options)
        self.out: list[str] = []
        self.err: list[str] = []
        self.seen: set[tuple[int, int]] = set()
        for target in (self._read, self._follow):
            threading.Thread(target=target, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None and self.process.stderr is not None
        threading.Thread(target=lambda: self.err.extend(self.process.stderr), daemon=True).start()  # type: ignore[arg-type]
        self.out.extend(self.process.stdout)

    def _follow(self) -> None:
        while self.process.poll() is None:
            self.seen |= process_tree(self.process.pid)
            time.sleep(0.05)

    def reports(self) -> list[str]:
        """Each report drawn so far, up to the line that says the watch goes on."""
        return "".join(self.out).split(END_OF_REPORT)[:-1]

    def since_last_report(self) -> str:
        return "".join(self.out).split(END_OF_REPORT)[-1]

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + PATIENCE
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"no {what}; output:\n{''.join(self.out)}\nerrors:\n{''.join(self.err)}")
            time.sleep(0.1)

    def report_after(self, count: int, condition: Callable[[str], bool], what: str) -> str:
        """The first report after the first ``count`` that meets ``condition`` (an editor's save
        may be seen as two, the first with the file half written)."""
        self.wait(lambda: any(condition(r) for r in self.reports()[count:]), what)
        return next(r for r in self.reports()[count:] if condition(r))

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as in the terminal; the exit status and what went to stderr."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=PATIENCE)
        time.sleep(0.2)  # the reader threads take the last lines
        return code, "".join(self.err)


def _copy_reference(target: Path) -> Path:
    return Path(shutil.copytree(REPO / "reference" / "basics", target, ignore=shutil.ignore_patterns("mistakes", "__pycache__")))


def _save_by_rename(source: Path, target: Path) -> None:
    """As many editors save: a temporary file beside the target, renamed over it."""
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def _assert_all_ended(processes: set[tuple[int, int]]) -> None:
    deadline = time.monotonic() + 60
    while still_running(processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not still_running(processes), f"left running: {still_running(processes)}"


@on_linux
def test_saves_in_place_and_by_rename_check_again_only_their_exercise(tmp_path: Path) -> None:
    folder = _copy_reference(tmp_path / "submission")
    watching = Watching(folder, "--exercise", "eigen", "--exercise", "attention")
    first = watching.report_after(0, lambda r: True, "first report")
    assert "checked 2 exercise(s)" in first and "✗" not in first
    assert "Ex. 1" in first and "Ex. 4" in first and "Ex. 3" not in first

    shutil.copyfile(FIXTURES / "basics" / "wrong_attention_no_scaling" / "attention.py", folder / "attention.py")
    wrong = watching.report_after(1, lambda r: "attention · matches_torch" in r, "report of the wrong attention")
    assert "attention.py saved: checked attention again" in wrong and "eigen · " not in wrong

    count = len(watching.reports())
    shutil.copyfile(FIXTURES / "basics" / "broken" / "eigen.py", folder / "eigen.py")
    broken = watching.report_after(count, lambda r: "eigen · eigenpairs" in r, "report of an eigen.py that does not import")
    assert "eigen.py saved: checked eigen again" in broken
    assert "attention · matches_torch" in broken, "attention, not checked again, keeps its last result"

    count = len(watching.reports())
    _save_by_rename(REPO / "reference" / "basics" / "attention.py", folder / "attention.py")
    fixed = watching.report_after(count, lambda r: "attention · matches_torch" not in r, "report after the rename")
    assert "attention.py saved: checked attention again" in fixed and "eigen · eigenpairs" in fixed

    code, errors = watching.stop()
    assert code == 0 and "stopped watching" in errors, errors
    assert watching.seen, "no process of the sandbox was ever seen"
    _assert_all_ended(watching.seen)


@on_linux
def test_an_endless_loop_is_reported_and_ctrl_c_mid_check_leaves_no_process(tmp_path: Path) -> None:
    folder = _copy_reference(tmp_path / "submission")
    endless = FIXTURES / "basics" / "endless_loop" / "conv2d.py"
    # A budget the endless loop spends in one call of 10 s.
    watching = Watching(folder, "--exercise", "conv2d", "--timeout", "10")
    assert "✗" not in watching.report_after(0, lambda r: True, "first report")

    shutil.copyfile(endless, folder / "conv2d.py")
    looped = watching.report_after(1, lambda r: "time limit" in r, "report of the endless loop")
    assert "conv2d · single_channel_matches_torch" in looped

    count = len(watching.reports())
    _save_by_rename(REPO / "reference" / "basics" / "conv2d.py", folder / "conv2d.py")
    assert "✗" not in watching.report_after(count, lambda r: "conv2d.py saved" in r, "report after the fix")

    # Ctrl-C while a worker is stuck in the loop.
    shutil.copyfile(endless, folder / "conv2d.py")
    watching.wait(lambda: "conv2d.py saved: checking conv2d ..." in watching.since_last_report(),
                  "line saying conv2d is being checked")
    # The zygote, a worker's keeper and the worker.
    watching.wait(lambda: len(process_tree(watching.process.pid)) >= 3, "worker running the loop")
    code, errors = watching.stop()
    assert code == 0 and "stopped watching" in errors, errors
    _assert_all_ended(watching.seen)


@pytest.mark.parametrize("option", [["--fail-under", "10"], ["--jobs", "2"]])
def test_options_that_mean_nothing_to_a_watch_are_refused_in_one_line(option: list[str]) -> None:
    run = run_cli("check", "examples/basics", "--watch", *option)
    assert run.returncode == 2 and "has no meaning with --watch" in run.stderr and len(run.stderr.splitlines()) == 1
