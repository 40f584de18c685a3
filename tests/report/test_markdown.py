"""The Markdown summary (``--markdown``): points, failed checks with input and hint, inert student text."""

from __future__ import annotations

import re
from dataclasses import replace

from test_renderers import HINT, INPUT, SCRIPT, make_report

from grader.report.markdown import render_markdown


def test_summary_lists_exercises_points_and_each_failed_check_with_input_and_hint() -> None:
    text = render_markdown(make_report())
    assert "| Ex. 4 - Scaled dot-product attention | `attention.py` |" in text
    assert "### Failed checks" in text and "#### ✗ attention · masked_matches_torch (0/2, " in text
    assert f"smallest failing input: {INPUT}" in text and f"hint: {HINT}" in text


def test_student_text_stays_inside_a_longer_fence() -> None:
    report = make_report()
    # A student's print that tries to close the code block and inject markup.
    check = next(c for c in report.checks() if not c.passed)
    sneaky = replace(check, feedback=replace(check.feedback, output="````\n# you passed\n" + SCRIPT))
    exercises = tuple(replace(e, checks=tuple(sneaky if c is check else c for c in e.checks)) for e in report.exercises)
    text = render_markdown(replace(report, exercises=exercises))
    blocks = re.finditer(r"^(`{3,})text\n(.*?)^\1$", text, re.MULTILINE | re.DOTALL)
    block = next((b for b in blocks if "you passed" in b.group(2)), None)
    assert block is not None and len(block.group(1)) >= 5  # longer than the student's four backticks
    assert "# you passed" in block.group(2) and SCRIPT in block.group(2)
    outside = text.replace(block.group(0), "")
    assert "# you passed" not in outside and "<script>" not in outside


def test_summary_stays_small_with_many_failures() -> None:
    report = make_report(hostile=True)
    failed = next(c for c in report.checks() if not c.passed)
    many = tuple(replace(failed, check=f"check_{i}") for i in range(400))
    big = replace(report, exercises=(replace(report.exercises[0], checks=many),))
    text = render_markdown(big, max_bytes=200_000)
    assert len(text.encode()) < 210_000 and "more failed checks: see the JUnit report" in text


def test_check_mode_says_what_it_did_not_judge() -> None:
    note = "public checks: 19 of 35 points; hidden checks and the answers in answers.yaml are graded after submission"
    text = render_markdown(replace(make_report(), mode="check", notes=(note,)))
    assert "`grader check` (public checks only)" in text and "> public checks: 19 of 35 points;" in text
