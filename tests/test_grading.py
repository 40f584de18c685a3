"""Grading one submission in one process or several: the same results whichever process grades an exercise;
the reference's figures drawn only where an output shows them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, REPO, materialize
from grader.grading import Options, grade
from grader.model import GradeReport


def without_times(report: GradeReport) -> list[Any]:
    """Everything a report says of each exercise, the times it took left out."""
    return [dataclasses.replace(exercise, student_seconds=0.0, reference_seconds=0.0,
                                checks=tuple(dataclasses.replace(c, seconds=0.0) for c in exercise.checks))
            for exercise in report.exercises]


@pytest.mark.parametrize("fixture", ["partial", "wrong_attention_k_dot_T", "hostile_allclose"])
def test_two_processes_grade_exactly_as_one(fixture: str, basics: Any, sandbox: Any, tmp_path: Path) -> None:
    # Failing inputs, shrinking, hints, tracebacks and printed output included: a helper process
    # draws the same inputs and hands back whole results.
    folder = materialize(FIXTURES / "basics" / fixture, tmp_path / fixture)
    alone, shared = (grade(basics, folder, sandbox, Options(mode="grade", jobs=jobs)) for jobs in (1, 2))
    assert [e.id for e in shared.exercises] == [e.id for e in basics.exercises]
    assert without_times(shared) == without_times(alone)
    assert any(not check.passed for exercise in alone.exercises for check in exercise.checks)


def test_the_reference_figure_is_drawn_only_where_an_output_shows_it(config: Any, sandbox: Any) -> None:
    # results.json alone (Gradescope, CI) shows no figure: the reference's is not drawn, and
    # nothing else changes; the student's figure is still drawn and judged.
    ps5 = config.assignments["ps5"]
    reports = {wanted: grade(ps5, REPO / "reference" / "ps5", sandbox, Options(
        mode="grade", exercises=("iter_maxpool",), reference_figures=wanted)) for wanted in (False, True)}
    (without,), (with_it,) = (reports[wanted].exercises[0].figures for wanted in (False, True))
    assert without.reference_png is None and with_it.reference_png is not None
    assert with_it.reference_png.startswith(b"\x89PNG") and without.student_png is not None
    assert without_times(reports[False])[0].checks == without_times(reports[True])[0].checks
