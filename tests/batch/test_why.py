"""End to end: ``grader batch`` says why points were lost (grades.csv, summary.html) and who needs a look."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_run import rows

from conftest import FIXTURES, CliRun, materialize, run_cli

COHORT = ("alt_correct", "misnamed", "untouched", "broken", "partial", "answers_typos", "endless_loop")
SHARING = ("ana", "ben", "chloe")  # three students with one mistake that the catalogue does not know


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CliRun]:
    tmp = tmp_path_factory.mktemp("why")
    for name in COHORT:
        materialize(FIXTURES / "basics" / name, tmp / "root" / name)
    for student in SHARING:
        materialize(FIXTURES / "basics" / "wrong_eigen_squared", tmp / "root" / student)
    out = tmp / "out"
    # A budget the endless loop spends in one call of 10 s and correct exercises never near, however busy the machine.
    return out, run_cli("batch", tmp / "root", "--assignment", "basics", "--out", out, "--jobs", "2", "--timeout", "10")


def test_grades_csv_gives_each_exercise_a_kind_and_the_reason(graded) -> None:  # type: ignore[no-untyped-def]
    out, run = graded
    assert run.returncode == 0, run.stderr
    table = rows(out)
    kinds = {student: tuple(row[f"{e}_kind"] for e in ("eigen", "parameter_counting", "conv2d", "attention"))
             for student, row in table.items()}
    assert kinds["alt_correct"] == ("full", "full", "full", "full")
    assert kinds["misnamed"] == ("full", "misnamed file", "misnamed file", "full")
    assert kinds["untouched"] == ("untouched skeleton", "full", "full", "full")
    assert kinds["broken"][:2] == ("did not import", "did not import")
    assert kinds["partial"] == ("full", "full", "untouched skeleton", "not submitted")
    assert kinds["answers_typos"] == ("full", "partly wrong", "partly wrong", "partly wrong")
    assert kinds["endless_loop"][2] == "partly wrong"
    assert all(row["status"] == "graded" for row in table.values())
    assert table["alt_correct"]["reason"] == ""
    assert table["misnamed"]["reason"] == ("parameter_counting: misnamed file (parameter_counting.py); "
                                           "conv2d: misnamed file (conv2d (1).py)")
    assert "answers.yaml could not be read for alexnet_total_params, conv2d_b_stride2_pad0" in table["answers_typos"]["reason"]


def test_summary_lists_who_needs_a_look_first(graded) -> None:  # type: ignore[no-untyped-def]
    out, _ = graded
    page = (out / "summary.html").read_text()
    look = page[page.index("Who needs a look"):page.index("Score distribution")]
    assert "handed in conv2d (1).py instead of conv2d.py" in look
    assert "handed in parameter_counting.py instead of param_count.py" in look
    assert "did not import" in look and "eigen.py could not be imported: SyntaxError" in look
    assert "answers lost to YAML" in look and "line 5: a tab character" in look
    assert "time limit hit" in look and "endless_loop" in look
    for student in ("alt_correct", "untouched", "partial"):
        assert f">{student}<" not in look
    assert "Why exercises were lost" in page and "never ran" in page


def test_summary_groups_a_wrong_value_shared_by_students_that_no_catalogued_mistake_explains(graded) -> None:  # type: ignore[no-untyped-def]
    out, _ = graded
    page = (out / "summary.html").read_text()
    section = page[page.index("Mistakes the catalogue does not know"):page.index('<h2 id="similar">')]
    assert "<code>eigen</code> · <code>eigenpairs</code>: 3 students return the same wrong value here" in section
    assert "ana, ben, chloe" in section
    assert "got" in section and "expected" in section and "eigenvalues = " in section
    for student in COHORT:
        assert student not in section
