"""Local job processes, forked from one process that has already imported torch and the grader.

The batch process (which never imports torch) spawns one *template* process. The template
starts a sandbox at once (its zygote imports torch in a process of its own), imports
torch, the grader and the assignment's checks itself meanwhile, and then forks the job
processes, each with its own share of the sandbox (``Sandbox.share``: its own channel to
the one zygote, its own workers). The jobs start with all of it loaded and grade entry
after entry: a submission costs its grading work and a small fixed overhead, never an
interpreter start and a torch import. However many jobs, torch is imported twice, at the
same time, on two cores.

    >>> for result in grade_all(tasks, jobs=2):                      # doctest: +SKIP
    ...     write(result)

The template watches its jobs. A job process that dies (killed, out of memory) costs only
the entry it held, which gets a grader-error record; the template forks a replacement,
with a fresh sandbox, for the rest.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.batch.tasks import EntryResult, Task, error_record
from grader.errors import GraderError
from grader.sandbox.linux import die_with_parent

POLL_SECONDS = 0.5
STOP_SECONDS = 10.0


def _template_main(todo: Any, done: Any, events: Any, config_path: Path, assignment_id: str, jobs: int,
                   restarts: int) -> None:
    """Start the sandboxes, import the grader, fork ``jobs`` job processes and watch them.

    A job that ends abnormally is reported on ``events`` (``("lost", pid, exit code)``) and
    replaced, at most ``restarts`` times in all; then ``("gave-up", pid, exit code)``. The
    jobs send on ``done``, which this process never writes to: a queue's feeder thread is
    not forked, and a job forked after its parent had used the queue would send nothing.
    """
    from grader.batch.sandboxes import config
    from grader.sandbox.client import sandbox_for

    # Ctrl-C reaches the whole foreground group; the batch process decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    assignment = config(config_path).assignments[assignment_id]
    # The zygote imports torch in a process of its own while this one imports the grader;
    # each job gets a share of it (``Sandbox.share``).
    zygote = sandbox_for(assignment)
    boxes = [zygote.share() for _ in range(jobs)]
    try:
        from grader.batch.job import warm_up

        warm_up(config_path, assignment_id)
        forking = multiprocessing.get_context("fork")
        running: dict[int, Any] = {}  # sentinel -> (job process, index of its sandbox)

        def fork(slot: int) -> None:
            others = [zygote, *(box for number, box in enumerate(boxes) if number != slot)]
            process = forking.Process(target=_job_main, args=(todo, done, assignment, boxes[slot], others),
                                      daemon=True)
            process.start()
            running[process.sentinel] = (process, slot)

        for slot in range(jobs):
            fork(slot)
        while running:
            for sentinel in multiprocessing.connection.wait(list(running)):
                process, slot = running.pop(sentinel)  # type: ignore[arg-type]
                process.join()
                if process.exitcode == 0:
                    continue
                events.put(("lost", process.pid, process.exitcode))
                restarts -= 1
                if restarts < 0:
                    events.put(("gave-up", process.pid, process.exitcode))
                    return
                # Closing its channel ends the workers it left; the replacement gets a new share.
                boxes[slot].close()
                boxes[slot] = zygote.share()
                fork(slot)
    finally:
        for box in boxes:
            box.close()
        zygote.close()


def _job_main(todo: Any, done: Any, assignment: Any, box: Any, others: list[Any]) -> None:
    """The loop of one (forked) job process: take a task, say so, grade it, send the result.

    ``box`` is its share of the sandbox; ``others``, the other jobs' shares and the zygote's
    own channel, came with the fork and are let go at once.
    """
    from grader.batch import sandboxes
    from grader.batch.job import grade_entry

    die_with_parent()
    for other in others:
        other.disown()
    sandboxes.adopt(assignment, box)
    try:
        while (item := todo.get()) is not None:
            index, task = item
            done.put(("start", os.getpid(), index, None))
            done.put(("done", os.getpid(), index, grade_entry(task)))
    finally:
        sandboxes.close_all()


def grade_all(tasks: list[Task], jobs: int) -> Iterator[EntryResult]:
    """Grade ``tasks`` in ``jobs`` processes; yields each result as soon as it is ready.

    Closing the iterator (or an exception in the consumer, such as Ctrl-C) kills the
    template, and with it the job processes and their sandboxes.
    """
    if not tasks:
        return
    context = multiprocessing.get_context("spawn")
    todo, done, events = context.Queue(), context.Queue(), context.Queue()
    for item in enumerate(tasks):
        todo.put(item)
    jobs = max(1, min(jobs, len(tasks)))
    for _ in range(jobs):
        todo.put(None)
    config_path, assignment = tasks[0].config_path, tasks[0].settings.assignment
    # Not a daemon: daemons may not start processes. It dies with this one all the same.
    template = context.Process(target=_template_main,
                               args=(todo, done, events, config_path, assignment, jobs, 2 * jobs + len(tasks)))
    template.start()
    holding: dict[int, int] = {}  # job pid -> index of the task it grades
    remaining = set(range(len(tasks)))
    try:
        while remaining:
            try:
                kind, pid, index, result = done.get(timeout=POLL_SECONDS)
            except queue.Empty:
                # Read only once ``done`` is quiet: what a dead job sent before dying is in by then.
                yield from _deaths(events, holding, remaining, tasks)
                if not template.is_alive():  # every job ended, and what is left was never started
                    for index in sorted(remaining):
                        yield _lost(tasks[index], None)
                    remaining.clear()
                continue
            if kind == "start":
                holding[pid] = index
            elif index in remaining:
                holding.pop(pid, None)
                remaining.discard(index)
                yield result
        # Every task is done: the jobs are taking their stop signals, and the template then
        # closes the sandboxes (removing their scratch folders) unless it is killed first.
        template.join(timeout=STOP_SECONDS)
    finally:
        template.kill()
        template.join()
        for channel in (todo, done, events):
            channel.cancel_join_thread()
            channel.close()


def _deaths(events: Any, holding: dict[int, int], remaining: set[int], tasks: list[Task]) -> Iterator[EntryResult]:
    """Grader-error results for the tasks held by job processes that the template saw die."""
    while True:
        try:
            kind, pid, exitcode = events.get_nowait()
        except queue.Empty:
            return
        if kind == "gave-up":
            raise GraderError(f"batch job processes keep ending (last exit status {exitcode})")
        if holding.get(pid) in remaining:
            index = holding.pop(pid)
            remaining.discard(index)
            yield _lost(tasks[index], exitcode)


def _lost(task: Task, exitcode: int | None) -> EntryResult:
    if exitcode is None:
        how = "ended before it started"
    else:
        how = f"was killed by signal {-exitcode}" if exitcode < 0 else f"exited with status {exitcode}"
    reason = f"grader error: the batch job process grading this submission {how}"
    return EntryResult(task.entry.student, error_record(task, reason, 0.0), None, None)
