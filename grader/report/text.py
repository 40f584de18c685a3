"""Plain-text feedback and the terminal summary.

:func:`feedback_lines` is the one grammar every renderer shares::

    scaled_dot_product_attention() differs from the expected result: mismatched 2/2 ...
      smallest failing input: Q = [[0, 1]] (shape (1, 2)), ...
      [0, 1]       got       0.62   expected       0.31
      hint: Divide the scores by sqrt(d_k) before the softmax.
      reproduce: grader check --exercise attention --seed 0
"""

from __future__ import annotations

import re
import textwrap

from grader.model import CheckResult, Feedback, GradeReport

MAX_OUTPUT_LINES = 15
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Student text made safe for a terminal and a file: control characters (ANSI and
    8-bit escapes) removed, lone surrogates replaced."""
    return _CONTROL.sub("", text).encode("utf-8", "replace").decode("utf-8")


def _indent(text: str, prefix: str, limit: int | None = None) -> list[str]:
    lines = clean(text).rstrip().splitlines()
    if limit is not None and len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more lines)"]
    return [prefix + line for line in lines]


def feedback_lines(feedback: Feedback, seen: dict[str, str] | None = None, where: str = "") -> list[str]:
    """What failed, on which input, got vs expected, hint, reproduce: as plain lines.

    ``seen`` maps a traceback or warnings already shown (for the same exercise) to the check
    that showed them: they are referred to instead of repeated, and recorded under ``where``
    (this check) when new.
    """
    seen = {} if seen is None else seen
    lines = [clean(feedback.summary)]
    if feedback.input:
        lines.append(f"  {feedback.input_label}: {clean(feedback.input)}")
    lines += [f"    {clean(row)}" for row in feedback.details]
    if feedback.traceback:
        lines += _once(seen, where, feedback.traceback, "your code's traceback",
                       _indent(feedback.traceback, "    "))
    if feedback.output:
        lines.append("  your code printed:")
        lines += _indent(feedback.output, "    | ", MAX_OUTPUT_LINES)
    if feedback.warnings:
        text = "\n".join(feedback.warnings)
        lines += _once(seen, where, text, "warnings your code raised in this exercise", _indent(text, "    ! "))
    if feedback.hint:
        lines.append(f"  hint: {feedback.hint}")
    if feedback.reproduce:
        lines.append(f"  reproduce: {feedback.reproduce}")
    return lines


def _once(seen: dict[str, str], where: str, text: str, label: str, body: list[str]) -> list[str]:
    if text in seen:
        return [f"  {label}: as shown above, under {seen[text]}"]
    seen[text] = where
    return [f"  {label}:", *body]


def check_text(result: CheckResult) -> str:
    """The text of one check for results.json and JUnit: feedback, then notes."""
    lines = feedback_lines(result.feedback) if result.feedback else ["passed"]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def points(value: float) -> str:
    return f"{value:g}"


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text


def render_terminal(report: GradeReport, color: bool = False, width: int = 88, waited: float | None = None) -> str:
    """A summary a student reads at a glance: a line per check, then what failed and why.

    Descriptions wrap to ``width``; ``waited`` is the wall time since the command started
    (interpreter and torch imports included), shown beside the time spent grading.
    """
    style = _Style(color)
    mark = {"passed": style("✓", "32"), "failed": style("✗", "31"), "error": style("!", "33")}
    verb = "check (public checks only)" if report.mode == "check" else "grade (all checks)"
    took = f"{report.seconds:.1f} s" if waited is None else f"{waited:.1f} s ({report.seconds:.1f} s grading)"
    lines = [
        style(f"{report.title}", "1"),
        f"submission {clean(report.submission)} · {verb} · seed {report.seed} · {took}",
        "",
    ]
    for exercise in report.exercises:
        head = f"{exercise.title} ({exercise.file})"
        score = f"{points(exercise.score)}/{points(exercise.max_score)}"
        lines.append(style(f"{head:<{width - 8}}{score:>8}", "1"))
        for check in exercise.checks:
            lead = f"  {mark[check.status]} {points(check.score):>3}/{points(check.points):<3} {check.check:<28} "
            indent = len(lead) - (len(mark[check.status]) - 1)  # the mark's colour codes take no room
            wrapped = textwrap.wrap(check.description, max(width - indent, 20), break_long_words=False,
                                    break_on_hyphens=False) or [""]
            lines.append(lead + wrapped[0])
            lines += [" " * indent + line for line in wrapped[1:]]
    failed = [c for c in report.checks() if not c.passed]
    if failed:
        lines += ["", style("What to look at", "1")]
        previous = None
        seen: dict[str, str] = {}
        for check in failed:
            if previous is None or check.exercise != previous.exercise:
                seen = {}
            lines.append("")
            label = f"{check.exercise} · {check.check}"
            lines.append(style(label, "31" if check.status == "failed" else "33"))
            if check.feedback and previous is not None and check.feedback == previous.feedback \
                    and check.exercise == previous.exercise:
                lines.append("  the same as above")
            elif check.feedback:
                lines += ["  " + line for line in feedback_lines(check.feedback, seen, label)]
            previous = check
    notes = sorted({f"{c.exercise} · {c.check}: {n}" for c in report.checks() for n in c.notes})
    if notes or report.notes:
        lines += ["", style("Notes", "1")] + [f"  {n}" for n in (*report.notes, *notes)]
    total = f"{points(report.score)}/{points(report.max_score)} points"
    errors = len(report.grader_errors)
    tail = style(f"Total: {total}", "1")
    if errors:
        tail += style(f"  ({errors} grader error(s): not your fault, please tell the course staff)", "33")
    lines += ["", tail]
    return "\n".join(lines) + "\n"
