"""The same batch on a Dask distributed cluster: one task per submission.

    grader batch ROOT --assignment basics --out OUT --scheduler tcp://10.0.0.5:8786

Each Dask worker process grades whole submissions with :func:`grader.batch.job.grade_entry`
and keeps its sandbox (the zygote with torch loaded) from one task to the next, as a local
job process does. The workers read the entries and stage them under OUT, so ROOT and OUT
must be on a file system they share with this machine, at the same paths, and the workers
need the same grader and course repository installed. Outcomes come back as they finish
(rendered pages and a record: the grader's own values, never anything the student's
worker sent) and this process writes them, atomically as in a local batch.
"""

from __future__ import annotations

from collections.abc import Iterator

from grader.batch.tasks import EntryResult, Task, error_record
from grader.errors import UsageError


def grade_remotely(task: Task) -> EntryResult:
    """The task a Dask worker runs; importing the job here keeps torch out of the client."""
    from grader.batch.job import grade_entry, warm_up

    warm_up(task.config_path, task.settings.assignment)
    return grade_entry(task)


def grade_all(tasks: list[Task], scheduler: str) -> Iterator[EntryResult]:
    """Submit every task to the cluster at ``scheduler``; yield their results as they finish."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'grader[cluster]'") from None
    try:
        # Dask's own connect timeout (``distributed.comm.timeouts.connect``: 30 s unless configured).
        client = Client(scheduler)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})") from None
    with client:
        # pure=False: each task is one grading run, never deduplicated or cached by Dask.
        futures = {client.submit(grade_remotely, task, pure=False): task for task in tasks}
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as exc:  # a worker lost mid-task, say: the grader's failure, not the student's  # noqa: BLE001
                    task = futures[future]
                    reason = f"grader error on the cluster ({type(exc).__name__}: {str(exc)[:200]})"
                    yield EntryResult(task.entry.student, error_record(task, reason, 0.0), None, None)
        finally:
            client.cancel(list(futures))
