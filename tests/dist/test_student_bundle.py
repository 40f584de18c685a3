"""End to end: ``grader dist student`` for each assignment, installed and used as students will.

Each bundle is built once (both at once) with the real CLI, its wheel installed into a fresh
virtual environment that sees the system's torch (``--system-site-packages``) and nothing of
this repository; pip runs with ``PIP_NO_INDEX`` so that nothing can come from a network. The
system site-packages also holds an editable install of a checkout's grader: the venv's own
site-packages come first on ``sys.path``, and the tests prove that ``grader`` is imported from
there, in the version of the bundle, and that ``reference`` and the other assignment's checks
cannot be imported at all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import junitparser
import pytest
import yaml

from conftest import FIXTURES, REPO, cli_command, materialize
from leaks import bundle_files, find_leaks

ASSIGNMENTS = ("basics", "ps5")
# A handful of submissions per assignment: catalogued mistakes, broken work, the skeleton. For
# ps5 only the exercises they differ in (a whole ps5 check trains classifiers and runs ResNets).
SUBMISSIONS = {
    "basics": {"skeleton": REPO / "student_templates/basics", "example": REPO / "examples/basics",
               **{name: FIXTURES / "basics" / name for name in ("wrong_attention_no_scaling", "wrong_conv_flipped",
                                                                 "broken")}},
    "ps5": {"skeleton": REPO / "student_templates/ps5", "wrong_softmax_overflow": FIXTURES / "ps5/wrong_softmax_overflow"},
}
EXERCISES = {"basics": [], "ps5": ["--exercise", "softmax_temperature", "--exercise", "transformer_layer",
                                   "--exercise", "param_count"]}


def _exercises(assignment: str) -> tuple[Any, ...]:
    from grader.config import default_config_path, load_config

    return load_config(default_config_path()).assignments[assignment].exercises


def _not_judged(assignment: str) -> str:
    """The note of `grader check`, its points read from config.yaml."""
    exercises = _exercises(assignment)
    public = sum(c.points for e in exercises for c in e.checks if c.visibility == "public")
    total = sum(c.points for e in exercises for c in e.checks) + sum(a.points for e in exercises for a in e.answers)
    return (f"public checks: {public:g} of {total:g} points; hidden checks and the answers in answers.yaml "
            "are graded after submission")


def _clean_env(venv: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
        env["VIRTUAL_ENV"] = str(venv)
    return {**env, "NO_COLOR": "1", "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout)


def make_venv(target: Path) -> Path:
    """A fresh venv that sees the system's packages (torch) and uses the system's pip."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(target)], check=True)
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each assignment's bundle, built by the real CLI (both builds at once)."""
    root = tmp_path_factory.mktemp("bundles")
    with ThreadPoolExecutor(len(ASSIGNMENTS)) as pool:
        runs = {a: pool.submit(_run, cli_command("dist", "student", "--assignment", a, "--out", root / a,
                                                  "--zip", root / f"{a}.zip"), REPO, _clean_env())
                for a in ASSIGNMENTS}
    for assignment, run in runs.items():
        done = run.result()
        assert done.returncode == 0, done.stderr
        assert f"student bundle of {assignment}" in done.stdout
    return {a: root / a for a in ASSIGNMENTS}


@pytest.fixture(scope="module")
def venvs(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A venv per bundle with the bundle's wheel installed, from the bundle alone."""
    found = {}
    for assignment, bundle in built.items():
        venv = make_venv(tmp_path_factory.mktemp(f"venv-{assignment}"))
        wheel, = (bundle / "wheels").glob("*.whl")
        done = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                    bundle, _clean_env(venv))
        assert done.returncode == 0, done.stderr
        found[assignment] = venv
    return found


@pytest.fixture(scope="module")
def checked(venvs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], Any]:
    """results.json of ``grader check`` on every chosen submission, in the repository and in the bundle."""
    root = tmp_path_factory.mktemp("checked")
    jobs = {}
    for assignment, names in SUBMISSIONS.items():
        for name in names:
            folder = materialize(SUBMISSIONS[assignment][name], root / assignment / name)
            for where in ("repository", "bundle"):
                out = root / f"{assignment}-{name}-{where}.json"
                options = ["--assignment", assignment, *EXERCISES[assignment], "--json", str(out)]
                if where == "repository":
                    command, cwd, env = cli_command("check", folder, *options), REPO, _clean_env()
                else:
                    command, cwd, env = ([str(venvs[assignment] / "bin" / "grader"), "check", *options], folder,
                                         _clean_env(venvs[assignment]))
                jobs[(assignment, name, where)] = (command, cwd, env, out)
    with ThreadPoolExecutor(2) as pool:
        runs = {key: pool.submit(_run, command, cwd, env) for key, (command, cwd, env, _) in jobs.items()}
    results = {}
    for key, run in runs.items():
        done = run.result()
        assert done.returncode == 0, (key, done.stderr)
        results[key] = {"results": json.loads(jobs[key][3].read_text()), "stdout": done.stdout}
    return results


