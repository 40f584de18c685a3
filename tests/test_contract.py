"""The checks judge the contract of exercises.md, all of it and only it.

Each case is a fixture submission and the one exercise it is graded on. A correct solution
written the way students write it (not the reference's way) keeps every point; a solution
that breaks one point of the contract the checks once never exercised loses the named check.
"""

from __future__ import annotations

import pytest

from conftest import FIXTURES, CliRun, assert_scores_as_recorded, finish, materialize, start_cli

# (fixture, assignment, exercise, the check it must fail, or None for full marks)
CASES = [
    ("typical_replace_relus", "ps5", "guided_backprop", None),
    ("wrong_attention_softmax_overflow", "basics", "attention", "stable_for_large_scores"),
    ("wrong_attention_k_dot_T", "basics", "attention", "matches_torch"),
    ("wrong_sampling_ignores_generator", "ps5", "softmax_temperature", "sampling"),
    ("wrong_mask_bool_only", "ps5", "transformer_layer", "masked_keys_get_no_weight"),
    ("wrong_constant_gradient_image", "ps5", "guided_backprop", "gradient_shape_and_image"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    out = tmp_path_factory.mktemp("contract")
    processes = {}
    for name, assignment, exercise, _ in CASES:
        folder = materialize(FIXTURES / assignment / name, out / name)
        processes[name] = start_cli("grade", folder, "-a", assignment, "-e", exercise, "--json", out / f"{name}.json")
    return {name: finish(process, out / f"{name}.json") for name, process in processes.items()}


@pytest.mark.parametrize("name,exercise", [(n, e) for n, _, e, failing in CASES if failing is None])
def test_a_correct_solution_in_a_students_style_keeps_every_point(graded, name, exercise) -> None:  # type: ignore[no-untyped-def]
    run = graded[name]
    assert run.returncode == 0, run.stderr
    lost = {t["extra_data"]["check"]: t["output"] for t in run.results["tests"] if t["status"] != "passed"}
    assert not lost, lost
    assert run.exercise_scores()[exercise][1] > 0


@pytest.mark.parametrize("name,check", [(n, failing) for n, _, _, failing in CASES if failing is not None])
def test_breaking_one_point_of_the_contract_loses_its_check(graded, name, check) -> None:  # type: ignore[no-untyped-def]
    run = graded[name]
    assert run.returncode == 0, run.stderr
    failed = {t["extra_data"]["check"] for t in run.results["tests"] if t["status"] == "failed"}
    assert check in failed, run.results["tests"]


def test_a_crash_shows_the_warning_torch_raised_in_the_students_code_and_names_the_mistake(graded) -> None:  # type: ignore[no-untyped-def]
    test = graded["wrong_attention_k_dot_T"].test("attention", "matches_torch")
    assert "raised RuntimeError" in test["output"] and test["extra_data"]["mistake"] == "k_dot_T"
    assert "warnings your code raised in this exercise:" in test["output"]
    assert "UserWarning: The use of `x.T` on tensors of dimension other than 2" in test["output"]
    assert "Triggered internally" not in test["output"]
    # Where torch raised it from is no place of the student's, so none is named, the grader least.
    assert "<grader" not in test["output"] and "line 84" not in test["output"]


def test_every_check_scores_as_recorded(graded) -> None:  # type: ignore[no-untyped-def]
    assert_scores_as_recorded(graded, "contract")
