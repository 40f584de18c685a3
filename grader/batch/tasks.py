"""What travels between the batch and its job processes: a task in, the result of grading an entry back.

Only these light values (and the records) are imported by the process that schedules the
batch, which therefore never imports torch itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.batch.intake import Entry
from grader.batch.records import FORMAT, Settings
from grader.vocabulary import EntryStatus


@dataclass(frozen=True)
class Task:
    """One entry to grade: where it is, where to stage it, and how to grade it."""

    entry: Entry
    staging: Path
    config_path: Path
    settings: Settings


@dataclass(frozen=True)
class EntryResult:
    """What grading one entry produced; ``results_json``/``report_html`` are None on a grader error,
    and so is ``report_data``, the whole report for rendering the pages again (grader.batch.pages)."""

    student: str
    record: dict[str, Any]
    results_json: str | None
    report_html: str | None
    report_data: str | None = None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def base_record(task: Task, status: EntryStatus, seconds: float) -> dict[str, Any]:
    return {
        "format": FORMAT, "key": task.settings.key(), "digest": task.entry.digest, "entry": task.entry.name,
        "student": task.entry.student, "status": status, "graded_at": now(), "seconds": round(seconds, 3),
    }


def error_record(task: Task, reason: str, seconds: float) -> dict[str, Any]:
    """The record of an entry the grader failed on: no score, the reason, retried next run."""
    return {**base_record(task, "error", seconds), "reason": reason, "score": None, "max_score": None,
            "student_seconds": 0.0, "exercises": [], "checks": [], "free_text": [], "grader_errors": [reason],
            "code": {}, "figures": []}
