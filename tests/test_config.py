"""config.yaml loading: the real file, and one-line ConfigErrors that name the bad key.

Broken configs are written to tmp_path as modified copies of the real config.yaml; the
templates path is made absolute so that only the intended problem is wrong.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.config import AnswerConfig, CheckConfig, Config, default_config_path, load_config
from grader.errors import ConfigError

REAL = default_config_path()
RAW = yaml.safe_load(REAL.read_text(encoding="utf-8"))
BASICS = ("assignments", "basics")
EIGEN = (*BASICS, "exercises", "eigen")
EIGENPAIRS = (*EIGEN, "checks", "eigenpairs")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(REAL)


def test_real_config_loads(config):
    assert REAL.name == "config.yaml" and REAL.parent == Path(__file__).resolve().parents[1]
    basics = config.assignments["basics"]
    assert [e.id for e in basics.exercises] == ["eigen", "parameter_counting", "conv2d", "attention"]
    assert basics.templates.is_absolute() and basics.templates.is_dir()
    assert basics.reference.is_absolute()
    assert basics.checks_package == "grader.exercises.basics"


def test_real_config_exercises_and_checks(config):
    basics = config.assignments["basics"]
    eigen = basics.exercise("eigen")
    assert eigen.file == "eigen.py" and eigen.module == "eigen"
    assert eigen.functions == ("matrix_from_eigendecomposition",)
    assert all(isinstance(c, CheckConfig) and c.visibility in ("public", "hidden") for c in eigen.checks)
    assert all(isinstance(c.points, float) and c.points >= 0 for e in basics.exercises for c in e.checks)
    with pytest.raises(KeyError):
        basics.exercise("no_such_exercise")


def test_real_config_answers_become_answer_configs(config):
    basics = config.assignments["basics"]
    answers = [a for e in basics.exercises for a in e.answers]
    assert answers and all(isinstance(a, AnswerConfig) for a in answers)
    eigen_matrix = basics.exercise("eigen").answers[0]
    assert eigen_matrix.key == "eigen_matrix"
    assert eigen_matrix.check_id == "answer_eigen_matrix"
    assert eigen_matrix.tolerance == pytest.approx(0.001)
    alexnet = basics.exercise("parameter_counting").answers[0]
    assert alexnet.check_id == "answer_alexnet_total_params" and alexnet.tolerance == 0


def test_real_config_defaults(config):
    basics = config.assignments["basics"]
    assert basics.limits.call_seconds > 0 and basics.limits.exercise_seconds >= basics.limits.call_seconds
    assert basics.max_examples >= 1 and basics.seed >= 0


# ---------------------------------------------------------------- broken copies


def write_config(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    raw = copy.deepcopy(RAW)
    for assignment in raw["assignments"].values():
        for key in ("templates", "reference"):
            assignment[key] = str((REAL.parent / assignment[key]).resolve())
    mutate(raw)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def at(raw: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    for key in keys:
        raw = raw[key]
    return raw


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message, f"not one line: {message!r}"
    return message


def test_unmodified_copy_loads(tmp_path):
    config = load_config(write_config(tmp_path, lambda raw: None))
    assert list(config.assignments) == list(load_config(REAL).assignments)


def test_unknown_key_suggests_the_right_one(tmp_path):
    def mutate(raw):
        check = at(raw, EIGENPAIRS)
        check["pointz"] = check.pop("points")

    message = error_of(write_config(tmp_path, mutate))
    assert "assignments.basics.exercises.eigen.checks.eigenpairs.pointz" in message
    assert "unknown key" in message and "did you mean 'points'" in message


def test_unknown_top_level_key(tmp_path):
    message = error_of(write_config(tmp_path, lambda raw: raw.__setitem__("defualts", {})))
    assert "defualts: unknown key (did you mean 'defaults'?)" in message


def test_unknown_key_without_close_match_has_no_suggestion(tmp_path):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, EIGEN).__setitem__("zzzzzz", 1)))
    assert "assignments.basics.exercises.eigen.zzzzzz: unknown key" in message
    assert "did you mean" not in message


@pytest.mark.parametrize(
    ("keys", "missing"),
    [
        (EIGEN, "title"),
        (EIGEN, "functions"),
        (EIGENPAIRS, "visibility"),
        (BASICS, "templates"),
    ],
)
def test_missing_required_key(tmp_path, keys, missing):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, keys).pop(missing)))
    assert f"{'.'.join(keys)}.{missing}: missing" in message


def test_missing_assignments(tmp_path):
    message = error_of(write_config(tmp_path, lambda raw: raw.pop("assignments")))
    assert "assignments: missing" in message


@pytest.mark.parametrize("points", ["two", -1, True, None, [2]], ids=["text", "negative", "bool", "null", "list"])
def test_points_must_be_a_non_negative_number(tmp_path, points):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, EIGENPAIRS).__setitem__("points", points)))
    assert "assignments.basics.exercises.eigen.checks.eigenpairs.points" in message
    assert "expected a number >= 0" in message and repr(points) in message


def test_answer_points_validated_too(tmp_path):
    path = write_config(tmp_path, lambda raw: at(raw, (*EIGEN, "answers", "eigen_matrix")).__setitem__("points", -2))
    assert "assignments.basics.exercises.eigen.answers.eigen_matrix.points" in error_of(path)


def test_answers_declare_the_form_the_course_states(config):
    forms = {a.key: (a.kind, a.shape) for assignment in config.assignments.values()
             for e in assignment.exercises for a in e.answers}
    assert forms == {
        "eigen_matrix": ("matrix", (2, 2)), "alexnet_total_params": ("integer", ()),
        "conv2d_a_stride1_pad0": ("matrix", (3, 3)), "conv2d_b_stride2_pad0": ("matrix", (2, 2)),
        "conv2d_c_stride2_pad1": ("matrix", (3, 3)), "attention_context_C": ("matrix", (2, 3)),
        "transformer_params_d128_ff512": ("integer", ()),
    }


@pytest.mark.parametrize(("change", "where", "problem"), [
    (lambda a: a.pop("shape"), "eigen_matrix.kind", "missing: say what the answer is"),
    (lambda a: a.update(kind="integer"), "eigen_matrix", "either 'shape' (a matrix) or 'kind'"),
    (lambda a: a.update(shape=[2, 0]), "eigen_matrix.shape", "expected a list of sizes like [2, 3], got [2, 0]"),
    (lambda a: a.update(shape="2x2"), "eigen_matrix.shape", "expected a list of sizes"),
    (lambda a: (a.pop("shape"), a.update(kind="matrix")), "eigen_matrix.kind", "expected 'integer' or 'number'"),
], ids=["no form", "both", "zero size", "text shape", "kind matrix"])
def test_an_answer_form_is_validated_naming_the_key(tmp_path, change, where, problem):
    message = error_of(write_config(tmp_path, lambda raw: change(at(raw, (*EIGEN, "answers", "eigen_matrix")))))
    assert f"assignments.basics.exercises.eigen.answers.{where}: " in message and problem in message


@pytest.mark.parametrize("points", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_points_nan_or_inf_rejected(tmp_path, points):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, EIGENPAIRS).__setitem__("points", points)))
    assert "eigenpairs.points" in message


@pytest.mark.parametrize("visibility", ["secret", "Public", None, True])
def test_visibility_must_be_public_or_hidden(tmp_path, visibility):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, EIGENPAIRS).__setitem__("visibility", visibility)))
    assert "assignments.basics.exercises.eigen.checks.eigenpairs.visibility" in message
    assert "'public' or 'hidden'" in message


def test_hint_levels_per_mode(config, tmp_path):
    assert config.assignments["ps5"].exercise("transformer_layer").hint_level("check") == "nudge"
    assert config.assignments["ps5"].exercise("transformer_layer").hint_level("grade") == "full"
    assert config.assignments["basics"].exercise("eigen").hint_level("check") == "full"
    message = error_of(write_config(tmp_path, lambda raw: at(raw, EIGEN).__setitem__("hints", {"check": "vague"})))
    assert "assignments.basics.exercises.eigen.hints.check" in message and "full, nudge, none" in message
    message = error_of(write_config(tmp_path, lambda raw: at(raw, EIGEN).__setitem__("hints", {"batch": "none"})))
    assert "eigen.hints.batch" in message


@pytest.mark.parametrize("file", ["eigen.txt", "eigen", "sub/eigen.py", ""])
def test_file_must_be_a_python_file_name(tmp_path, file):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, EIGEN).__setitem__("file", file)))
    assert "assignments.basics.exercises.eigen.file" in message


def test_duplicate_check_id_between_check_and_answer(tmp_path):
    def mutate(raw):
        at(raw, (*EIGEN, "checks"))["answer_eigen_matrix"] = {"points": 1, "visibility": "public"}

    message = error_of(write_config(tmp_path, mutate))
    assert "assignments.basics.exercises.eigen.checks.answer_eigen_matrix" in message
    assert "twice" in message


def test_templates_folder_missing(tmp_path):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, BASICS).__setitem__("templates", "no_such_dir")))
    assert "assignments.basics.templates" in message and "does not exist" in message


def test_relative_templates_resolve_against_the_config_folder(tmp_path):
    (tmp_path / "tmpl").mkdir()
    config = load_config(write_config(tmp_path, lambda raw: at(raw, BASICS).__setitem__("templates", "tmpl")))
    assert config.assignments["basics"].templates == tmp_path.resolve() / "tmpl"


def test_limits_validated(tmp_path):
    path = write_config(tmp_path, lambda raw: raw["defaults"]["limits"].__setitem__("call_seconds", 0))
    assert "defaults.limits.call_seconds" in error_of(path)


def test_max_examples_must_be_an_integer(tmp_path):
    path = write_config(tmp_path, lambda raw: at(raw, EIGENPAIRS).__setitem__("max_examples", 2.5))
    message = error_of(path)
    assert "eigenpairs.max_examples" in message and "integer" in message


def test_exercise_must_be_a_mapping(tmp_path):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, (*BASICS, "exercises")).__setitem__("eigen", "x")))
    assert "assignments.basics.exercises.eigen: expected a mapping" in message


def test_empty_assignments(tmp_path):
    message = error_of(write_config(tmp_path, lambda raw: raw.__setitem__("assignments", {})))
    assert "assignments" in message and "no assignment" in message


def test_null_assignments(tmp_path):
    message = error_of(write_config(tmp_path, lambda raw: raw.__setitem__("assignments", None)))
    assert "assignments" in message


def test_empty_exercises(tmp_path):
    message = error_of(write_config(tmp_path, lambda raw: at(raw, BASICS).__setitem__("exercises", {})))
    assert "assignments.basics.exercises" in message and "no exercise" in message


@pytest.mark.parametrize("keys", [("assignments",), (*BASICS, "exercises"), (*EIGEN, "checks")],
                         ids=["assignments", "exercises", "checks"])
def test_list_of_mappings_instead_of_mapping(tmp_path, keys):
    def mutate(raw):
        parent = at(raw, keys[:-1])
        parent[keys[-1]] = [{k: v} for k, v in parent[keys[-1]].items()]

    message = error_of(write_config(tmp_path, mutate))
    assert ".".join(keys) in message and "expected a mapping" in message


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("defaults:\n  limits: {call_seconds: 1}\nassignments: [unclosed\nother: 1\n", encoding="utf-8")
    message = error_of(path)
    assert "not valid YAML" in message and "(line 4)" in message


def test_tab_indentation_is_invalid_yaml(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("assignments:\n\tbasics: {}\n", encoding="utf-8")
    assert "line 2" in error_of(path)


def test_missing_file(tmp_path):
    message = error_of(tmp_path / "nope.yaml")
    assert "nope.yaml" in message and "cannot read" in message


def test_empty_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("", encoding="utf-8")
    assert "expected a mapping" in error_of(path)


# ---------------------------------------------------------------- loading.load_checks


def test_load_checks_matches_config(config):
    from grader.loading import load_checks

    basics = config.assignments["basics"]
    eigen = basics.exercise("eigen")
    assert set(load_checks(basics, eigen)) == {c.id for c in eigen.checks}


def test_check_in_config_but_not_declared(config):
    from grader.loading import load_checks

    basics = config.assignments["basics"]
    eigen = basics.exercise("eigen")
    extra = dataclasses.replace(eigen, checks=(*eigen.checks, CheckConfig("no_such_check", 1.0, "public")))
    with pytest.raises(ConfigError) as info:
        load_checks(basics, extra)
    assert "no_such_check" in str(info.value) and "assignments.basics.exercises.eigen" in str(info.value)


def test_declared_check_without_config_entry(config):
    from grader.loading import load_checks

    basics = config.assignments["basics"]
    eigen = basics.exercise("eigen")
    dropped = eigen.checks[0].id
    fewer = dataclasses.replace(eigen, checks=eigen.checks[1:])
    with pytest.raises(ConfigError) as info:
        load_checks(basics, fewer)
    assert repr(dropped) in str(info.value) and "config.yaml" in str(info.value)


def test_missing_checks_module(config):
    from grader.loading import load_checks

    basics = config.assignments["basics"]
    eigen = dataclasses.replace(basics.exercise("eigen"), id="no_such_exercise")
    with pytest.raises(ConfigError, match="no_such_exercise"):
        load_checks(basics, eigen)


def test_forbidden_may_name_the_functions_it_applies_to(tmp_path):
    def only_conv2d(raw: dict[str, Any]) -> None:
        raw["assignments"]["basics"]["exercises"]["conv2d"]["forbidden"] = {"conv2d": ["conv*"]}

    exercise = load_config(write_config(tmp_path, only_conv2d)).assignments["basics"].exercise("conv2d")
    assert exercise.forbidden_in("conv2d") == ("conv*",)
    assert exercise.forbidden_in("conv2d_layer") == ()

    def unknown_function(raw: dict[str, Any]) -> None:
        raw["assignments"]["basics"]["exercises"]["conv2d"]["forbidden"] = {"conv3d": ["conv*"]}

    with pytest.raises(ConfigError, match=r"conv2d\.forbidden\.conv3d: unknown key"):
        load_config(write_config(tmp_path, unknown_function))
