"""CSV files a tutor opens in a spreadsheet: safe cells, and the tutor's own delimiter kept.

    >>> cell("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> read_sheet("student;points\\nada;1\\n")
    (['student', 'points'], [(2, ['ada', '1'])], ';')
"""

from __future__ import annotations

import csv
import io

from grader.report.text import clean

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = (",", ";", "\t")  # a spreadsheet in a German locale saves with ';'


def cell(text: str) -> str:
    """Student text for a spreadsheet: a leading = + - @ would start a formula."""
    text = clean(str(text))
    return "'" + text if text.startswith(_FORMULA_START) else text


def read_sheet(text: str) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    """The header, the rows after it with the line each starts on, and the delimiter (that of
    the header line: a comma unless it holds more semicolons or tabs)."""
    first = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first.count) if any(d in first for d in DELIMITERS) else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, line = [], 1
    for row in reader:
        rows.append((line, row))
        line = reader.line_num + 1
    return (rows[0][1] if rows else []), rows[1:], delimiter


def write_sheet(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
