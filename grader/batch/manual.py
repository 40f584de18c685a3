"""``OUT/manual.csv``: one row per student and item a tutor scores by hand, and what the tutor
filled in.

Columns ``student, exercise, item, max_points, answer, points, comment``. The grader fills
the first five (``answer`` is an excerpt of the free-text answer, or where the figures are);
the tutor fills ``points`` and ``comment``. Every run rewrites the grader's columns and
nothing else: rows keep their order, a row a tutor filled in keeps every cell (columns the
tutor added included), rows for new students and items are added at the end, and the
tutor's delimiter (``;`` from a spreadsheet in a German locale) is kept. A row whose points
are not a number within 0..max_points, or whose student or item is unknown, is named with
its line and counts nothing; its cells stay as they are.

    >>> marking = update_sheet(Path("graded"), records, items)        # doctest: +SKIP
    >>> marking.marked, marking.total, [str(p) for p in marking.problems]  # doctest: +SKIP
    (12, 40, ["manual.csv line 7: points '3' is outside 0..1 for ex7_linearity"])
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.sheets import cell, read_sheet, write_sheet
from grader.errors import GraderError
from grader.manual_items import ManualItem
from grader.model import ManualMark
from grader.report import write_atomic
from grader.report.text import clean, points

SHEET = "manual.csv"
COLUMNS = ["student", "exercise", "item", "max_points", "answer", "points", "comment"]
GRADER_COLUMNS = ("exercise", "max_points", "answer")  # rewritten on every run
NEEDED = ("student", "item", "points", "comment")
EXCERPT = 300


class SheetUnreadable(GraderError):
    """manual.csv has no header the grader can use: the file is left as it is (the tutor's
    sheet, never the student's fault: so in the grader's tree, not the failures')."""


@dataclass(frozen=True)
class Problem:
    """A row of manual.csv that counts nothing, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"{SHEET} line {self.line}: {self.message}"


@dataclass(frozen=True)
class Marking:
    """manual.csv as this run left it, and the marks it gives each student.

    ``rows`` are the sheet's rows after ``header`` (``lines``: where each starts; ``delimiter``
    the file's); ``marks``
    has one mark per student and item (``points`` None: not marked); ``kept`` are the lines
    of rows a tutor had filled in, kept as they were; ``where`` maps (student, item) to the
    index of the row that counts.
    """

    items: tuple[ManualItem, ...]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]
    delimiter: str
    marks: dict[str, tuple[ManualMark, ...]]
    problems: tuple[Problem, ...]
    kept: tuple[int, ...]
    added: int
    where: dict[tuple[str, str], int]

    @property
    def marked(self) -> int:
        return sum(m.points is not None for marks in self.marks.values() for m in marks)

    @property
    def total(self) -> int:
        return sum(len(marks) for marks in self.marks.values())

    def describe(self) -> list[str]:
        """Lines for the end of a batch: progress, rows added and kept, each bad row."""
        parts = [f"{SHEET}: {self.marked} of {self.total} items marked"]
        if self.added:
            parts.append(f"{self.added} rows added")
        if self.kept:
            parts.append(f"the tutor's cells of {len(self.kept)} rows kept ({line_ranges(self.kept)})")
        return ["; ".join(parts), *(clean(str(problem)) for problem in self.problems)]


def excerpt(record: dict[str, Any], item: ManualItem) -> str:
    """What the ``answer`` column shows: the answer's start on one line, or where the figures are."""
    if record["status"] == "error":
        return "(not graded: a grader error; the next run grades it)"
    if item.kind == "figure":
        drawn = sum(f["student"] is not None for f in record["figures"] if f["exercise"] == item.exercise)
        return f"{drawn} figure(s) in {record['student']}/report.html" if drawn else "(no figure drawn)"
    text = " ".join(next((a["text"] for a in record["free_text"]
                          if (a["exercise"], a["key"]) == (item.exercise, item.answer)), "").split())
    if not text:
        return "(no answer)"
    return cell(text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…")


def wanted_rows(records: tuple[dict[str, Any], ...], items: tuple[ManualItem, ...]) -> list[list[str]]:
    """The rows this cohort needs, in ``COLUMNS`` order, points and comment empty."""
    return [[cell(r["student"]), item.exercise, item.id, points(item.points), excerpt(r, item), "", ""]
            for r in records for item in items]


def merge(before: str | None, wanted: list[list[str]]) -> tuple[list[str], list[list[str]], str, list[int], int]:
    """The sheet after this run: header, rows, delimiter, indexes of the rows a tutor filled in
    (kept as they were but for the grader's columns), and how many rows were added.

    An empty row of a student or item no longer in the batch is dropped; a filled one stays.
    """
    if not before or not before.strip():
        return list(COLUMNS), wanted, ",", [], len(wanted)
    header, rows, delimiter = read_sheet(before)
    missing = [name for name in NEEDED if name not in header]
    if missing:
        raise SheetUnreadable(f"its first line has no {', '.join(missing)} column, so it was left as it is "
                              f"(the header is: {','.join(COLUMNS)})")
    header = header + [name for name in COLUMNS if name not in header]
    col = {name: header.index(name) for name in header}
    tutor = [i for name, i in col.items() if name not in ("student", "item", *GRADER_COLUMNS)]
    todo = {(row[0], row[2]): row for row in wanted}
    merged: list[list[str]] = []
    kept: list[int] = []
    for _, row in rows:
        row = row + [""] * (len(header) - len(row))
        filled = any(row[i].strip() for i in tutor)
        fresh = todo.pop((row[col["student"]], row[col["item"]]), None)
        if fresh is None and not filled:
            continue
        for name in GRADER_COLUMNS if fresh is not None else ():
            row[col[name]] = fresh[COLUMNS.index(name)]
        if filled:
            kept.append(len(merged))
        merged.append(row)
    for fresh in todo.values():
        row = [""] * len(header)
        for name, value in zip(COLUMNS, fresh):
            row[col[name]] = value
        merged.append(row)
    return header, merged, delimiter, kept, len(todo)


def _points(text: str, item: ManualItem) -> float | str:
    """The points a tutor typed, or why they are not points."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        hint = " (write decimals with a dot: 0.5)" if re.fullmatch(r"\d+,\d+", text) else ""
        return f"points {text!r} is not a number{hint}"
    if not 0 <= value <= item.points:
        return f"points {text!r} is outside 0..{points(item.points)} for {item.id}"
    return value


Marks = dict[str, tuple[ManualMark, ...]]


def validate(header: list[str], rows: list[tuple[int, list[str]]], items: tuple[ManualItem, ...],
             students: list[str]) -> tuple[Marks, list[Problem], dict[tuple[str, str], int]]:
    """Each student's marks (``students`` as manual.csv spells them), the bad rows, and the row
    that counts for each (student, item)."""
    col = {name: header.index(name) for name in NEEDED}
    by_id = {item.id: item for item in items}
    known = set(students)
    where: dict[tuple[str, str], int] = {}
    given: dict[tuple[str, str], tuple[float, str]] = {}
    problems = []
    for index, (line, row) in enumerate(rows):
        row = row + [""] * (len(header) - len(row))
        student, item_id, text = row[col["student"]], row[col["item"]], row[col["points"]].strip()
        key, problem = (student, item_id), None
        if student not in known:
            problem = f"no student {student!r} in this batch (students are spelt as in grades.csv)"
        elif item_id not in by_id:
            problem = f"no item {item_id!r} among those this run grades ({', '.join(by_id)})"
        elif key in where:
            problem = f"a second row for {student} and {item_id}: only line {rows[where[key]][0]} counts"
        else:
            where[key] = index
            value = _points(text, by_id[item_id]) if text else None
            if isinstance(value, str):
                problem = value
            elif value is not None:
                given[key] = (value, row[col["comment"]].strip())
        if problem:
            problems.append(Problem(line, problem))
    marks = {student: tuple(ManualMark(i.exercise, i.id, i.title, i.points, *given.get((student, i.id), (None, "")))
                            for i in items) for student in students}
    return marks, problems, where


def update_sheet(out: Path, records: tuple[dict[str, Any], ...], items: tuple[ManualItem, ...]) -> Marking:
    """Bring ``out/manual.csv`` up to date with the cohort (atomically, only when it changes)
    and read the marks from it."""
    path = out / SHEET
    wanted = wanted_rows(records, items)
    problems: list[Problem] = []
    for _ in range(3):  # a tutor who saved the file meanwhile is merged again, never overwritten
        before = _read(path)
        try:
            header, rows, delimiter, kept, added = merge(before, wanted)
        except SheetUnreadable as exc:
            header, rows, delimiter, kept, added = list(COLUMNS), wanted, ",", [], 0
            problems.append(Problem(1, str(exc)))
            break
        text = write_sheet(header, rows, delimiter)
        if text == before:
            break
        if _read(path) == before:
            write_atomic(path, text)
            break
    _, read, _ = read_sheet(write_sheet(header, rows, delimiter))
    students = [cell(r["student"]) for r in records]
    marks, bad, where = validate(header, read, items, students)
    return Marking(items, tuple(header), tuple(tuple(row) for row in rows), tuple(line for line, _ in read), delimiter,
                   dict(zip((r["student"] for r in records), (marks[s] for s in students))), tuple(problems + bad),
                   tuple(read[i][0] for i in kept), added, where)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8-sig") if path.is_file() else None


def line_ranges(lines: tuple[int, ...]) -> str:
    """``lines 2-5, 9``: the lines, runs of consecutive ones joined."""
    runs: list[list[int]] = []
    for line in sorted(lines):
        if runs and line == runs[-1][-1] + 1:
            runs[-1].append(line)
        else:
            runs.append([line])
    text = ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)
    return ("lines " if len(lines) > 1 else "line ") + text
