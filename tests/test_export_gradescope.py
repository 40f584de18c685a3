"""End to end: ``grader export gradescope``, then the zip used the way Gradescope uses it.

The zip is unpacked into a temporary root laid out like Gradescope's (``source/`` holding the
zip's contents, ``submission/``, ``results/``, and ``run_autograder`` copied beside them),
``setup.sh`` builds a fresh virtual environment, ``run_autograder`` grades a fixture submission,
and ``results.json`` is validated against a JSON schema of Gradescope's documented format.

How the test stands in for the network install: the virtual environment is made with
``--system-site-packages --without-pip``, so this machine's installed packages play PyPI and
PyTorch's CPU index (pip and setuptools included: the venv's own bundled, older ones would
shadow them), and pip runs offline (``PIP_NO_INDEX``, an empty local wheel folder, no pip
configuration). Every pinned requirement must therefore already be satisfied by exactly the
version installed here, or setup.sh fails: the pins are the versions this checkout is tested
with. apt (Python's own package) is skipped with ``GRADER_APT=0``. What cannot be shown here
is the download itself: that PyTorch's CPU index serves these versions for this Python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, materialize, run_cli

OUTPUT_FORMATS = ["text", "html", "simple_format", "md", "ansi"]
VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]
# Gradescope's results.json, from its autograder specification: every documented field with
# its type, and the allowed values; "max_score" at the top level is this project's contract
# (interface.md). Unknown fields are refused, so that a misspelt one cannot pass unseen.
TEST_SCHEMA = {
    "type": "object",
    "required": ["name", "score", "max_score", "status", "output", "visibility"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string"},
        "name_format": {"enum": OUTPUT_FORMATS},
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": {"enum": OUTPUT_FORMATS},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
    },
}
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": OUTPUT_FORMATS},
        "test_output_format": {"enum": OUTPUT_FORMATS},
        "test_name_format": {"enum": OUTPUT_FORMATS},
        "visibility": {"enum": VISIBILITIES},
        "stdout_visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST_SCHEMA},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}},
    },
}
ERROR_TEST = "Autograder error (not your fault)"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "basics-gradescope.zip"
    run = run_cli("export", "gradescope", "--assignment", "basics", "--out", out)
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def venv(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The environment setup.sh built, offline (see the module's docstring)."""
    build = tmp_path_factory.mktemp("build")
    source = _unpack(exported, build)
    wheels = build / "wheels"
    wheels.mkdir()
    env = {**_env(build / "venv"), "GRADER_APT": "0", "GRADER_PYTHON": sys.executable,
           "GRADER_VENV_OPTIONS": "--system-site-packages --without-pip",
           "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_CONFIG_FILE": os.devnull}
    setup = subprocess.run(["bash", "setup.sh"], cwd=source, env=env, capture_output=True, text=True, timeout=900)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    return build / "venv"


def _env(venv: Path, **extra: str) -> dict[str, str]:
    # The machine's own pip settings (local indexes and wheel folders) stay out of it.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "GRADER_", "PYTHON"))}
    return {**env, "GRADER_VENV": str(venv), **extra}


