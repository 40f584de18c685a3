"""Local job processes: each imports torch and the grader once and grades entry after entry.

Each job process starts once per batch: it starts its sandbox (a zygote that imports torch
and forks a worker per exercise) and, while that imports, imports torch and the grader
itself; then it grades entry after entry with both loaded. A submission costs its grading
work and a small fixed overhead, never an interpreter start and a torch import. (Spawned
rather than forked from a pre-warmed server: a fork server would import torch first and
the zygotes after it, one after the other; spawned jobs import alongside their zygotes.)

    >>> for outcome in outcomes(tasks, jobs=2):                      # doctest: +SKIP
    ...     write(outcome)

A job process that dies (killed, out of memory) costs only the entry it held, which gets a
grader-error record; a replacement is started for the rest.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.batch.tasks import Outcome, Task, error_record
from grader.errors import GraderError

POLL_SECONDS = 0.5


def _job_main(todo: Any, done: Any, config_path: Path, assignment: str) -> None:
    """The loop of one job process: take a task, say so, grade it, send the outcome."""
    from grader.batch import sandboxes

    # Ctrl-C reaches the whole foreground group; the batch process decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    try:
        # The zygote imports torch in its own process while this one imports the grader.
        sandboxes.sandbox(sandboxes.config(config_path).assignments[assignment])
        from grader.batch.job import grade_entry, warm_up

        warm_up(config_path, assignment)
        while (item := todo.get()) is not None:
            index, task = item
            done.put(("start", os.getpid(), index, None))
            done.put(("done", os.getpid(), index, grade_entry(task)))
    finally:
        sandboxes.close_all()


def _die_with_parent() -> None:
    """Linux: be killed when the batch process dies, even by SIGKILL (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def outcomes(tasks: list[Task], jobs: int) -> Iterator[Outcome]:
    """Grade ``tasks`` in ``jobs`` processes; yields each outcome as soon as it is ready.

    Closing the iterator (or an exception in the consumer, such as Ctrl-C) kills the job
    processes and with them their sandboxes.
    """
    if not tasks:
        return
    context = multiprocessing.get_context("spawn")
    todo, done = context.Queue(), context.Queue()
    for item in enumerate(tasks):
        todo.put(item)
    jobs = max(1, min(jobs, len(tasks)))
    for _ in range(jobs):
        todo.put(None)
    config_path, assignment = tasks[0].config_path, tasks[0].settings.assignment
    processes: dict[int, Any] = {}
    holding: dict[int, int] = {}  # job pid -> index of the task it grades
    remaining = set(range(len(tasks)))
    restarts = 0

    def start() -> None:
        process = context.Process(target=_job_main, args=(todo, done, config_path, assignment), daemon=True)
        process.start()
        processes[process.pid] = process

    for _ in range(jobs):
        start()
    try:
        while remaining:
            try:
                kind, pid, index, outcome = done.get(timeout=POLL_SECONDS)
            except queue.Empty:
                yield from _reap(processes, holding, remaining, tasks)
                for pid, process in list(processes.items()):
                    if not process.is_alive():
                        del processes[pid]
                        if process.exitcode != 0 and remaining:
                            restarts += 1
                            if restarts > 2 * jobs + len(tasks):
                                raise GraderError("batch job processes keep ending "
                                                  f"(last exit status {process.exitcode})")
                            todo.put(None)  # the dead job never took its stop signal
                            start()
                if not processes:  # every job ended, and what is left was never started
                    for index in sorted(remaining):
                        yield _lost(tasks[index], None)
                    remaining.clear()
                continue
            if kind == "start":
                holding[pid] = index
            elif index in remaining:
                holding.pop(pid, None)
                remaining.discard(index)
                yield outcome
    finally:
        for process in processes.values():
            process.kill()
        for process in processes.values():
            process.join()
        for channel in (todo, done):
            channel.cancel_join_thread()
            channel.close()


def _reap(processes: dict[int, Any], holding: dict[int, int], remaining: set[int],
          tasks: list[Task]) -> Iterator[Outcome]:
    """Grader-error outcomes for the tasks held by job processes that have died."""
    for pid, process in processes.items():
        if not process.is_alive() and pid in holding:
            index = holding.pop(pid)
            remaining.discard(index)
            yield _lost(tasks[index], process.exitcode)


def _lost(task: Task, exitcode: int | None) -> Outcome:
    if exitcode is None:
        how = "ended before it started"
    else:
        how = f"was killed by signal {-exitcode}" if exitcode < 0 else f"exited with status {exitcode}"
    reason = f"grader error: the batch job process grading this submission {how}"
    return Outcome(task.entry.student, error_record(task, reason, 0.0), None, None)
