"""grader/checks/background.py: trusted work on a thread, collected later, once per process."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from grader.checks.background import figure_once, once, soon


def test_work_runs_on_another_thread_and_its_result_is_collected_later() -> None:
    started = threading.Event()
    release = threading.Event()

    def work() -> str:
        started.set()
        release.wait(5)
        return threading.current_thread().name

    pending = soon(work)
    assert started.wait(5) and not pending.done()  # running while this thread goes on
    release.set()
    assert pending.result(5) != threading.current_thread().name


def test_a_failure_on_the_thread_is_raised_to_whoever_collects_the_result() -> None:
    pending = soon(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        pending.result(5)


def test_work_that_depends_on_nothing_of_the_submission_is_done_once_per_key() -> None:
    calls = []

    def work(value: int) -> int:
        calls.append(value)
        return value * 2

    key = ("test_background", object())
    first, second = once(key, work, 21), once(key, work, 99)
    assert first is second and first.result(5) == 42 and calls == [21]
    assert once(("test_background", "another"), work, 1).result(5) == 2


def test_a_figure_is_drawn_as_png_on_the_thread() -> None:
    import matplotlib.pyplot as plt

    def draw():  # type: ignore[no-untyped-def]
        figure, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0, 1], [0, 1])
        return figure

    png = figure_once(("test_background", "figure"), draw)
    assert png().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.skipif(not hasattr(os, "setpriority") or sys.platform != "linux", reason="per-thread priorities are Linux's")
def test_the_thread_runs_at_a_lower_priority_than_the_grader() -> None:
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert soon(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result(5) > own
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own