def _unpack(zip_path: Path, root: Path) -> Path:
    """The zip as Gradescope lays it out: its contents in ``root/source``, modes kept."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(source)
        for info in archive.infolist():
            (source / info.filename).chmod((info.external_attr >> 16) & 0o777)
    return source


def _autograder_root(exported: Path, root: Path, submission: Path | None) -> Path:
    """A fresh /autograder: source/, run_autograder copied from it, submission/, results/."""
    source = _unpack(exported, root)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    if submission is not None:
        # Uploaded as a zipped folder: Gradescope unpacks it into one folder under submission/.
        materialize(submission, root / "submission" / "my-work")
    return root


def _run_autograder(root: Path, venv: Path, **extra: str) -> dict:
    run = subprocess.run(["bash", str(root / "run_autograder")], env=_env(venv, GRADER_AUTOGRADER_ROOT=str(root), **extra),
                         cwd=root, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    return results


def test_zip_has_the_two_scripts_at_its_root_and_pins_the_tested_torch(exported: Path) -> None:
    import torch
    import torchvision

    with zipfile.ZipFile(exported) as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        torch_pins = archive.read("requirements-torch.txt").decode().split()
        setup = archive.read("setup.sh").decode()
        config = archive.read("config.yaml").decode()
    assert {"setup.sh", "run_autograder", "README.md", "config.yaml", "grader/cli.py"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "reference/basics/attention.py" in names and not any(n.startswith("reference/ps5") for n in names)
    assert "ps5" not in config
    base = lambda v: v.split("+")[0]  # noqa: E731 (the local label: +cpu there, +cu130 here, say)
    assert torch_pins == [f"torch=={base(torch.__version__)}", f"torchvision=={base(torchvision.__version__)}"]
    assert "set -euo pipefail" in setup and "--index-url https://download.pytorch.org/whl/cpu" in setup


def test_setup_installs_the_grader_from_the_zip(venv: Path, exported: Path) -> None:
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import grader; print(grader.__file__)"],
                           cwd="/", env=_env(venv), capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).parent == venv.parent / "source" / "grader"


def test_run_autograder_grades_the_submission_with_every_check(venv: Path, exported: Path,
                                                               tmp_path: Path, basics) -> None:  # type: ignore[no-untyped-def]
    root = _autograder_root(exported, tmp_path, FIXTURES / "basics" / "wrong_attention_no_scaling")
    results = _run_autograder(root, venv)
    tests = results["tests"]
    expected = {(e.id, c.id): c.visibility for e in basics.exercises for c in e.checks}
    graded = {(t["extra_data"]["exercise"], t["extra_data"]["check"]): t for t in tests}
    assert {key: expected[key] for key in graded if key in expected} == expected  # hidden ones too
    assert all(graded[key]["visibility"] == {"public": "visible", "hidden": "after_published"}[v]
               for key, v in expected.items())
    lost = {t["extra_data"]["exercise"] for t in tests if t["status"] == "failed"}
    assert lost == {"attention"}
    assert results["score"] == results["max_score"] - sum(t["max_score"] for t in tests if t["status"] == "failed")
    assert results["stdout_visibility"] == "hidden"
    # As root here the sandbox reaches every layer, the unprivileged user included.
    assert "isolation level full" in results["output"] and "unprivileged-uid" in results["output"]
    assert not (root / "results" / ".results.graded.json").exists()


def _assert_error_result(results: dict, what: str) -> None:
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    assert results["score"] == 0 and [t["name"] for t in visible] == [ERROR_TEST]
    assert visible[0]["max_score"] == results["max_score"] > 0
    staff = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert len(staff) == 1 and what in staff[0]["output"]


def test_a_grader_that_fails_still_writes_a_valid_error_result(venv: Path, exported: Path, tmp_path: Path) -> None:
    root = _autograder_root(exported, tmp_path, FIXTURES / "basics" / "alt_correct")
    (root / "source" / "grader" / "grading.py").write_text('raise RuntimeError("broken on purpose")\n')
    _assert_error_result(_run_autograder(root, venv), "RuntimeError: broken on purpose")


def test_a_grader_stopped_at_the_deadline_still_writes_a_valid_error_result(venv: Path, exported: Path,
                                                                            tmp_path: Path) -> None:
    root = _autograder_root(exported, tmp_path, FIXTURES / "basics" / "alt_correct")
    _assert_error_result(_run_autograder(root, venv, GRADER_DEADLINE="1"), "stopped at run_autograder's deadline")


def test_export_refuses_an_unknown_assignment(tmp_path: Path) -> None:
    run = run_cli("export", "gradescope", "--assignment", "nope", "--out", tmp_path / "x.zip")
    assert run.returncode == 2 and "unknown assignment 'nope'" in run.stderr
    assert not (tmp_path / "x.zip").exists()
