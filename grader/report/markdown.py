"""A Markdown summary of a report, as a CI job shows it (``$GITHUB_STEP_SUMMARY``).

Exercises and points in a table, then each failed check in the feedback grammar (what
failed, the smallest input, got vs expected, hint). Everything the student's code could have
written goes inside fenced code blocks, whose fence is longer than any run of backticks in
it, so it renders as text and never as Markdown or HTML. The page stays far below GitHub's
1 MiB per step: each check's text is capped, and so is the page.

>>> from grader.model import GradeReport
>>> print(render_markdown(GradeReport("basics", "Basics", ".", "check", 0, (), "", 0.0, "0.1.0")))
## Basics: 0/0 points
<BLANKLINE>
`grader check` (public checks only) · seed 0
<BLANKLINE>
| exercise | file | points |
|---|---|---:|
<BLANKLINE>
All checks passed.
<BLANKLINE>
"""

from __future__ import annotations

import re

from grader.model import CheckResult, GradeReport
from grader.report.text import clean, feedback_lines, points

MAX_BYTES = 256 * 1024
MAX_CHECK_LINES = 40


def render_markdown(report: GradeReport, max_bytes: int = MAX_BYTES) -> str:
    """The summary; past ``max_bytes`` the remaining failed checks are only counted."""
    verb = "`grader check` (public checks only)" if report.mode == "check" else "`grader grade` (all checks)"
    lines = [f"## {inline(report.title)}: {points(report.score)}/{points(report.max_score)} points", "",
             f"{verb} · seed {report.seed}", ""]
    lines += [f"> {inline(note)}" for note in report.notes if note.startswith("public checks:")]
    if lines[-1] != "":
        lines.append("")
    lines += ["| exercise | file | points |", "|---|---|---:|"]
    lines += [f"| {inline(e.title)} | `{e.file}` | {points(e.score)}/{points(e.max_score)} |" for e in report.exercises]
    lines.append("")
    failed = [c for c in report.checks() if not c.passed]
    if not failed:
        return "\n".join([*lines, "All checks passed.", ""])
    lines += [f"### Failed checks ({len(failed)})", ""]
    size = len("\n".join(lines).encode())
    for shown, check in enumerate(failed):
        block = failed_check(check)
        size += len(block.encode())
        if size > max_bytes:
            lines += [f"... and {len(failed) - shown} more failed checks: see the JUnit report.", ""]
            break
        lines.append(block)
    return "\n".join(lines)


def failed_check(check: CheckResult) -> str:
    """One failed check: a heading of our own words (points, outcome), then its feedback as a code block."""
    kind = check.outcome + (": not your fault" if check.status == "error" else "")
    body = feedback_lines(check.feedback) if check.feedback else [check.outcome]
    if len(body) > MAX_CHECK_LINES:
        body = [*body[:MAX_CHECK_LINES], f"... ({len(body) - MAX_CHECK_LINES} more lines)"]
    text = "\n".join(body)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return "\n".join([
        f"#### ✗ {check.exercise} · {check.check} ({points(check.score)}/{points(check.points)}, {kind})",
        "", inline(check.description), "", f"{fence}text", text, fence, "",
    ])


def inline(text: str) -> str:
    """Our own one-line text made inert in Markdown: no markup, no HTML, one line."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", clean(text).replace("\n", " "))