def test_bundle_holds_the_allow_list_and_nothing_else(built: dict[str, Path], config) -> None:  # type: ignore[no-untyped-def]
    for assignment, bundle in built.items():
        spec = config.assignments[assignment]
        names = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()}
        expected = {e.file for e in spec.exercises} | set(spec.provided) | {
            "answers.yaml", "README.md", ".github/workflows/grader.yml", ".gitlab-ci.yml",
            f"wheels/grader-0.1.0+{assignment}-py3-none-any.whl"}
        assert names == expected
        assert all(v is None for v in yaml.safe_load((bundle / "answers.yaml").read_text()).values())
        members = [name.split("!", 1)[1] for name, _ in bundle_files(bundle) if "!" in name and ".whl!" in name]
        exercise_modules = {m for m in members if m.startswith("grader/exercises/")}
        assert exercise_modules == {"grader/exercises/__init__.py", f"grader/exercises/{assignment}/__init__.py",
                                    *(f"grader/exercises/{assignment}/{e.id}.py" for e in spec.exercises)}
        assert not [m for m in members if m.startswith(("reference", "student_templates", "tests"))]


def test_no_leak_in_any_bundle(built: dict[str, Path], config) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    for assignment, bundle in built.items():
        assert find_leaks(bundle, REPO, config) == []
        with zipfile.ZipFile(bundle.parent / f"{assignment}.zip") as archive:
            zipped = {name: archive.read(name) for name in archive.namelist()}
        assert zipped == {f"{assignment}/{p.relative_to(bundle)}": p.read_bytes()
                          for p in bundle.rglob("*") if p.is_file()}


def _add_to_wheel(bundle: Path, member: str, data: str) -> None:
    import zipfile

    wheel, = (bundle / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr(member, data)


def _planted_body() -> str:
    """A reference function renamed, re-laid-out and commented: the same AST body."""
    import ast

    tree = ast.parse((REPO / "reference/basics/attention.py").read_text())
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "scaled_dot_product_attention")
    function.name = "helper"
    return "# nothing to see here\n" + ast.unparse(function).replace("    ", "  ") + "\n"


def _planted_mistake() -> str:
    import ast

    tree = ast.parse((REPO / "reference/ps5/mistakes/softmax_temperature.py").read_text())
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and len(n.body) > 1)
    return ast.unparse(function) + "\n"


