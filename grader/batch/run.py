"""A whole batch: find the entries, grade what is missing or changed, write as results arrive.

    >>> batch = run_batch(Batch(root=Path("downloads"), out=Path("graded"),          # doctest: +SKIP
    ...                         config_path=default_config_path(), settings=Settings("basics", 0)))
    >>> len(batch.records), batch.graded                                               # doctest: +SKIP
    (40, 12)

Each student's ``results.json``, ``report.html`` and stored report are written atomically (a
temporary file, then a rename) as soon as the student is graded, and the record last: a
batch killed at any moment leaves only whole files, and the next run regrades exactly the
entries without a current record. At the end, from all records: ``manual.csv`` is brought up
to date and read (where the assignment has manual items), the pages of students whose
marks changed are rendered again, and ``grades.csv`` and ``summary.html`` are rebuilt, with
the pairs of submissions whose code is alike.
"""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from grader.batch.intake import Entry, discover
from grader.batch.manual import Marking, update_sheet
from grader.batch.pages import STORED, refresh_pages
from grader.batch.progress import Progress
from grader.batch.records import (
    RECORD_NAME,
    Settings,
    dump,
    is_current,
    read_record,
    record_path,
)
from grader.batch.similarity import SimilarPair, similar_pairs
from grader.batch.summary import write_cohort_files
from grader.batch.tasks import EntryResult, Task
from grader.config import load_config
from grader.errors import UsageError
from grader.manual_items import items_of
from grader.report import write_atomic
from grader.vocabulary import ENTRY_STATUSES

STAGING = ".staging"
LOCK = ".grader-batch.lock"
OUTPUTS = ("results.json", "report.html", STORED)


@dataclass(frozen=True)
class Batch:
    """What to grade, where to write, how: ``scheduler`` is a Dask address, or None for local jobs."""

    root: Path
    out: Path
    config_path: Path
    settings: Settings
    title: str = ""
    names: dict[str, str] | None = None
    jobs: int = 1
    scheduler: str | None = None


@dataclass(frozen=True)
class BatchResult:
    """The records of every entry of ROOT (in name order), how many were graded this run, the
    state of manual.csv (None: the assignment has no manual items) and the similar pairs."""

    records: tuple[dict[str, Any], ...]
    graded: int
    kept: int
    marking: Marking | None = None
    similar: tuple[SimilarPair, ...] = ()


def pending(entries: tuple[Entry, ...], out: Path, settings: Settings) -> list[Entry]:
    """The entries to grade: no record, a record of other files or settings, or missing outputs."""
    return [entry for entry in entries
            if not is_current(read_record(record_path(out, entry.student)), entry.digest, settings)
            or not all((out / entry.student / name).is_file() for name in OUTPUTS)]


def write_result(out: Path, result: EntryResult) -> None:
    """Write one student's files, each atomically, the record last."""
    folder = out / result.student
    for name, text in zip(OUTPUTS, (result.results_json, result.report_html, result.report_data)):
        if text is None:
            (folder / name).unlink(missing_ok=True)  # stale files of an earlier grading
        else:
            write_atomic(folder / name, text)
    write_atomic(folder / RECORD_NAME, dump(result.record))


def _lock(out: Path) -> IO[bytes]:
    """Hold OUT for this batch: a second batch writing the same OUT would undo the first's staging.

    The lock is the kernel's (``flock``), so it goes away with the process, even after kill -9.
    """
    handle = (out / LOCK).open("wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise UsageError(f"another grader batch is writing to {out}; wait for it to finish") from None
    return handle


def run_batch(batch: Batch, progress: Progress | None = None) -> BatchResult:
    """Grade the batch and write every output; Ctrl-C keeps what finished (rerun to resume)."""
    batch.out.mkdir(parents=True, exist_ok=True)
    with _lock(batch.out):
        return _run(batch, progress)


def _run(batch: Batch, progress: Progress | None) -> BatchResult:
    staging = batch.out / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # what a killed run left half-unpacked
    entries = discover(batch.root, batch.names, exclude=batch.out)
    if not entries:
        raise UsageError(f"{batch.root} holds no submission (a folder or a .zip per student)")
    todo = pending(entries, batch.out, batch.settings)
    progress = progress or Progress(len(entries), len(entries) - len(todo))
    tasks = [Task(entry, staging / entry.student, batch.config_path.resolve(), batch.settings) for entry in todo]
    progress.begin(f"a Dask cluster at {batch.scheduler}" if batch.scheduler
                   else f"{min(batch.jobs, max(len(tasks), 1))} job process(es)")
    graded = 0
    try:
        for result in _grade_all(batch, tasks):
            write_result(batch.out, result)
            graded += 1
            progress.finished(result.record)
    finally:
        progress.close()
        shutil.rmtree(staging, ignore_errors=True)
    records = tuple(r for r in (read_record(record_path(batch.out, e.student)) for e in entries) if r is not None)
    assignment = load_config(batch.config_path).assignments[batch.settings.assignment]
    items = items_of(assignment.exercises, batch.settings.exercises)
    marking = update_sheet(batch.out, records, items) if items else None
    refresh_pages(batch.out, records, marking.marks if marking else {})
    files = {e.file for e in assignment.exercises if not batch.settings.exercises or e.id in batch.settings.exercises}
    similar = tuple(similar_pairs(records, {name: (assignment.templates / name).read_text(encoding="utf-8")
                                            for name in sorted(files) if (assignment.templates / name).is_file()}))
    write_cohort_files(batch.out, records, batch.title or batch.settings.assignment, marking, similar)
    return BatchResult(records, graded, len(entries) - len(todo), marking, similar)


def describe(result: BatchResult, out: Path) -> str:
    """The closing lines: how many students in which state, the mean, where the files are."""
    statuses = {s: sum(r["status"] == s for r in result.records) for s in ENTRY_STATUSES}
    scored = [r for r in result.records if r["score"] is not None]
    lines = [(f"{len(result.records)} students: {statuses['graded']} graded, {statuses['unreadable']} unreadable, "
              f"{statuses['error']} not graded (grader error); {result.graded} graded in this run, "
              f"{result.kept} unchanged and kept")]
    if scored:
        mean = sum(r["score"] for r in scored) / len(scored)
        lines.append(f"mean score {mean:.1f}/{max(r['max_score'] for r in scored):g}")
    if result.marking:
        lines += result.marking.describe()
    if result.similar:
        lines.append(f"code alike: {len(result.similar)} pair(s) of submissions, listed in summary.html "
                     "(a lead for a tutor, not a verdict)")
    lines.append(f"grades: {out / 'grades.csv'}  summary: {out / 'summary.html'}")
    return "\n".join(lines)


def _grade_all(batch: Batch, tasks: list[Task]) -> Iterator[EntryResult]:
    if batch.scheduler:
        from grader.batch.cluster import grade_all as on_cluster

        return on_cluster(tasks, batch.scheduler)
    from grader.batch.pool import grade_all as in_jobs

    return in_jobs(tasks, batch.jobs)
