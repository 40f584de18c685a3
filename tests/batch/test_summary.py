"""The cohort files from records: grades.csv, summary.html, the cohort JSON and JUnit, progress."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from records import HOSTILE, ITEMS, cohort, record

from grader.batch.manual import COLUMNS, update_sheet
from grader.batch.marking import script_hash
from grader.batch.progress import Progress
from grader.batch.similarity import Line, SimilarPair
from grader.batch.summary import (
    SIMILAR_SHOWN,
    check_rates,
    cohort_json,
    cohort_junit,
    cohort_markdown,
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


def test_markdown_lists_each_student_and_the_checks_most_failed() -> None:
    text = cohort_markdown(cohort(), "Basics")
    assert text.startswith("## Basics: 6 submissions") and "| ada | graded | 10/10 |" in text
    assert "| eigen · symmetric | 1/4 |" in text and "| attention · matches\\_torch | 2/4 |" in text


def test_with_manual_items_the_csv_gains_each_item_and_the_totals_with_them(tmp_path: Path) -> None:
    marking = update_sheet(tmp_path, cohort(), ITEMS)
    plain = list(csv.DictReader(io.StringIO(grades_csv(cohort()))))
    marks = {"ada": (replace(marking.marks["ada"][0], points=1.5), marking.marks["ada"][1])}
    rows = list(csv.DictReader(io.StringIO(grades_csv(cohort(), replace(marking, marks={**marking.marks, **marks})))))
    added = ["why_answer", "attention_plot", "manual_points", "manual_max_score", "manual_marked",
             "total_with_manual", "max_score_with_manual"]
    assert list(rows[0]) == [*plain[0], *added]  # new columns at the end, the old ones as they were
    assert [rows[0][c] for c in added] == ["1.5", "", "1.5", "3", "1", "11.5", "13"]
    assert rows[0]["total"] == plain[0]["total"] == "10" and rows[0]["max_score"] == "10"
    assert [rows[1][c] for c in added] == ["", "", "0", "3", "0", "6", "13"]
    assert [rows[5][c] for c in added[-2:]] == ["", ""]  # not graded


def test_the_marking_views_list_every_answer_with_fields_and_allow_only_their_script(tmp_path: Path) -> None:
    marking = update_sheet(tmp_path, cohort(), ITEMS)
    page = render_summary(cohort(), "Basics", marking)
    assert f"script-src '{script_hash()}'" in page and page.count("<script") == 2
    assert page.count('data-column="points"') == 2 * 5 and page.count('data-column="comment"') == 2 * 5
    assert "0 of 12 items marked (0%)" in page and "This run added 12 rows to manual.csv." in page
    view = page[page.index('id="mark-why_answer"'):page.index('id="mark-attention_plot"')]
    assert "Because the matrix is symmetric." in view and "&lt;script&gt;alert(1)" in view
    assert "<strong>Rubric:</strong> Symmetric: Q Lambda Q^T." in view and "(no answer)" in view
    assert "Every free-text question has a marking view above." in page
    sheet = json.loads(page.split('<script type="application/json" id="manual-sheet">')[1].split("</script>")[0])
    assert sheet["header"] == COLUMNS and len(sheet["rows"]) == 12 and sheet["delimiter"] == ","
    assert sheet["rows"][4][0].startswith("<script>alert(1)</script>")  # whole, and it did not end the block


def test_a_similar_pair_is_shown_side_by_side_as_a_lead() -> None:
    line = Line(3, (("    return ", False), ("x * 2", True)))
    pair = SimilarPair("conv2d.py", ("conv2d",), ("ada", HOSTILE), (0.9, 0.8), ((line,), (None, line)))
    page = render_summary(cohort(), "Basics", similar=(pair,))
    section = page[page.index('<h2 id="similar">'):page.index('<h2 id="free-text">')]
    assert "never a verdict" in section and "90% and 80% of their own code alike" in section
    assert '<span class="ln">3</span>    return <mark>x * 2</mark>' in section and "&lt;script&gt;" in section
    assert "No two submissions are that alike." in render_summary(cohort(), "Basics")
    many = tuple(replace(pair, students=(f"s{n}", f"t{n}")) for n in range(SIMILAR_SHOWN + 3))
    page = render_summary(cohort(), "Basics", similar=many)
    assert page.count('<details class="pair">') == SIMILAR_SHOWN and "3 more pairs, less alike, are not shown" in page
