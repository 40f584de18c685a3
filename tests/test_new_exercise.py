"""The course author's path: a new exercise joins a copy of the course, and ``grader validate`` proves it.

The exercise (``tests/fixtures/new_exercise``: layer normalisation by hand, three catalogued
mistakes) is written with the author's verbs only, and nothing of the engine is touched: the
copy's config points its checks at a package of the copy, which holds the new module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from conftest import FIXTURES, REPO, run_cli

NEW = FIXTURES / "new_exercise"


def course_with_the_new_exercise(root: Path) -> Path:
    """A copy of the course (config, skeletons, references, the checks of basics) with the
    new exercise's files laid over it; returns the copy's config.yaml."""
    for folder in ("student_templates", "reference"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(NEW / folder, root / folder, dirs_exist_ok=True)
    package = root / "course_checks" / "basics"
    shutil.copytree(REPO / "grader" / "exercises" / "basics", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package.parent / "__init__.py").write_text("")
    shutil.copyfile(NEW / "checks" / "layer_norm.py", package / "layer_norm.py")
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    basics = raw["assignments"]["basics"]
    basics["checks"] = "course_checks.basics"
    basics["exercises"].update(yaml.safe_load((NEW / "config.yaml").read_text()))
    (root / "config.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return root / "config.yaml"


def test_a_new_exercise_is_validated_with_the_authors_verbs_only(tmp_path: Path) -> None:
    config = course_with_the_new_exercise(tmp_path / "course")
    env = {"PYTHONPATH": str(tmp_path / "course")}
    run = run_cli("validate", "--assignment", "basics", "--exercise", "layer_norm", "--config", config, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "reference: 4/4 points" in run.stdout
    assert "layer_norm: 3/3 catalogued mistakes caught, 3 of them named by a hint" in run.stdout
    assert run.stdout.rstrip().endswith("validation passed")
    skeleton = run_cli("grade", tmp_path / "course" / "student_templates" / "basics", "--assignment", "basics",
                       "--exercise", "layer_norm", "--config", config, json_path=tmp_path / "skeleton.json", env=env)
    assert skeleton.returncode == 0, skeleton.stderr
    assert skeleton.exercise_scores() == {"layer_norm": (0.0, 4.0)}
    assert all(t["extra_data"]["outcome"] == "missing" for t in skeleton.results["tests"])


def test_validate_names_an_exercise_the_assignment_does_not_have() -> None:
    run = run_cli("validate", "--assignment", "basics", "--exercise", "layer_norm")
    assert run.returncode == 2 and "assignment basics has no exercise 'layer_norm'" in run.stderr
