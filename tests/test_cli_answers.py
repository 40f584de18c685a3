"""End to end: answers.yaml through the real CLI, in ``check`` (no reference) and ``grade``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from conftest import FIXTURES, REPO, materialize, run_cli


def config_variant(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of config.yaml with ``basics`` changed by ``change`` (paths made absolute)."""
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    basics = raw["assignments"]["basics"]
    basics.update(templates=str(REPO / basics["templates"]), reference=str(REPO / basics["reference"]))
    change(basics)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"defaults": raw["defaults"], "assignments": {"basics": basics}}, sort_keys=False))
    return path


def test_a_public_answer_works_in_check_and_grade(tmp_path: Path) -> None:
    def public(basics: dict[str, Any]) -> None:
        basics["exercises"]["eigen"]["answers"]["eigen_matrix"]["visibility"] = "public"

    config = config_variant(tmp_path, public)
    for verb, extra in (("check", ()), ("grade", ("--assignment", "basics"))):
        run = run_cli(verb, REPO / "examples" / "basics", *extra, "-e", "eigen", "--config", config,
                      json_path=tmp_path / f"{verb}.json")
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
        answer = run.test("eigen", "answer_eigen_matrix")
        assert answer["visibility"] == "visible" and answer["extra_data"]["outcome"] != "grader-error", answer


def test_a_grader_failure_in_the_answers_is_a_grader_error(tmp_path: Path) -> None:
    """The reference answers lack a key: the grader's fault, reported as such, the run goes on."""
    reference = tmp_path / "reference"
    shutil.copytree(REPO / "reference" / "basics", reference, ignore=shutil.ignore_patterns("mistakes"))
    answers = yaml.safe_load((reference / "answers.yaml").read_text())
    del answers["eigen_matrix"]
    (reference / "answers.yaml").write_text(yaml.safe_dump(answers))
    config = config_variant(tmp_path, lambda basics: basics.update(reference=str(reference)))
    run = run_cli("grade", REPO / "reference" / "basics", "--assignment", "basics", "-e", "eigen",
                  "--config", config, json_path=tmp_path / "r.json")
    assert run.returncode == 0, run.stderr
    answer = run.test("eigen", "answer_eigen_matrix")
    assert answer["extra_data"]["outcome"] == "grader-error"
    assert "not your fault" in answer["output"]
    assert "1 grader error(s)" in run.stdout
    assert run.test("eigen", "eigenpairs")["status"] == "passed"


def test_a_grader_failure_outside_every_check_exits_2_with_one_line(tmp_path: Path) -> None:
    """A checks module that cannot be imported is the grader's fault: exit 2, never a traceback."""
    package = tmp_path / "broken_checks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "eigen.py").write_text("raise RuntimeError('a bug in the checks')\n")
    config = config_variant(tmp_path, lambda basics: basics.update(checks="broken_checks"))
    run = run_cli("check", REPO / "examples" / "basics", "-e", "eigen", "--config", config,
                  env={"PYTHONPATH": str(tmp_path)})
    assert run.returncode == 2
    assert run.stderr.startswith("grader: grader error (RuntimeError: a bug in the checks)")
    assert "not your fault" in run.stderr and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_check_names_every_answers_yaml_problem_with_its_line(tmp_path: Path) -> None:
    folder = materialize(FIXTURES / "basics" / "answers_typos", tmp_path / "typos")
    run = run_cli("check", folder, json_path=tmp_path / "r.json")
    assert run.returncode == 0, run.stderr
    tab = run.test("parameter_counting", "answer_alexnet_total_params")
    assert (tab["status"], tab["extra_data"]["outcome"]) == ("failed", "unreadable")
    assert "answers.yaml could not read 'alexnet_total_params': line 5: a tab character" in tab["output"]
    bracket = run.test("conv2d", "answer_conv2d_b_stride2_pad0")
    assert "line 7: a '[' that is never closed" in bracket["output"]
    shape = run.test("conv2d", "answer_conv2d_c_stride2_pad1")
    assert (shape["extra_data"]["outcome"], shape["max_score"]) == ("wrong", 0)
    assert ("answers.yaml 'conv2d_c_stride2_pad1': should be a 3x3 matrix (a list of rows): it has 2 rows, expected 3"
            in shape["output"])
    misspelt = run.test("attention", "answer_attention_context_C")
    assert misspelt["extra_data"]["outcome"] == "missing"
    assert "did you mean 'attention_context_C'?" in misspelt["output"]
    assert run.test("eigen", "answer_eigen_matrix")["status"] == "passed"
    assert "line 5: a tab character" in run.stdout and "line 7: a '[' that is never closed" in run.stdout
    assert "4 hand-computed answer(s) not ready yet" in run.stdout and "(4 points)" in run.stdout


def test_grade_keeps_the_answers_that_parse_and_calls_an_unfilled_one_missing(tmp_path: Path) -> None:
    folder = materialize(FIXTURES / "basics" / "answers_typos", tmp_path / "typos")
    run = run_cli("grade", folder, "--assignment", "basics", "-e", "eigen", "-e", "conv2d",
                  json_path=tmp_path / "r.json")
    assert run.returncode == 0, run.stderr
    assert run.test("eigen", "answer_eigen_matrix")["score"] == 1
    assert run.test("conv2d", "answer_conv2d_a_stride1_pad0")["score"] == 1
    assert run.test("conv2d", "answer_conv2d_b_stride2_pad0")["extra_data"]["outcome"] == "unreadable"
    assert run.test("conv2d", "answer_conv2d_c_stride2_pad1")["extra_data"]["outcome"] == "wrong"
