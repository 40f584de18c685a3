"""One self-contained HTML page per report: no external assets, all student text escaped.

Jinja2 renders with autoescaping on, and the page's Content-Security-Policy forbids
scripts and every external load, so even a string that slipped through could not act.
Figures are embedded as ``data:`` PNGs that the grader re-encoded (``grader.images``).
:func:`render_inline` gives the same report without the page around it, for a notebook.
"""

from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.model import GradeReport
from grader.report.text import clean, points

# Shared by every page the grader writes (the report here, the cohort summary in grader.batch).
PAGES = Environment(
    loader=PackageLoader("grader.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
PAGES.filters["points"] = points
PAGES.filters["clean"] = clean
PAGES.filters["base64"] = lambda data: base64.b64encode(data).decode("ascii")


def render_html(report: GradeReport) -> str:
    """The report page as a string."""
    return _render("report.html.j2", report)


def render_inline(report: GradeReport) -> str:
    """The report as a fragment of a page (a notebook's output): the same content and style, no page around it."""
    return _render("report_inline.html.j2", report)


def _render(template: str, report: GradeReport) -> str:
    percent = 100 * report.score / report.max_score if report.max_score else 0.0
    return PAGES.get_template(template).render(report=report, percent=percent)
