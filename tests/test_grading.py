"""Grading one submission in one process or several: the same results whichever process grades an exercise;
the reference's figures drawn only where an output shows them; the garbage collector on while checks run."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
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


def test_the_command_line_grades_with_the_collector_on_and_the_loaded_modules_frozen(tmp_path: Path) -> None:
    # The command line loads with the collector off; grade() must turn it on before any check
    # runs (a watch session lasts an evening), with what was loaded exempt from it.
    probe = (
        "import gc, sys\n"
        "from grader import cli, grading\n"
        "seen = []\n"
        "checks = grading.run_check\n"
        "grading.run_check = lambda *a, **k: seen.append((gc.isenabled(), gc.get_freeze_count() > 0)) or checks(*a, **k)\n"
        "args = cli.build_parser().parse_args(sys.argv[1:])\n"
        "assert cli._handle(args) == 0\n"
        "print(sorted(set(seen)))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe, "grade", str(REPO / "examples" / "basics"), "-a", "basics",
                          "-e", "eigen", "--jobs", "1", "--json", str(tmp_path / "r.json")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[(True, True)]"
