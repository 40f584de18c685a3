"""One vocabulary: the README's table of outcomes is the Literal's, and every renderer writes its words.

A report holds one check of each outcome; results.json, JUnit, the HTML and Markdown reports,
a batch record, the cohort's JUnit and grades.csv must all name each check by its outcome (or
its entry by its status) and use no other word where those names go.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import REPO
from grader.batch.intake import Entry
from grader.batch.job import make_record
from grader.batch.records import Settings
from grader.batch.summary import cohort_junit, grades_csv
from grader.batch.tasks import Task, error_record
from grader.config import default_config_path
from grader.model import CheckResult, ExerciseResult, Feedback, GradeReport
from grader.report.gradescope import render_json
from grader.report.html import render_html
from grader.report.junit import render_junit
from grader.report.markdown import render_markdown
from grader.vocabulary import ENTRY_STATUSES, KINDS, OUTCOMES, status_of

REPORT = GradeReport(
    assignment="basics", title="Basics", submission="alice", mode="grade", seed=0,
    exercises=(ExerciseResult("attention", "Attention", "attention.py", tuple(
        CheckResult("attention", f"check_{i}", f"ends as {outcome}", 1.0, "public", outcome,
                    None if outcome == "passed" else Feedback(summary=f"it ended as {outcome}"))
        for i, outcome in enumerate(OUTCOMES))),),
    started="2025-01-01T00:00:00+00:00", seconds=1.0, grader_version="0.1.0",
)
EXPECTED = {f"check_{i}": outcome for i, outcome in enumerate(OUTCOMES)}
TASK = Task(Entry("alice", Path("alice"), "alice", "0" * 64), Path("staging"), default_config_path(),
            Settings("basics", 0))


def outcomes_table(readme: str) -> list[tuple[str, str]]:
    """(outcome, status) of each row of the README's table of outcomes."""
    head = readme.index("| outcome | status | what happened |")
    rows = []
    for line in readme[head:].splitlines()[2:]:
        if not line.strip().startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append((cells[0].strip("`"), cells[1]))
    return rows


def test_the_readme_lists_exactly_the_outcomes_with_their_status() -> None:
    table = outcomes_table((REPO / "README.md").read_text(encoding="utf-8"))
    assert table == [(outcome, status_of(outcome)) for outcome in OUTCOMES]


def test_results_json_names_each_check_by_its_outcome() -> None:
    tests = json.loads(render_json(REPORT))["tests"]
    assert {t["extra_data"]["check"]: t["extra_data"]["outcome"] for t in tests} == EXPECTED
    assert all(t["status"] == ("passed" if t["extra_data"]["outcome"] == "passed" else "failed") for t in tests)
    assert all(kind["kind"] in KINDS for kind in json.loads(render_json(REPORT))["extra_data"]["exercises"].values())


def test_junit_types_each_failure_and_error_by_its_outcome() -> None:
    cases = ET.fromstring(render_junit(REPORT).split("\n", 1)[1]).iter("testcase")
    seen = {}
    for case in cases:
        marks = case.findall("failure") + case.findall("error")
        seen[case.get("name")] = marks[0].get("type") if marks else "passed"
        assert [m.tag for m in marks] == {"passed": [], "failed": ["failure"], "error": ["error"]}[
            status_of(EXPECTED[case.get("name")])]
    assert seen == EXPECTED


def test_the_html_and_markdown_reports_name_each_failed_check_by_its_outcome() -> None:
    shown = re.findall(r'<span class="outcome">([^<]*)</span>', render_html(REPORT))
    assert shown == [o for o in OUTCOMES if o != "passed"]
    headings = re.findall(r"^#### ✗ attention · (\w+) \(0/1, ([^)]*)\)$", render_markdown(REPORT), re.MULTILINE)
    assert {check: kind.removesuffix(": not your fault") for check, kind in headings} == {
        check: outcome for check, outcome in EXPECTED.items() if outcome != "passed"}


def test_batch_records_and_cohort_files_use_the_same_words() -> None:
    graded = make_record(TASK, REPORT, "graded", None, 1.0)
    assert {c["check"]: c["outcome"] for c in graded["checks"]} == EXPECTED
    assert all(c["status"] == status_of(c["outcome"]) for c in graded["checks"])
    failed = error_record(TASK, "grader error (boom)", 1.0)
    junit = ET.fromstring(cohort_junit((graded, failed), "basics").split("\n", 1)[1])
    types = [mark.get("type") for case in junit.iter("testcase") for mark in (*case.iter("failure"), *case.iter("error"))]
    assert types == [o for o in OUTCOMES if o != "passed"] + ["grader-error"]
    rows = list(csv.DictReader(io.StringIO(grades_csv((graded, {**graded, "status": "unreadable"}, failed)))))
    assert [row["status"] for row in rows] == list(ENTRY_STATUSES)
    assert all(row["attention_kind"] in ("", *KINDS) for row in rows)
