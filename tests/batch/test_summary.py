"""The cohort files from records: grades.csv, summary.html, the cohort JSON and JUnit, progress."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from records import HOSTILE, cohort, record

from grader.batch.progress import Progress
from grader.batch.summary import (
    check_rates,
    cohort_json,
    cohort_junit,
    grades_csv,
    mistake_counts,
    needs_a_look,
    questions,
    render_summary,
)


def test_csv_has_one_row_per_student_and_disarms_formulas() -> None:
    rows = list(csv.DictReader(io.StringIO(grades_csv(cohort()))))
    assert [r["status"] for r in rows] == ["graded"] * 4 + ["unreadable", "error"]
    assert rows[0]["total"] == "10" and rows[0]["attention"] == "6" and rows[0]["eigen"] == "4"
    assert rows[3]["student"].startswith("'=") and rows[3]["grader_errors"] == "1"
    assert rows[5]["total"] == "" and rows[5]["reason"] == "why"
    assert "\x1b" not in grades_csv(cohort()) and "\x00" not in grades_csv(cohort())


def test_check_rates_count_graded_submissions_lowest_first() -> None:
    rates = check_rates(cohort())
    assert [(r.check, r.passed, r.ran, r.not_run) for r in rates] == [("symmetric", 1, 4, 0), ("matches_torch", 2, 4, 0)]


def test_pass_rates_count_what_never_ran_apart_from_conceptual_failures() -> None:
    records = (record("ada", 10.0), record("bob", 6.0),
               record("cy", 6.0, eigen="misnamed file", outcome="missing"),
               record("di", 6.0, eigen="did not import", outcome="import-failed"))
    symmetric = next(r for r in check_rates(records) if r.check == "symmetric")
    assert (symmetric.passed, symmetric.ran, symmetric.not_run, symmetric.percent) == (1, 2, 2, 50.0)


def test_the_csv_gives_each_exercise_its_kind_and_the_reason() -> None:
    records = (record("ada", 10.0), record("bob", 6.0), record("cy", 6.0, eigen="misnamed file", outcome="missing"),
               record("eve", 0.0, status="unreadable"))
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades_csv(records)))}
    assert (rows["ada"]["attention_kind"], rows["ada"]["eigen_kind"], rows["ada"]["reason"]) == ("full", "full", "")
    assert (rows["bob"]["eigen_kind"], rows["bob"]["reason"]) == ("wrong", "eigen: wrong")
    assert (rows["cy"]["eigen_kind"], rows["cy"]["reason"]) == ("misnamed file", "eigen: misnamed file (Eigen (1).py)")
    assert rows["eve"]["reason"] == "why"  # an entry not graded says why not


def test_who_needs_a_look_lists_files_imports_yaml_and_time_limits() -> None:
    records = (record("ada", 10.0), record("bob", 6.0),
               record("cy", 6.0, eigen="misnamed file", outcome="missing"),
               record("di", 6.0, eigen="did not import", outcome="import-failed"),
               record("ed", 6.0, outcome="unreadable"), record("fay", 6.0, outcome="timeout"))
    looks = [(look.student, look.exercise, look.what, look.points) for look in needs_a_look(records)]
    assert looks == [("cy", "eigen", "misnamed file", 4.0), ("di", "eigen", "did not import", 4.0),
                     ("ed", "answers.yaml", "answers lost to YAML", 4.0), ("fay", "eigen", "time limit hit", 4.0)]
    assert needs_a_look(records)[0].detail == "handed in Eigen (1).py instead of eigen.py"
    page = render_summary(records, "Basics")
    assert page.index("Who needs a look") < page.index("Score distribution")
    assert "handed in Eigen (1).py instead of eigen.py" in page and "Why exercises were lost" in page


def test_mistakes_name_who_made_them_and_free_text_is_grouped() -> None:
    (mistake,) = mistake_counts(cohort())
    assert (mistake.mistake, mistake.hint) == ("no_scaling", "Divide the scores by sqrt(d_k).")
    assert mistake.students == (HOSTILE, "=cmd|' /C calc'!A0")
    (question,) = questions(cohort())
    assert [s for s, _ in question.answers] == ["ada", "bob", HOSTILE] and question.unanswered == 2


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs


def test_summary_page_is_self_contained_and_escapes_student_text() -> None:
    page = render_summary(cohort(), "Basics")
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and not any(name.startswith("on") for name, _ in parser.attributes)
    assert "&lt;script&gt;" in page and "\x1b" not in page and "\x00" not in page
    sources = [value for name, value in parser.attributes if name in ("src", "href")]
    assert all(v.startswith("data:image/png;base64,") or v.endswith("/report.html") for v in sources)
    assert sum(v.startswith("data:image/png") for v in sources) == 2
    assert "default-src 'none'" in page
    assert "6 students · 4 graded · 1 unreadable · 1 not graded" in page
    assert "grader error (SandboxError: gone)" in page and "Because the matrix is symmetric." in page
    assert 'href="zed/report.html"' not in page  # nothing was written for a student not graded


def test_summary_of_an_empty_or_failed_cohort_renders() -> None:
    assert "No submission has a score yet." in render_summary((), "Basics")
    assert "zed" in render_summary((record("zed", None, status="error"),), "Basics")


def test_cohort_json_and_junit() -> None:
    data = json.loads(cohort_json(cohort()))
    assert [s["student"] for s in data["students"]][:2] == ["ada", "bob"]
    root = ET.fromstring(cohort_junit(cohort(), "basics"))
    suites = root.findall("testsuite")
    assert len(suites) == 6 and suites[-1].find("testcase/error") is not None
    assert suites[1].get("failures") == "1"


def test_progress_plain_lines_and_terminal_bar() -> None:
    plain = io.StringIO()
    progress = Progress(total=3, already=1, stream=plain, tty=False)
    progress.begin("1 job process(es)")
    progress.finished(record("ada", 10.0))
    progress.finished(record("zed", None, status="error", grader_errors=("boom",)))
    lines = plain.getvalue().splitlines()
    assert lines[0] == "grading 2 of 3 submissions (1 already graded and unchanged) with 1 job process(es)"
    assert lines[1] == "[2/3] ada 10/10 (2.0 s)" and lines[2].startswith("[3/3] zed not graded: why")
    bar = io.StringIO()
    progress = Progress(total=3, already=0, stream=bar, tty=True)
    progress.begin("2 job process(es)")
    progress.finished(record("ada", 10.0))
    progress.finished(record("zed", None, status="error"))
    progress.close()
    last = bar.getvalue().split("\r")[-1]
    assert last.startswith("[#############.......] 2/3 graded · 1 error · ") and " left" in last
