"""End to end: a tutor's marks through the real command line, on a ps5 cohort (Ex. 7 and 8).

The cohort is graded; the test fills manual.csv as a tutor would (with one bad row) and runs
the batch again: the marks reach grades.csv, each student's report.html and results.json
and summary.html, the bad row is named, no filled cell is lost. Then a new student arrives,
the batch is killed with SIGKILL while grading them, and run once more: manual.csv is never
half-written, and every cell the tutor filled is still there.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from test_run import rows

from conftest import FIXTURES, CliRun, materialize, run_cli, start_cli
from grader.batch.records import RECORD_NAME

ONLY = ("--exercise", "iter_maxpool", "--exercise", "gradients2d")
FILLED = {("ada", "ex7_figure"): ("1", "Clear grid, as the reference"),
          ("ada", "ex7_linearity"): ("0.5", 'Half: "max is not linear", but why?\nSee the sheet.'),
          ("bob", "ex8_where_large"): ("1", ""),
          ("bob", "ex7_fine_details"): ("", "ask in the tutorial"),
          ("bob", "ex8_figure"): ("2", "too many")}  # the bad row: the item is worth 1


def batch(root: Path, out: Path) -> CliRun:
    return run_cli("batch", root, "--assignment", "ps5", "--out", out, *ONLY, "--jobs", "2")


def sheet(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "manual.csv").read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("manual")
    root, out = tmp / "root", tmp / "out"
    materialize(FIXTURES / "ps5" / "alt_correct", root / "ada")
    materialize(FIXTURES / "ps5" / "wrong_softmax_overflow", root / "bob")  # Ex. 7 and 8 as the reference
    seen: dict[str, Any] = {"first": batch(root, out), "first_sheet": sheet(out)}
    table = [dict(row) for row in seen["first_sheet"]]
    for row in table:
        row["points"], row["comment"] = FILLED.get((row["student"], row["item"]), ("", ""))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(table[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    (out / "manual.csv").write_text(buffer.getvalue(), encoding="utf-8")
    seen["filled"] = buffer.getvalue()
    seen["second"] = batch(root, out)
    seen["second_sheet"] = (out / "manual.csv").read_text(encoding="utf-8")
    seen["pages"] = {s: ((out / s / "report.html").read_text(), json.loads((out / s / "results.json").read_text()))
                     for s in ("ada", "bob")}
    seen["summary"] = (out / "summary.html").read_text()
    seen["grades"] = rows(out)
    materialize(FIXTURES / "ps5" / "wrong_mask_bool_only", root / "cy")
    process = start_cli("batch", root, "--assignment", "ps5", "--out", out, *ONLY, "--jobs", "1")
    deadline = time.monotonic() + 300
    while not (out / ".staging" / "cy").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    seen["killed_record"] = (out / "cy" / RECORD_NAME).exists()
    seen["after_kill_sheet"] = (out / "manual.csv").read_text(encoding="utf-8")
    time.sleep(1)  # the job processes die with the batch (parent-death signal) and free OUT's lock
    seen["third"] = batch(root, out)
    seen["third_sheet"] = sheet(out)
    seen["third_grades"] = rows(out)
    seen["third_summary"] = (out / "summary.html").read_text()
    return seen


def test_the_first_run_writes_a_row_per_student_and_item(runs) -> None:  # type: ignore[no-untyped-def]
    first = runs["first"]
    assert first.returncode == 0, first.stderr
    assert "manual.csv: 0 of 18 items marked; 18 rows added" in first.stdout
    table = runs["first_sheet"]
    assert [(r["student"], r["item"]) for r in table[:2]] == [("ada", "ex7_figure"), ("ada", "ex7_fine_details")]
    assert all(r["points"] == r["comment"] == "" for r in table)
    assert table[0]["answer"] == "1 figure(s) in ada/report.html" and table[0]["max_points"] == "1"
    assert table[4]["item"] == "ex7_linearity" and table[4]["answer"].startswith("Only the Gaussian blur")


def test_the_marks_reach_grades_csv_and_the_totals_with_them(runs) -> None:  # type: ignore[no-untyped-def]
    second = runs["second"]
    assert second.returncode == 0, second.stderr
    ada, bob = runs["grades"]["ada"], runs["grades"]["bob"]
    assert (ada["total"], ada["max_score"]) == ("21", "21")  # the automatic points, as without manual items
    assert (ada["ex7_figure"], ada["ex7_linearity"], ada["ex8_figure"]) == ("1", "0.5", "")
    assert [ada[c] for c in ("manual_points", "manual_max_score", "manual_marked", "total_with_manual",
                             "max_score_with_manual")] == ["1.5", "9", "2", "22.5", "30"]
    assert (bob["ex8_where_large"], bob["ex8_figure"], bob["ex7_fine_details"]) == ("1", "", "")
    assert (bob["manual_marked"], bob["total_with_manual"]) == ("1", str(int(bob["total"]) + 1))


def test_the_bad_row_is_named_with_its_line_and_no_filled_cell_is_lost(runs) -> None:  # type: ignore[no-untyped-def]
    line = 2 + [(r["student"], r["item"]) for r in runs["first_sheet"]].index(("bob", "ex8_figure")) + 1
    problem = f"manual.csv line {line}: points '2' is outside 0..1 for ex8_figure"
    assert problem in runs["second"].stdout and str(escape(problem)) in runs["summary"]
    kept = "manual.csv: 3 of 18 items marked; the tutor's cells of 5 rows kept (lines 2, 6, 13, 17-18)"
    assert kept in runs["second"].stdout
    assert runs["second_sheet"] == runs["filled"]  # nothing to add: the tutor's file stays as it was


def test_each_students_pages_show_the_tutors_points_and_comment(runs) -> None:  # type: ignore[no-untyped-def]
    page, results = runs["pages"]["ada"]
    assert "marked by a tutor 1.5 / 9 (2 of 9 items marked) · together 22.5 / 30" in page
    assert "marked by a tutor: Clear grid, as the reference" in page
    assert "marked by a tutor: Half: &#34;max is not linear&#34;, but why?\nSee the sheet." in page
    assert (results["score"], results["max_score"]) == (21, 21)
    manual = results["extra_data"]["manual"]
    assert (manual["score"], manual["marked"], manual["score_with_manual"]) == (1.5, 2, 22.5)
    assert [(i["item"], i["points"]) for i in manual["items"] if i["points"] is not None] == [
        ("ex7_figure", 1.0), ("ex7_linearity", 0.5)]
    bob_page, bob_results = runs["pages"]["bob"]
    assert "too many" not in bob_page and "ask in the tutorial" not in bob_page  # not marks: not shown
    assert bob_results["extra_data"]["manual"]["marked"] == 1


def test_the_summary_shows_how_far_the_marking_has_got_and_the_views_hold_the_marks(runs) -> None:  # type: ignore[no-untyped-def]
    page = runs["summary"]
    assert "3 of 18 items marked (17%)" in page
    view = page[page.index('id="mark-ex7_linearity"'):page.index('id="mark-ex8_figure"')]
    assert 'value="0.5" aria-label="points for ada, ex7_linearity"' in view and "but why?" in view
    figures = page[page.index('id="mark-ex7_figure"'):page.index('id="mark-ex7_fine_details"')]
    assert figures.count('src="data:image/jpeg;base64,') == 3  # the reference, and each student's grid


def test_a_new_student_after_a_kill_9_loses_no_filled_cell(runs) -> None:  # type: ignore[no-untyped-def]
    assert not runs["killed_record"], "the batch was killed while grading the new student"
    assert runs["after_kill_sheet"] == runs["filled"]
    third = runs["third"]
    assert third.returncode == 0, third.stderr
    assert "1 graded in this run, 2 unchanged and kept" in third.stdout
    assert "manual.csv: 3 of 27 items marked; 9 rows added" in third.stdout
    table = runs["third_sheet"]
    filled = list(csv.DictReader(io.StringIO(runs["filled"])))
    assert table[:18] == filled and [r["student"] for r in table[18:]] == ["cy"] * 9
    assert all(r["points"] == r["comment"] == "" for r in table[18:])
    grades = runs["third_grades"]
    assert grades["ada"]["total_with_manual"] == "22.5" and grades["cy"]["manual_marked"] == "0"
    assert "3 of 27 items marked" in runs["third_summary"]
