"""One entry in a job process: staged, graded, and a grader failure recorded, never raised."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, materialize, points
from grader.batch import job
from grader.batch.intake import Entry, digest
from grader.batch.records import Settings, is_current
from grader.batch.run import write_result
from grader.batch.tasks import Task
from grader.config import default_config_path


def task_for(path: Path, tmp_path: Path) -> Task:
    entry = Entry(path.name, path, path.name, digest(path))
    return Task(entry, tmp_path / "staging" / path.name, default_config_path(), Settings("basics", 0))


def test_a_grader_failure_becomes_an_error_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("the grader tripped")

    monkeypatch.setattr(job, "_grade", broken)
    task = task_for(materialize(FIXTURES / "basics" / "alt_correct", tmp_path / "alice"), tmp_path)
    result = job.grade_entry(task)
    assert result.results_json is None and result.report_html is None
    record = result.record
    assert record["status"] == "error" and record["score"] is None
    assert "RuntimeError: the grader tripped" in record["reason"] and "job.py:" in record["reason"]
    assert not is_current(record, task.entry.digest, task.settings)  # retried by the next run
    assert not task.staging.exists()
    (tmp_path / "out" / "alice").mkdir(parents=True)
    (tmp_path / "out" / "alice" / "results.json").write_text("{}")  # from an earlier grading
    write_result(tmp_path / "out", result)
    assert not (tmp_path / "out" / "alice" / "results.json").exists()


def test_an_unreadable_archive_gets_zero_in_every_check(tmp_path: Path) -> None:
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("/etc/cron.d/evil", "* * * * * root true\n")
    result = job.grade_entry(task_for(archive, tmp_path))
    record = result.record
    assert (record["status"], record["score"], record["max_score"]) == ("unreadable", 0, points("basics"))
    assert "absolute path" in record["reason"]
    assert len(record["checks"]) > 10 and all(c["status"] == "failed" for c in record["checks"])
    assert result.results_json is not None and "could not be read" in result.results_json
    assert all(t["extra_data"]["outcome"] == "unreadable" for t in json.loads(result.results_json)["tests"])


def test_two_batches_cannot_write_the_same_out(tmp_path: Path) -> None:
    from grader.batch import run
    from grader.errors import UsageError

    (tmp_path / "root").mkdir()
    batch = run.Batch(tmp_path / "root", tmp_path / "out", default_config_path(), Settings("basics", 0))
    (tmp_path / "out").mkdir()
    with run._lock(tmp_path / "out"), pytest.raises(UsageError, match="another grader batch"):
        run.run_batch(batch)