PLANTS = {
    "body": lambda bundle: _add_to_wheel(bundle, "grader/exercises/basics/extra.py", _planted_body()),
    "mistake-body": lambda bundle: (bundle / "tips.py").write_text(_planted_mistake()),
    "file": lambda bundle: shutil.copyfile(REPO / "reference/basics/eigen.py", bundle / "notes.txt"),
    "hidden-check": lambda bundle: _add_to_wheel(
        bundle, "grader/exercises/basics/more.py", "@check('count_matches_reference', 'x')\ndef f(ctx): pass\n"),
    "answer": lambda bundle: (bundle / "README.md").write_text("AlexNet has 61,100,840 parameters.\n"),
}


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_leak_check_finds_each_planted_leak(built: dict[str, Path], config, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    copy = Path(shutil.copytree(built["basics"], tmp_path / "bundle"))
    PLANTS[kind](copy)
    kinds = {found for found, _ in find_leaks(copy, REPO, config)}
    assert kinds == {"body" if kind == "mistake-body" else kind}


def test_installed_grader_is_the_bundles(venvs: dict[str, Path], built: dict[str, Path], tmp_path: Path) -> None:
    probe = ("import grader, importlib.metadata, importlib.util, json, sys;"
             "print(json.dumps([grader.__file__, importlib.metadata.version('grader'),"
             " importlib.util.find_spec('reference') is None, sys.argv[1],"
             " [m for m in ('ps5', 'basics') if importlib.util.find_spec('grader.exercises.' + m)]]))")
    for assignment, venv in venvs.items():
        done = _run([str(venv / "bin" / "python"), "-c", probe, assignment], tmp_path, _clean_env(venv))
        path, version, no_reference, _, checks = json.loads(done.stdout)
        assert Path(path).is_relative_to(venv), path
        assert version == f"0.1.0+{assignment}" and no_reference and checks == [assignment]


def test_grade_and_validate_fail_cleanly_in_the_bundle(venvs: dict[str, Path], built: dict[str, Path]) -> None:
    venv = venvs["basics"]
    for command in (["grade", ".", "--assignment", "basics"], ["validate"], ["batch", ".", "--assignment", "basics",
                                                                               "--out", "graded"]):
        done = _run([str(venv / "bin" / "grader"), *command], built["basics"], _clean_env(venv))
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "student bundle" in done.stderr and "grader check" in done.stderr


def _scores(results: dict[str, Any]) -> dict[tuple[str, str], float]:
    return {(t["extra_data"]["exercise"], t["extra_data"]["check"]): t["score"] for t in results["tests"]}


def _mistakes(results: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(t["extra_data"]["exercise"], t["extra_data"]["check"]): t["extra_data"]["mistake"]
            for t in results["tests"] if t["extra_data"].get("mistake")}


def test_bundle_gives_the_repository_scores_and_hints(checked: dict[tuple[str, str, str], Any]) -> None:
    named, same = 0, 0
    for assignment, names in SUBMISSIONS.items():
        for name in names:
            repo, bundle = checked[(assignment, name, "repository")], checked[(assignment, name, "bundle")]
            assert _scores(bundle["results"]) == _scores(repo["results"]), (assignment, name)
            if _mistakes(repo["results"]):
                named += 1
                same += _mistakes(bundle["results"]) == _mistakes(repo["results"])
    print(f"\nfixtures where the repository names a mistake: {named}; the bundle names the same: {same}")
    assert named >= 3 and same >= 0.9 * named


def test_check_says_what_it_did_not_judge(checked: dict[tuple[str, str, str], Any]) -> None:
    for where in ("repository", "bundle"):
        run = checked[("basics", "skeleton", where)]
        note = _not_judged("basics")
        assert note in run["stdout"] and note in run["results"]["output"]


def _laid_over(bundle: Path, fixture: Path, target: Path) -> Path:
    """A student's repository: the bundle as handed out, with the student's files laid over it."""
    shutil.copytree(bundle, target)
    submission = materialize(fixture, target.parent / "submission")
    for path in submission.iterdir():
        shutil.copyfile(path, target / path.name)
    return target


def test_github_workflow_steps_report_junit_and_summary(built: dict[str, Path], tmp_path: Path) -> None:
    repository = _laid_over(built["basics"], FIXTURES / "basics" / "wrong_attention_no_scaling", tmp_path / "repo")
    workflow = yaml.safe_load((repository / ".github/workflows/grader.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert not any("classroom" in str(step).lower() or "autograding" in str(step).lower() for step in steps)
    venv = make_venv(tmp_path / "venv")
    summary = tmp_path / "step_summary.md"
    env = _clean_env(venv, GITHUB_STEP_SUMMARY=str(summary))
    for step in steps:
        if "run" in step:
            done = _run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], repository, env)
            assert done.returncode == 0, (step.get("name"), done.stderr)
    junit = junitparser.JUnitXml.fromfile(str(repository / "grader-junit.xml"))
    cases = [case for suite in junit for case in suite]
    failed = {case.name for case in cases if case.result}
    # check judges the public checks and the form of every answer in answers.yaml.
    public = [c.id for e in _exercises("basics") for c in e.checks if c.visibility == "public"]
    answers = [a.check_id for e in _exercises("basics") for a in e.answers]
    assert sorted(case.name for case in cases) == sorted(public + answers)
    assert failed == {"matches_torch", "masked_matches_torch"}
    text = summary.read_text()
    assert "### Failed checks (2)" in text and "attention · matches_torch" in text
    assert "smallest failing input: Q = " in text and "hint: Your output matches attention without the scaling" in text
    assert len(text.encode()) < 64 * 1024
    uploads = [step for step in steps if "upload-artifact" in step.get("uses", "")]
    assert uploads and uploads[0]["if"] == "always()"
    assert "# --fail-under" in next(step["run"] for step in steps if "grader check" in step.get("run", ""))


def test_gitlab_job_keeps_the_junit_report_always(built: dict[str, Path]) -> None:
    text = (built["basics"] / ".gitlab-ci.yml").read_text()
    job = yaml.safe_load(text)["grader"]
    check = next(line for line in job["script"] if line.startswith("grader check"))
    assert "--junit grader-junit.xml" in check and "--markdown grader-summary.md" in check
    assert f"{check}  # --fail-under" in text  # a YAML comment: the course chooses whether to fail the job
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["reports"]["junit"] == "grader-junit.xml"
    wheel, = (built["basics"] / "wheels").glob("*.whl")
    assert any(line.endswith(f"./wheels/{wheel.name}") for line in job["script"])
