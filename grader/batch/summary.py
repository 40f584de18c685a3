"""The cohort files, built only from the students' records (and manual.csv's marks):
grades.csv and summary.html.

    >>> write_cohort_files(Path("graded"), records, "Basics")        # doctest: +SKIP

``summary.html`` is one self-contained page (plots are inline images, a CSP that forbids
every external load and every script but the marking views' own, by its hash): who needs a
look (an exercise lost to a file name or an import, answers lost to YAML, a time limit hit),
how far the marking has got, the score distribution, why exercises were lost (each
exercise's kind), the pass rate of every check among the submissions where it ran, the
catalogued mistakes with who made them, the pairs of submissions whose code is alike, the
marking views (every student's answer or figure with fields for points and comment, see
:mod:`grader.batch.marking`), the free-text answers side by side, the slowest submissions
and every grader error. Names, answers and messages come from students and are escaped by
the template's autoescaping. ``--json``, ``--junit`` and ``--markdown`` of ``grader batch``
write the cohort as JSON, as one JUnit file (a test suite per student) and as a Markdown
summary for a CI job's page.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.charts import exercise_chart, score_histogram
from grader.batch.manual import Marking
from grader.batch.marking import script, script_hash, sheet_data, views
from grader.batch.records import exercise_ids
from grader.batch.sheets import cell
from grader.batch.similarity import THRESHOLD, SimilarPair
from grader.model import ManualMark
from grader.report import write_atomic
from grader.report.html import PAGES
from grader.report.junit import xml_text
from grader.report.text import points
from grader.vocabulary import ENTRY_STATUSES, KINDS, NEVER_RAN, Outcome

SLOWEST = 10
SIMILAR_SHOWN = 100  # pairs of code alike shown with their passages, the most alike first


# A check that failed this way never judged the student's idea: no file, no function, no import,
# an answer not filled in or unreadable.
NOT_RUN_OUTCOMES: tuple[Outcome, ...] = ("missing", "import-failed", "unreadable")
TIME_LIMITS: tuple[Outcome, ...] = ("timeout", "time-budget")


@dataclass(frozen=True)
class CheckRate:
    """How many of the submissions where a check ran passed it; ``not_run`` never ran it."""

    exercise: str
    check: str
    description: str
    points: float
    passed: int
    ran: int
    not_run: int = 0

    @property
    def percent(self) -> float:
        return 100 * self.passed / self.ran if self.ran else 0.0


@dataclass(frozen=True)
class Look:
    """A submission a tutor should look at: points lost to something other than the idea."""

    student: str
    exercise: str
    what: str
    detail: str
    points: float


@dataclass(frozen=True)
class MistakeCount:
    exercise: str
    mistake: str
    hint: str
    students: tuple[str, ...]


@dataclass(frozen=True)
class SharedWrongValue:
    """Students whose code returns the same wrong value on the same input of one check, with
    no catalogued mistake to explain it: a mistake the catalogue does not know yet."""

    exercise: str
    check: str
    summary: str
    input: str
    details: tuple[str, ...]
    students: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    exercise: str
    key: str
    answers: tuple[tuple[str, str], ...]
    unanswered: int


def write_cohort_files(out: Path, records: tuple[dict[str, Any], ...], title: str, marking: Marking | None = None,
                       similar: tuple[SimilarPair, ...] = ()) -> None:
    """Write ``grades.csv`` and ``summary.html`` in ``out`` (atomically) from the records."""
    write_atomic(out / "grades.csv", grades_csv(records, marking))
    write_atomic(out / "summary.html", render_summary(records, title, marking, similar))


def grades_csv(records: tuple[dict[str, Any], ...], marking: Marking | None = None) -> str:
    """One row per student: total, each exercise's score and kind, status, grader errors, and why
    points were lost (blank scores: not graded). ``total`` and ``max_score`` are the automatic
    points; with manual items the last columns are each item's points (blank: not marked yet),
    their sum, how many are marked, and the totals with them."""
    exercises = exercise_ids(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    manual = [*(i.id for i in marking.items), "manual_points", "manual_max_score", "manual_marked",
              "total_with_manual", "max_score_with_manual"] if marking else []
    writer.writerow(["student", "entry", "status", "total", "max_score", *exercises,
                     *(f"{e}_kind" for e in exercises), "grader_errors", "seconds", "reason", *manual])
    for record in records:
        scores = {e["id"]: points(e["score"]) for e in record["exercises"]}
        kinds = {e["id"]: e["kind"] for e in record["exercises"]}
        graded = record["score"] is not None
        writer.writerow([
            cell(record["student"]), cell(record["entry"]), record["status"],
            points(record["score"]) if graded else "", points(record["max_score"]) if graded else "",
            *(scores.get(e, "") for e in exercises), *(kinds.get(e, "") for e in exercises),
            len(record["grader_errors"]), f"{record['seconds']:.1f}", cell(reason(record)),
            *(_manual_cells(record, marking.marks[record["student"]]) if marking else ()),
        ])
    return buffer.getvalue()


def _manual_cells(record: dict[str, Any], marks: tuple[ManualMark, ...]) -> list[str]:
    given = sum(m.points or 0.0 for m in marks)
    top = sum(m.max_points for m in marks)
    graded = record["score"] is not None
    return [*("" if m.points is None else points(m.points) for m in marks), points(given), points(top),
            str(sum(m.points is not None for m in marks)),
            points(record["score"] + given) if graded else "", points(record["max_score"] + top) if graded else ""]


def reason(record: dict[str, Any]) -> str:
    """Why a student lost points, in a few words: each exercise not in full and how, answers lost
    to YAML; for an entry that was not graded, why not."""
    if record["status"] != "graded":
        return record.get("reason") or ""
    parts = [f"{e['id']}: {e['kind']}" + (f" ({e['near_match']})" if e["near_match"] else "")
             for e in record["exercises"] if e["kind"] != "full"]
    unreadable = [c["check"].removeprefix("answer_") for c in record["checks"] if c["outcome"] == "unreadable"]
    if unreadable:
        parts.append(f"answers.yaml could not be read for {', '.join(unreadable)}")
    return "; ".join(parts)


def _kinds(record: dict[str, Any]) -> dict[str, str]:
    return {e["id"]: e["kind"] for e in record["exercises"]}


def never_ran(check: dict[str, Any], kind: str) -> bool:
    """The check failed without judging the student's idea (see ``NOT_RUN_OUTCOMES``), or judged
    the skeleton as shipped."""
    return check["status"] == "failed" and (check["outcome"] in NOT_RUN_OUTCOMES or kind == "untouched skeleton")


def kind_counts(records: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, int]]]:
    """For each exercise, how many graded submissions had each kind (see ``grader.vocabulary.KINDS``)."""
    counts: dict[str, dict[str, int]] = {}
    for record in records:
        if record["status"] == "graded":
            for exercise in record["exercises"]:
                row = counts.setdefault(exercise["id"], dict.fromkeys(KINDS, 0))
                row[exercise["kind"]] += 1
    return list(counts.items())


def needs_a_look(records: tuple[dict[str, Any], ...]) -> list[Look]:
    """Submissions that lost points to a file name, an import, YAML or a time limit, by student."""
    looks: list[Look] = []
    for record in records:
        if record["status"] != "graded":
            continue
        student, checks = record["student"], record["checks"]
        for exercise in record["exercises"]:
            own = [c for c in checks if c["exercise"] == exercise["id"]]
            lost = exercise["max_score"] - exercise["score"]
            if exercise["kind"] == "misnamed file":
                looks.append(Look(student, exercise["id"], "misnamed file",
                                  f"handed in {exercise['near_match']} instead of {exercise['file']}", lost))
            elif exercise["kind"] == "did not import":
                failed = next(c for c in own if c["outcome"] == "import-failed")
                looks.append(Look(student, exercise["id"], "did not import", failed["summary"] or "", lost))
            timed = [c for c in own if c["outcome"] in TIME_LIMITS]
            if timed:
                looks.append(Look(student, exercise["id"], "time limit hit",
                                  f"{', '.join(c['check'] for c in timed)}: {timed[0]['summary'] or ''}",
                                  sum(c["points"] for c in timed)))
        unreadable = [c for c in checks if c["outcome"] == "unreadable"]
        if unreadable:
            looks.append(Look(student, "answers.yaml", "answers lost to YAML",
                              "; ".join(c["summary"] or c["check"] for c in unreadable),
                              sum(c["points"] for c in unreadable)))
    return looks


def check_rates(records: tuple[dict[str, Any], ...]) -> list[CheckRate]:
    """Pass rate of every check over the graded submissions where it ran, lowest first; those
    where it never ran (a missing or misnamed file, the skeleton, no import) are counted apart,
    so that a file name does not pass for a conceptual failure."""
    rates: dict[tuple[str, str], list[Any]] = {}
    for record in records:
        if record["status"] != "graded":
            continue
        kinds = _kinds(record)
        for check in record["checks"]:
            entry = rates.setdefault((check["exercise"], check["check"]),
                                     [check["description"], check["points"], 0, 0, 0])
            if never_ran(check, kinds.get(check["exercise"], "")):
                entry[4] += 1
            else:
                entry[2] += check["status"] == "passed"
                entry[3] += 1
    found = [CheckRate(e, c, d, p, n, ran, not_run) for (e, c), (d, p, n, ran, not_run) in rates.items()]
    return sorted(found, key=lambda rate: (rate.ran == 0, rate.percent))


def mistake_counts(records: tuple[dict[str, Any], ...]) -> list[MistakeCount]:
    """Each catalogued mistake found, with the students who made it, most frequent first."""
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for record in records:
        for check in record["checks"]:
            if check["mistake"]:
                _, students = found.setdefault((check["exercise"], check["mistake"]), (check["hint"] or "", []))
                if record["student"] not in students:
                    students.append(record["student"])
    counts = [MistakeCount(e, m, hint, tuple(students)) for (e, m), (hint, students) in found.items()]
    return sorted(counts, key=lambda m: (-len(m.students), m.exercise, m.mistake))


def shared_wrong_values(records: tuple[dict[str, Any], ...], at_least: int = 2) -> list[SharedWrongValue]:
    """Failed checks that no catalogued mistake explains, grouped by the very same input and
    the very same got-vs-expected rows, where ``at_least`` students share them; most shared first.

    The inputs are the same for every student (hypothesis draws them from the seed) and shrink
    along the same path for the same wrong function, so one bug gives one group.
    """
    groups: dict[tuple[str, str, str, tuple[str, ...]], tuple[str, list[str]]] = {}
    for record in records:
        for check in record["checks"]:
            if (check["status"] != "failed" or check["mistake"] or check["outcome"] != "wrong"
                    or not check.get("input") or not check.get("details")):
                continue
            key = (check["exercise"], check["check"], check["input"], tuple(check["details"]))
            _, students = groups.setdefault(key, (check["summary"] or "", []))
            if record["student"] not in students:
                students.append(record["student"])
    shared = [SharedWrongValue(e, c, summary, i, d, tuple(students))
              for (e, c, i, d), (summary, students) in groups.items() if len(students) >= at_least]
    return sorted(shared, key=lambda g: (-len(g.students), g.exercise, g.check))


def questions(records: tuple[dict[str, Any], ...]) -> list[Question]:
    """The free-text answers, grouped by question, for reading side by side."""
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for record in records:
        for answer in record["free_text"]:
            grouped.setdefault((answer["exercise"], answer["key"]), []).append((record["student"], answer["text"]))
    return [Question(e, k, tuple((s, t) for s, t in given if t.strip()), sum(not t.strip() for _, t in given))
            for (e, k), given in grouped.items()]


def render_summary(records: tuple[dict[str, Any], ...], title: str, marking: Marking | None = None,
                   similar: tuple[SimilarPair, ...] = ()) -> str:
    """The cohort page as a string; ``marking`` adds the marking progress and views."""
    reviewed = {(i.exercise, i.answer) for i in marking.items} if marking else set()
    scored = [r for r in records if r["score"] is not None]
    scores = [r["score"] for r in scored]
    max_score = max((r["max_score"] for r in scored), default=0.0)
    statuses = {s: sum(r["status"] == s for r in records) for s in ENTRY_STATUSES}
    return PAGES.get_template("summary.html.j2").render(
        title=title,
        records=records,
        exercises=exercise_ids(records),
        statuses=statuses,
        scores=scores,
        max_score=max_score,
        mean=statistics.mean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        histogram=score_histogram(scores, max_score),
        exercise_chart=exercise_chart(records),
        rates=check_rates(records),
        looks=needs_a_look(records),
        kinds=kind_counts(records),
        kind_names=KINDS,
        never_ran_kinds=NEVER_RAN,
        mistakes=mistake_counts(records),
        shared=shared_wrong_values(records),
        questions=[q for q in questions(records) if (q.exercise, q.key) not in reviewed],
        marking=marking,
        views=views(records, marking) if marking else [],
        sheet=sheet_data(marking) if marking else None,
        script=script() if marking else "",
        script_hash=script_hash() if marking else "",
        similar=similar[:SIMILAR_SHOWN],
        similar_left_out=max(len(similar) - SIMILAR_SHOWN, 0),
        similar_threshold=THRESHOLD,
        slowest=sorted(records, key=lambda r: -r["seconds"])[:SLOWEST],
        errors=[(r["student"], message) for r in records for message in r["grader_errors"]],
    )


def cohort_json(records: tuple[dict[str, Any], ...]) -> str:
    """Every student's record as one JSON document (``grader batch --json``)."""
    return json.dumps({"students": list(records)}, indent=1, ensure_ascii=False) + "\n"


