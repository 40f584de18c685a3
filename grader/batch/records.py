"""The small per-student record a batch keeps beside each student's results.

``OUT/<student>/.grader-record.json`` is written last, after ``results.json`` and
``report.html``, so its presence means the student's files are whole. It holds what the
cohort files need (scores, checks, mistakes, free text, times, the code prepared for
comparing, thumbnails of the figures) and what resuming compares:
the content hash of the entry and the grading settings.

>>> settings = Settings(assignment="basics", seed=0)
>>> settings.key()["assignment"]
'basics'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader import __version__
from grader.vocabulary import ENTRY_STATUSES

RECORD_NAME = ".grader-record.json"
FORMAT = 4  # 2: each exercise's kind and each check's outcome; 3: "passed" is an outcome too;
# 4: code for similarity, figure thumbnails


@dataclass(frozen=True)
class Settings:
    """How every submission of a batch is graded; a record made with other settings is regraded."""

    assignment: str
    seed: int
    exercise_seconds: float | None = None
    exercises: tuple[str, ...] = ()

    def key(self) -> dict[str, Any]:
        return {**asdict(self), "exercises": list(self.exercises), "grader_version": __version__}


def record_path(out: Path, student: str) -> Path:
    return out / student / RECORD_NAME


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or None when it is missing or not a whole, well-formed record."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("status") not in ENTRY_STATUSES:
        return None
    return data


def is_current(record: dict[str, Any] | None, digest: str, settings: Settings) -> bool:
    """True when ``record`` graded these very files with these settings (errors are retried)."""
    return (record is not None and record.get("digest") == digest and record.get("key") == settings.key()
            and record.get("status") != "error")


def dump(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=1, ensure_ascii=False) + "\n"


def exercise_ids(records: tuple[dict[str, Any], ...]) -> list[str]:
    """The exercise ids of the records, in the order they first appear."""
    ids: list[str] = []
    for record in records:
        ids += [e["id"] for e in record["exercises"] if e["id"] not in ids]
    return ids
