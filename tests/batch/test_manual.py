"""manual.csv: rows for every student and item, the tutor's cells kept, bad rows named by line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from records import ITEMS, cohort, record

from grader.batch.manual import COLUMNS, SHEET, update_sheet
from grader.batch.sheets import cell

STUDENTS = [cell(r["student"]) for r in cohort()]  # as manual.csv spells them: no control characters, no formula


def rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / SHEET).read_text(encoding="utf-8-sig")), delimiter=","))


def fill(out: Path, cells: dict[tuple[str, str], tuple[str, str]]) -> None:
    """Fill points and comment of rows by (student, item), as a tutor would in a spreadsheet."""
    table = rows(out)
    for row in table:
        if (row["student"], row["item"]) in cells:
            row["points"], row["comment"] = cells[row["student"], row["item"]]
    write(out, table)


def write(out: Path, table: list[dict[str, str]], delimiter: str = ",") -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(table[0]), delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    (out / SHEET).write_text(buffer.getvalue(), encoding="utf-8")


def test_the_first_run_writes_one_row_per_student_and_item(tmp_path: Path) -> None:
    marking = update_sheet(tmp_path, cohort(), ITEMS)
    table = rows(tmp_path)
    assert list(table[0]) == COLUMNS and len(table) == 12 and marking.added == 12
    assert [(r["student"], r["item"]) for r in table[:2]] == [("ada", "why_answer"), ("ada", "attention_plot")]
    ada = table[0]
    assert (ada["exercise"], ada["max_points"], ada["answer"], ada["points"], ada["comment"]) == (
        "eigen", "2", "Because the matrix is symmetric.", "", "")
    assert table[1]["answer"] == "(no figure drawn)"
    assert [r["student"] for r in table[::2]] == STUDENTS and STUDENTS[3].startswith("'=")
    assert "\x1b" not in (tmp_path / SHEET).read_text() and table[2]["answer"].startswith("<script>")
    assert table[10]["answer"].startswith("(not graded")
    assert (marking.marked, marking.total, marking.problems, marking.kept) == (0, 12, (), ())
    assert all(m.points is None for marks in marking.marks.values() for m in marks)


def test_filled_cells_are_kept_and_merged_as_marks(tmp_path: Path) -> None:
    update_sheet(tmp_path, cohort(), ITEMS)
    comment = 'Good; "Q Lambda Q^T",\nsee the sheet'
    fill(tmp_path, {("ada", "why_answer"): ("1.5", comment), ("bob", "attention_plot"): ("0", ""),
                    ("eve", "why_answer"): ("", "ask about this")})
    before = (tmp_path / SHEET).read_text()
    marking = update_sheet(tmp_path, cohort(), ITEMS)
    assert (tmp_path / SHEET).read_text() == before  # nothing to add: the tutor's file is not rewritten
    assert (marking.marked, marking.total, marking.kept, marking.added) == (2, 12, (2, 6, 11), 0)
    ada = {m.item: m for m in marking.marks["ada"]}
    assert (ada["why_answer"].points, ada["why_answer"].comment) == (1.5, comment.strip())
    assert ada["attention_plot"].points is None
    assert marking.marks["bob"][1].points == 0.0
    assert marking.marks["eve"][0].points is None  # a comment alone is not a mark
    assert marking.describe()[0] == ("manual.csv: 2 of 12 items marked; "
                                     "the tutor's cells of 3 rows kept (lines 2, 6, 11)")


def test_a_rerun_with_new_students_and_items_adds_rows_and_loses_no_cell(tmp_path: Path) -> None:
    update_sheet(tmp_path, cohort(), ITEMS[:1])
    table = rows(tmp_path)
    for row in table:
        row["marker"] = ""  # a column of the tutor's own
    table[0].update(points="2", comment="full marks", marker="FH")
    table[3].update(marker="AS")
    write(tmp_path, table, delimiter=";")
    grown = (*cohort(), record("noor", 4.0, answer="eigenvectors"))
    marking = update_sheet(tmp_path, grown, ITEMS)
    text = (tmp_path / SHEET).read_text()
    assert text.splitlines()[0] == "student;exercise;item;max_points;answer;points;comment;marker"
    after = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert after[:6] == table  # the old rows, every cell as it was, in their order
    assert [(r["student"], r["item"]) for r in after[6:]] == [
        *((s, "attention_plot") for s in STUDENTS), ("noor", "why_answer"), ("noor", "attention_plot")]
    assert marking.added == 8 and marking.kept == (2, 5) and marking.marks["ada"][0].points == 2.0
    assert marking.delimiter == ";"


def test_bad_rows_are_named_with_their_line_and_count_nothing(tmp_path: Path) -> None:
    update_sheet(tmp_path, cohort(), ITEMS)
    table = rows(tmp_path)
    table[0].update(points="1", comment="two\nlines")  # line 2 takes two lines: line numbers shift by one
    table[1].update(points="lots")
    table[2].update(points="0,5")
    table[3].update(points="3")
    table[4].update(points="-1")
    table += [{**table[3], "points": "1"}, {**table[3], "student": "mallory", "points": "1"},
              {**table[3], "item": "style", "points": "1"}, {**table[3], "points": "inf"}]
    write(tmp_path, table)
    marking = update_sheet(tmp_path, cohort(), ITEMS)
    assert [str(p) for p in marking.problems] == [
        "manual.csv line 4: points 'lots' is not a number",
        "manual.csv line 5: points '0,5' is not a number (write decimals with a dot: 0.5)",
        "manual.csv line 6: points '3' is outside 0..1 for attention_plot",
        "manual.csv line 7: points '-1' is outside 0..2 for why_answer",
        "manual.csv line 15: a second row for bob and attention_plot: only line 6 counts",
        "manual.csv line 16: no student 'mallory' in this batch (students are spelt as in grades.csv)",
        "manual.csv line 17: no item 'style' among those this run grades (why_answer, attention_plot)",
        "manual.csv line 18: a second row for bob and attention_plot: only line 6 counts",
    ]
    assert marking.marked == 1 and marking.marks["ada"][0].points == 1.0
    assert rows(tmp_path)[1]["points"] == "lots"  # a bad cell stays as the tutor typed it
    assert marking.describe()[1:] == [str(p) for p in marking.problems]


def test_a_file_without_the_columns_is_left_as_it_is(tmp_path: Path) -> None:
    (tmp_path / SHEET).write_text("name,score\nada,3\n")
    marking = update_sheet(tmp_path, cohort(), ITEMS)
    assert (tmp_path / SHEET).read_text() == "name,score\nada,3\n"
    assert [str(p) for p in marking.problems] == [
        ("manual.csv line 1: its first line has no student, item, points, comment column, so it was left as it is "
        "(the header is: student,exercise,item,max_points,answer,points,comment)")]
    assert marking.total == 12 and marking.marked == 0 and len(marking.rows) == 12


def test_an_empty_row_of_a_student_no_longer_in_the_batch_goes_a_filled_one_stays(tmp_path: Path) -> None:
    update_sheet(tmp_path, cohort(), ITEMS)
    fill(tmp_path, {("bob", "why_answer"): ("1", "")})
    smaller = tuple(r for r in cohort() if r["student"] not in ("ada", "bob"))
    marking = update_sheet(tmp_path, smaller, ITEMS)
    left = [(r["student"], r["item"], r["points"]) for r in rows(tmp_path)]
    assert ("bob", "why_answer", "1") in left and not any(student == "ada" for student, _, _ in left)
    assert [str(p) for p in marking.problems] == [
        "manual.csv line 2: no student 'bob' in this batch (students are spelt as in grades.csv)"]