def cohort_junit(records: tuple[dict[str, Any], ...], assignment: str) -> str:
    """One JUnit file for the cohort (``--junit``): a test suite per student, a test case per check."""
    root = ET.Element("testsuites", name=f"grader batch {assignment}")
    for record in records:
        checks = record["checks"]
        suite = ET.SubElement(root, "testsuite", name=xml_text(record["student"]), tests=str(len(checks) or 1),
                              failures=str(sum(c["status"] == "failed" for c in checks)),
                              errors=str(sum(c["status"] == "error" for c in checks) + (record["status"] == "error")),
                              time=f"{record['seconds']:.3f}")
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=f"{assignment}.{check['exercise']}", name=check["check"])
            if check["status"] != "passed":
                tag = "failure" if check["status"] == "failed" else "error"
                ET.SubElement(case, tag, message=xml_text(check["summary"] or check["outcome"])[:500],
                              type=check["outcome"])
        if record["status"] == "error":
            case = ET.SubElement(suite, "testcase", classname=assignment, name="grading")
            ET.SubElement(case, "error", message=xml_text(record["reason"] or "grader error")[:500],
                          type="grader-error")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def cohort_markdown(records: tuple[dict[str, Any], ...], title: str, worst: int = 10) -> str:
    """The cohort in Markdown (``--markdown``): each student's score, the checks most failed."""
    from grader.report.markdown import inline

    lines = [f"## {inline(title)}: {len(records)} submissions", "", "| student | status | points |", "|---|---|---:|"]
    for record in records:
        score = f"{points(record['score'])}/{points(record['max_score'])}" if record["score"] is not None else ""
        lines.append(f"| {inline(record['student'])} | {record['status']} | {score} |")
    rates = [rate for rate in check_rates(records) if rate.passed < rate.ran][:worst]
    if rates:
        lines += ["", "### Checks most often failed", "", "| check | passed |", "|---|---:|"]
        lines += [f"| {inline(r.exercise)} · {inline(r.check)} | {r.passed}/{r.ran} |" for r in rates]
    return "\n".join(lines) + "\n"
