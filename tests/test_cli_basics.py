"""End to end: the real CLI on real fixture submissions of assignment ``basics``.

The submissions are graded concurrently once per session (each run imports torch), then
each test reads what its run produced.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, CliRun, assert_scores_as_recorded, finish, materialize, points, run_cli, start_cli
from grader.cli import _require_isolation
from grader.errors import GraderError

SUBMISSIONS = {
    "reference": REPO / "reference" / "basics",
    "skeleton": REPO / "student_templates" / "basics",
    "example": REPO / "examples" / "basics",
    **{p.name: p for p in sorted((FIXTURES / "basics").iterdir()) if p.is_dir()},
}
FULL = {e: (points("basics", e), points("basics", e)) for e in ("eigen", "parameter_counting", "conv2d", "attention")}
TOTAL = points("basics")


@pytest.fixture(scope="session")
def graded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graded")


@pytest.fixture(scope="session")
def graded(graded_dir: Path) -> dict[str, CliRun]:
    out = graded_dir
    runs = {}
    for name, fixture in SUBMISSIONS.items():
        folder = materialize(fixture, out / "submissions" / name)
        # A budget that the endless loop spends in one call of 10 s (spinning a core all along) and
        # that the correct exercises of the same submission cannot come near, however busy the machine.
        extra = ["--timeout", "10"] if name == "endless_loop" else []
        runs[name] = (start_cli("grade", folder, "--assignment", "basics", "--json", out / f"{name}.json",
                                "--html", out / f"{name}.html", "--junit", out / f"{name}.xml", *extra),
                      out / f"{name}.json")
    return {name: finish(process, path) for name, (process, path) in runs.items()}


def _configured_checks(basics) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(e.id, c.id) for e in basics.exercises for c in e.checks} | {
        (e.id, a.check_id) for e in basics.exercises for a in e.answers}


def test_reference_gets_full_marks_with_one_test_per_check(graded, basics) -> None:  # type: ignore[no-untyped-def]
    run = graded["reference"]
    assert run.returncode == 0, run.stderr
    assert run.results["score"] == run.results["max_score"] == TOTAL
    assert {(t["extra_data"]["exercise"], t["extra_data"]["check"]) for t in run.results["tests"]} == _configured_checks(basics)
    assert len(run.results["tests"]) == len(_configured_checks(basics))
    assert all(t["status"] == "passed" for t in run.results["tests"])
    assert "isolation level " in run.results["output"] and "process boundary, session" in run.results["output"]


def test_skeleton_scores_zero_without_grader_errors(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["skeleton"]
    assert run.returncode == 0
    assert run.results["score"] == 0
    assert not [t for t in run.results["tests"] if t["extra_data"]["outcome"] == "grader-error"]
    code_checks = [t for t in run.results["tests"] if not t["extra_data"]["check"].startswith("answer_")]
    assert all("not implemented yet" in t["output"] for t in code_checks)
    answers = [t for t in run.results["tests"] if t["extra_data"]["check"].startswith("answer_")]
    assert all("no answer yet" in t["output"] and t["extra_data"]["outcome"] == "missing" for t in answers)


def test_correct_solutions_written_differently_get_full_marks(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["alt_correct"]
    assert run.exercise_scores() == FULL, [t["output"] for t in run.results["tests"] if t["status"] == "failed"]


@pytest.mark.parametrize(("name", "exercise", "mistake"), [
    ("wrong_attention_no_scaling", "attention", "no_scaling"),
    ("wrong_conv_flipped", "conv2d", "layer_flipped_kernel"),
])
def test_wrong_solutions_lose_points_in_their_exercise_only(graded, name, exercise, mistake) -> None:  # type: ignore[no-untyped-def]
    scores = graded[name].exercise_scores()
    assert scores[exercise][0] < scores[exercise][1]
    assert {k: v for k, v in scores.items() if k != exercise} == {k: v for k, v in FULL.items() if k != exercise}
    named = {t["extra_data"]["mistake"] for t in graded[name].results["tests"]}
    assert mistake in named or any(m and "flipped" in m for m in named)


def test_the_mistake_is_named_with_its_hint(graded) -> None:  # type: ignore[no-untyped-def]
    test = graded["wrong_attention_no_scaling"].test("attention", "matches_torch")
    assert test["status"] == "failed"
    assert test["extra_data"]["mistake"] == "no_scaling"
    assert "hint:" in test["output"] and "sqrt" in test["output"]
    assert "smallest failing input: Q = " in test["output"]
    assert "reproduce: grader grade" in test["output"]


def test_forbidden_convolution_scores_nothing_for_those_functions(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["forbidden_conv"]
    for check in ("single_channel_matches_torch", "layer_matches_torch", "matches_reference"):
        test = run.test("conv2d", check)
        assert test["score"] == 0
        assert "asks you to write by hand" in test["output"] and "conv2d" in test["output"]
    assert {k: v for k, v in run.exercise_scores().items() if k != "conv2d"} == {
        k: v for k, v in FULL.items() if k != "conv2d"}


def test_partial_submission_missing_file_and_unfinished_skeleton(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["partial"]
    scores = run.exercise_scores()
    assert scores["eigen"] == FULL["eigen"] and scores["parameter_counting"] == FULL["parameter_counting"]
    assert scores["conv2d"][0] == 0 and scores["attention"][0] == 0
    assert "no file attention.py" in run.test("attention", "matches_torch")["output"]
    assert "not implemented yet" in run.test("conv2d", "single_channel_matches_torch")["output"]
    assert run.returncode == 0


def test_monkeypatching_torch_and_returning_zeros_gets_nothing(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["hostile_allclose"]
    assert run.results["score"] == 0, [t["extra_data"]["check"] for t in run.results["tests"] if t["score"]]


def test_endless_loop_costs_its_exercise_only_and_the_run_finishes(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["endless_loop"]
    assert run.returncode == 0
    test = run.test("conv2d", "single_channel_matches_torch")
    assert test["score"] == 0 and "time limit" in test["output"]
    # The others keep budgets of their own: each passes checks, and only a machine busy enough to
    # use one up costs it checks, each ended by its own time limit and saying so.
    others = [t for t in run.results["tests"] if t["extra_data"]["exercise"] != "conv2d"]
    assert all(t["extra_data"]["outcome"] in ("timeout", "time-budget") and "time limit" in t["output"]
               for t in others if t["status"] != "passed")
    assert {t["extra_data"]["exercise"] for t in others if t["status"] == "passed"
            and not t["extra_data"]["check"].startswith("answer_")} == set(FULL) - {"conv2d"}


def test_example_submission_loses_points_where_its_bugs_are(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["example"]
    scores = run.exercise_scores()
    assert scores["eigen"] == FULL["eigen"] and scores["parameter_counting"] == FULL["parameter_counting"]
    assert scores["conv2d"][0] < FULL["conv2d"][1] and scores["attention"][0] < FULL["attention"][1]
    mistakes = {t["extra_data"]["mistake"] for t in run.results["tests"]}
    assert {"padding_one_side", "softmax_over_queries"} <= mistakes


def test_every_run_writes_json_html_and_junit(graded, graded_dir: Path) -> None:  # type: ignore[no-untyped-def]
    import xml.etree.ElementTree as ET

    for name, run in graded.items():
        assert run.results is not None, f"{name}: {run.stderr}"
        html = (graded_dir / f"{name}.html").read_text()
        assert "<script" not in html and "http://" not in html and "https://" not in html
        assert f"{run.results['score']:g} / {run.results['max_score']:g}" in html
        root = ET.parse(graded_dir / f"{name}.xml").getroot()
        assert len(root.findall(".//testcase")) == len(run.results["tests"])
        failures = len(root.findall(".//failure")) + len(root.findall(".//error"))
        assert failures == sum(t["status"] == "failed" for t in run.results["tests"])


def test_terminal_summary_reads_at_a_glance(graded) -> None:  # type: ignore[no-untyped-def]
    text = graded["example"].stdout
    assert "Total: " in text and f"/{TOTAL:g} points" in text
    assert "What to look at" in text
    assert "conv2d · single_channel_matches_torch" in text


def test_check_runs_public_checks_and_recognises_the_assignment(tmp_path: Path) -> None:
    run = run_cli("check", REPO / "examples" / "basics", json_path=tmp_path / "r.json")
    assert run.returncode == 0, run.stderr
    assert run.results["extra_data"]["assignment"] == "basics"
    assert run.results["extra_data"]["mode"] == "check"
    assert {t["visibility"] for t in run.results["tests"]} == {"visible"}
    answers = [t for t in run.results["tests"] if t["extra_data"]["check"].startswith("answer_")]
    # Judged on their form only, so worth nothing here: their value is graded later.
    assert len(answers) == 6 and all(t["status"] == "passed" and t["max_score"] == 0 for t in answers)
    assert "grader check" in run.test("attention", "matches_torch")["output"]


def test_check_wraps_every_description_to_the_terminal_and_cuts_none() -> None:
    from grader.config import default_config_path, load_config
    from grader.loading import load_checks

    run = run_cli("check", "examples/basics", "-e", "conv2d", "-e", "attention", env={"COLUMNS": "72"})
    assert run.returncode == 0, run.stderr
    table = run.stdout[:run.stdout.index("What to look at")]
    rows = [line for line in table.splitlines() if line.startswith(("  ✓", "  ✗", " " * 20))]
    assert "…" not in table and rows and all(len(line) <= 72 for line in rows)
    words = " ".join(table.split())
    basics = load_config(default_config_path()).assignments["basics"]
    chosen = [e for e in basics.exercises if e.id in ("conv2d", "attention")]
    descriptions = [c for e in chosen for c in e.checks if c.visibility == "public"]
    specs = {check_id: spec for e in chosen for check_id, spec in load_checks(basics, e).items()}
    # Each description whole, as the check declares it, however narrow the terminal.
    for check in descriptions:
        assert " ".join(specs[check.id].description.split()) in words, check.id
    assert "s grading)" in run.stdout.splitlines()[1]  # the wall time waited, and the grading part of it


def test_check_in_the_current_folder_works_without_the_reference(tmp_path: Path) -> None:
    """A student bundle has no reference/: `grader check` must not need it."""
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(REPO, bundle, ignore=shutil.ignore_patterns("reference", "tests", ".git", "*.egg-info"))
    submission = bundle / "mine"
    shutil.copytree(REPO / "examples" / "basics", submission)
    # The bundle's own grader, whichever one an editable install points at.
    run = finish(start_cli("check", "--config", bundle / "config.yaml", "--json", tmp_path / "r.json", cwd=submission,
                           env={"PYTHONPATH": str(bundle)}), tmp_path / "r.json")
    assert run.returncode == 0, run.stderr
    assert run.exercise_scores()["eigen"] == (3.0, 3.0)
    assert not [t for t in run.results["tests"] if t["extra_data"]["outcome"] == "grader-error"]


def test_exercise_filter_and_seed_make_runs_reproducible(tmp_path: Path) -> None:
    runs = [run_cli("grade", REPO / "examples" / "basics", "-a", "basics", "--exercise", "attention", "--seed", "7",
                    json_path=tmp_path / f"r{i}.json") for i in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert set(run.exercise_scores()) == {"attention"}
        assert run.results["extra_data"]["seed"] == 7
    outputs = [[(t["name"], t["status"], t["output"]) for t in run.results["tests"]] for run in runs]
    assert outputs[0] == outputs[1]
    assert "--seed 7" in runs[0].test("attention", "matches_torch")["output"]


@pytest.mark.parametrize(("threshold", "status"), [("100%", 1), (f"{TOTAL:g}", 1), ("5", 0), ("20%", 0)])
def test_fail_under_sets_the_exit_status(tmp_path: Path, threshold: str, status: int) -> None:
    run = run_cli("grade", REPO / "examples" / "basics", "-a", "basics", "-e", "eigen", "-e", "attention",
                  "--fail-under", threshold, json_path=tmp_path / "r.json")
    assert run.returncode == status, run.stderr
    assert run.results is not None


@pytest.mark.parametrize("args", [
    ("grade", "examples/basics", "--assignment", "nope"),
    ("grade", "no/such/folder", "--assignment", "basics"),
    ("grade", "examples/basics"),
    ("grade", "examples/basics", "-a", "basics", "--exercise", "nope"),
    ("grade", "examples/basics", "-a", "basics", "--timeout", "-3"),
    ("grade", "examples/basics", "-a", "basics", "--json", "no/such/dir/r.json"),
    ("check", "tests"),
    ("frobnicate",),
])
def test_commands_that_cannot_run_exit_2_with_one_line(args: tuple[str, ...]) -> None:
    run = run_cli(*args)
    assert run.returncode == 2
    assert run.stderr.startswith("grader: ") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr


def test_a_broken_config_names_the_key(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load((REPO / "config.yaml").read_text())
    data["assignments"]["basics"]["exercises"]["eigen"]["checks"]["eigenpairs"]["pointz"] = 2
    data["assignments"]["basics"]["templates"] = str(REPO / "student_templates" / "basics")
    bad = tmp_path / "config.yaml"
    bad.write_text(yaml.safe_dump(data))
    run = run_cli("grade", "examples/basics", "-a", "basics", "--config", bad)
    assert run.returncode == 2
    assert "assignments.basics.exercises.eigen.checks.eigenpairs.pointz: unknown key (did you mean 'points'?)" in run.stderr


def test_python_dash_m_and_the_console_script_agree() -> None:
    import subprocess

    version = subprocess.run(["grader", "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("grader ") and version == run_cli("--version").stdout


def test_broken_files_are_failed_checks_with_clear_messages(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["broken"]
    # Only the answers.yaml entry that does not parse is lost: the AlexNet count on the next line counts.
    assert run.returncode == 0 and run.results["score"] == 1
    assert run.test("parameter_counting", "answer_alexnet_total_params")["status"] == "passed"
    assert not [t for t in run.results["tests"] if t["extra_data"]["outcome"] == "grader-error"]
    syntax = run.test("eigen", "symmetric_with_trace")["output"]
    assert "eigen.py could not be imported: SyntaxError: expected ':'" in syntax
    assert 'File "eigen.py", line 2' in syntax and "frozen" not in syntax and "/tmp" not in syntax
    assert "RuntimeError: oops at import" in run.test("parameter_counting", "count_known_models")["output"]
    assert "got a set ({1, 2}), expected a tensor" in run.test("conv2d", "single_channel_matches_torch")["output"]
    assert "codec can't decode" in run.test("attention", "matches_torch")["output"]
    answer = run.test("eigen", "answer_eigen_matrix")
    assert answer["extra_data"]["outcome"] == "unreadable"
    assert "answers.yaml could not read 'eigen_matrix': line 1: a '[' that is never closed" in answer["output"]
    assert "the same as above" in run.stdout


def test_require_isolation_full_is_reached_as_root_and_refused_otherwise(tmp_path: Path) -> None:
    run = run_cli("grade", "reference/basics", "-a", "basics", "-e", "eigen", "--require-isolation", "full",
                  json_path=tmp_path / "r.json")
    if os.geteuid() == 0 and sys.platform.startswith("linux"):
        assert run.returncode == 0 and run.results["score"] == run.results["max_score"]
        assert "isolation level full:" in run.results["output"] and "not available" not in run.results["output"]
    else:
        assert run.returncode == 2 and run.results is None
        assert run.stderr.startswith("grader: isolation level 'full' required") and run.stderr.count("\n") == 1


def test_require_isolation_names_the_missing_layers() -> None:
    with pytest.raises(GraderError, match=r"'full' required, this machine reaches 'network' \(missing: process-tree, "
                                          r"cgroup, private-files, unprivileged-uid\)"):
        _require_isolation("full", ("session", "limits", "no-network"))
    _require_isolation("process", ("session", "limits"))


def test_every_check_scores_as_recorded(graded) -> None:  # type: ignore[no-untyped-def]
    # The endless loop's other exercises may lose checks to their time limits on a busy machine.
    assert_scores_as_recorded({name: run for name, run in graded.items() if name != "endless_loop"}, "basics")
