"""The marking views of summary.html: for each manual item, every student's answer or figure
with fields for points and comment, and a button that downloads manual.csv as typed.

There is no server: the page holds manual.csv's rows as this run left them (a JSON data
block), its one script (``report/templates/marking.js``) puts what the tutor types into
them, and the button downloads the whole sheet, which the tutor saves over
``OUT/manual.csv``; the next run validates and merges it. The CSV stays the one source of
truth. The page's CSP allows that script by its SHA-256 hash and no other.

    >>> script_hash().startswith("sha256-")
    True
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from grader.batch.manual import Marking
from grader.batch.sheets import cell
from grader.manual_items import ManualItem


@dataclass(frozen=True)
class Entry:
    """One student in a view: ``row`` is the sheet row the fields edit (None: no row counts,
    see the problems), ``figures`` (title, base64 JPEG or None, note) for a figure item."""

    student: str
    row: int | None
    answer: str
    figures: tuple[tuple[str, str | None, str], ...]
    points: str
    comment: str


@dataclass(frozen=True)
class View:
    """One manual item: every graded student's entry, how many are marked, the reference figures."""

    item: ManualItem
    entries: tuple[Entry, ...]
    marked: int
    references: tuple[tuple[str, str], ...]


@functools.cache
def script() -> str:
    """The views' script, inlined into the page as it is."""
    return files("grader.report").joinpath("templates", "marking.js").read_text(encoding="utf-8")


def script_hash() -> str:
    """The CSP source that allows :func:`script`, and nothing else."""
    return "sha256-" + base64.b64encode(hashlib.sha256(script().encode("utf-8")).digest()).decode("ascii")


def sheet_data(marking: Marking) -> dict[str, Any]:
    """manual.csv as the page's script rebuilds it."""
    return {"header": list(marking.header), "rows": [list(row) for row in marking.rows],
            "delimiter": marking.delimiter}


def views(records: tuple[dict[str, Any], ...], marking: Marking) -> list[View]:
    """A view per manual item, students in the records' order (graded or unreadable ones)."""
    points, comment = marking.header.index("points"), marking.header.index("comment")
    found = []
    for item in marking.items:
        entries, references = [], {}
        for record in records:
            if record["status"] == "error":
                continue
            row = marking.where.get((cell(record["student"]), item.id))
            cells = marking.rows[row] if row is not None else None
            figures = tuple((f["title"], f["student"], f["note"]) for f in record["figures"]
                            if f["exercise"] == item.exercise) if item.kind == "figure" else ()
            references.update({f["title"]: f["reference"] for f in record["figures"]
                               if item.kind == "figure" and f["exercise"] == item.exercise and f["reference"]})
            answer = next((a["text"] for a in record["free_text"]
                           if (a["exercise"], a["key"]) == (item.exercise, item.answer)), "")
            entries.append(Entry(record["student"], row, answer, figures,
                                 cells[points] if cells else "", cells[comment] if cells else ""))
        marked = sum(m.points is not None for marks in marking.marks.values() for m in marks if m.item == item.id)
        found.append(View(item, tuple(entries), marked, tuple(references.items())))
    return found
