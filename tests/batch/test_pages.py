"""Each student's pages from the stored report: the same report back, and the tutor's marks shown."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from records import HOSTILE

from grader.batch.pages import STORED, load, refresh_pages, shown_marks, store
from grader.model import CheckResult, ExerciseResult, Feedback, Figure, GradeReport, ManualMark
from grader.report.gradescope import render_json
from grader.report.html import render_html

REPORT = GradeReport(
    assignment="ps5", title="PS5", submission="ada", mode="grade", seed=0, started="2025-01-01T00:00:00+00:00",
    seconds=2.0, grader_version="0", notes=("isolation level full",),
    exercises=(ExerciseResult(
        "iter_maxpool", "Ex. 7", "iter_maxpool.py",
        (CheckResult("iter_maxpool", "maxpool_laws", "laws", 1.0, "public", "passed"),
         CheckResult("iter_maxpool", "experiment_figure", "figure", 1.0, "public", "wrong",
                     Feedback("drew nothing", details=("got 1", "expected 2")))),
        free_text=(("ex7_linearity", "No."),), figures=(Figure("grid", b"\x89PNG\r\n\x1a\n\x00\xff", None, "n"),)),),
)
MARKS = (ManualMark("iter_maxpool", "ex7_figure", "The grid", 1.0, 0.5, f"Half the grid {HOSTILE}"),
         ManualMark("iter_maxpool", "ex7_linearity", "Linear?", 1.0))


def written(folder: Path, report: GradeReport = REPORT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STORED).write_text(store(report))
    (folder / "results.json").write_text(render_json(report))
    (folder / "report.html").write_text(render_html(report))
    return folder


def test_a_stored_report_comes_back_whole() -> None:
    marked = replace(REPORT, manual=MARKS)
    assert load(store(marked)) == marked and load(store(REPORT)).exercises[0].figures[0].student_png.endswith(b"\xff")


def test_the_tutors_marks_reach_the_students_pages_and_results(tmp_path: Path) -> None:
    folder = written(tmp_path / "ada")
    record = {"student": "ada", "status": "graded", "score": REPORT.score, "max_score": REPORT.max_score}
    assert refresh_pages(tmp_path, (record,), {"ada": MARKS}) == 1
    results = json.loads((folder / "results.json").read_text())
    assert (results["score"], results["max_score"]) == (1.0, 2.0)  # the automatic points, as before
    manual = results["extra_data"]["manual"]
    assert (manual["score"], manual["max_score"], manual["marked"]) == (0.5, 2.0, 1)
    assert (manual["score_with_manual"], manual["max_score_with_manual"]) == (1.5, 4.0)
    assert manual["items"][0] == {"exercise": "iter_maxpool", "item": "ex7_figure", "title": "The grid",
                                  "points": 0.5, "max_points": 1.0, "comment": f"Half the grid {HOSTILE}"}
    assert manual["items"][1]["points"] is None
    page = (folder / "report.html").read_text()
    assert "marked by a tutor 0.5 / 2 (1 of 2 items marked) · together 1.5 / 4" in page
    assert "The grid</span><span class=\"desc\">marked by a tutor: Half the grid &lt;script&gt;" in page
    assert "to be marked by a tutor</span><span class=\"pts\">– / 1</span>" in page
    assert "<script>" not in page
    assert refresh_pages(tmp_path, (record,), {"ada": MARKS}) == 0  # unchanged marks: nothing rendered again
    assert refresh_pages(tmp_path, (record,), {"ada": MARKS[1:]}) == 1
    assert shown_marks(folder)["marked"] == 0


def test_without_manual_items_nothing_is_rendered_again(tmp_path: Path) -> None:
    folder = written(tmp_path / "bob")
    before = (folder / "report.html").read_text()
    record = {"student": "bob", "status": "graded", "score": 1.0, "max_score": 2.0}
    assert refresh_pages(tmp_path, (record, {"student": "zed", "status": "error"}), {}) == 0
    assert (folder / "report.html").read_text() == before and "manual" not in json.loads(
        (folder / "results.json").read_text())["extra_data"]


def test_a_student_without_a_whole_stored_report_is_left_to_the_next_run(tmp_path: Path) -> None:
    folder = written(tmp_path / "cy")
    (folder / STORED).write_text('{"assignment": "ps5"}')
    record = {"student": "cy", "status": "graded", "score": 1.0, "max_score": 2.0}
    assert refresh_pages(tmp_path, (record,), {"cy": MARKS}) == 0
