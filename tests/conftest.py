"""Shared fixtures: the repository, its config, a sandbox, and running the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


@dataclass(frozen=True)
class CliRun:
    """One run of ``python -m grader``: exit status, output and the results.json it wrote."""

    returncode: int
    stdout: str
    stderr: str
    results: dict[str, Any] | None

    def exercise_scores(self) -> dict[str, tuple[float, float]]:
        assert self.results is not None
        scores: dict[str, list[float]] = {}
        for test in self.results["tests"]:
            entry = scores.setdefault(test["extra_data"]["exercise"], [0.0, 0.0])
            entry[0] += test["score"]
            entry[1] += test["max_score"]
        return {k: (v[0], v[1]) for k, v in scores.items()}

    def test(self, exercise: str, check: str) -> dict[str, Any]:
        assert self.results is not None
        for test in self.results["tests"]:
            if test["extra_data"]["exercise"] == exercise and test["extra_data"]["check"] == check:
                return test
        raise KeyError(f"{exercise}.{check}")


SCORES = FIXTURES / "scores"


def check_scores(run: CliRun) -> dict[str, float]:
    """The score of every check of one run, keyed ``exercise.check``."""
    assert run.results is not None, run.stderr
    return {f"{t['extra_data']['exercise']}.{t['extra_data']['check']}": t["score"] for t in run.results["tests"]}


def assert_scores_as_recorded(runs: dict[str, CliRun], record: str) -> None:
    """Every run scores each check exactly as ``tests/fixtures/scores/<record>.json`` says.

    A refactoring of the engine or the checks must not move a single point. After a change that
    means to (a new check, a stricter one), write the record anew and review its diff:
    ``GRADER_RECORD_SCORES=1 python3 -m pytest tests/test_cli_basics.py tests/test_cli_ps5.py tests/test_contract.py``.
    """
    path = SCORES / f"{record}.json"
    got = {name: check_scores(run) for name, run in sorted(runs.items())}
    if os.environ.get("GRADER_RECORD_SCORES") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    expected = json.loads(path.read_text())
    changed = {f"{name}: {key}": (expected.get(name, {}).get(key), score)
               for name, scores in got.items() for key, score in scores.items()
               if expected.get(name, {}).get(key) != score}
    assert set(got) == set(expected), f"runs recorded: {sorted(expected)}, runs now: {sorted(got)}"
    assert got == expected, f"scores that moved (recorded, now): {changed or 'checks added or removed'}"


def cli_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "grader", *map(str, args)]


def finish(process: subprocess.Popen[str], json_path: Path | None, timeout: float = 600) -> CliRun:
    stdout, stderr = process.communicate(timeout=timeout)
    results = json.loads(json_path.read_text()) if json_path is not None and json_path.exists() else None
    return CliRun(process.returncode, stdout, stderr, results)


def _interruptible() -> None:
    """Ctrl-C as in a terminal: a shell without job control (CI running in the background)
    starts its children with SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(*args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_command(*args), cwd=cwd, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1", **(env or {})},
                            preexec_fn=_interruptible)


def run_cli(*args: str | Path, json_path: Path | None = None, cwd: Path = REPO,
            env: dict[str, str] | None = None) -> CliRun:
    """Run the real command line in a subprocess and collect what it produced."""
    extra = ("--json", json_path) if json_path is not None else ()
    return finish(start_cli(*args, *extra, cwd=cwd, env=env), json_path)


def materialize(fixture: Path, target: Path) -> Path:
    """The fixture submission as a folder a student would hand in.

    A fixture with a ``base.yaml`` holds only what differs from its base (the reference or
    the skeleton): the base is copied, ``remove`` deleted, ``copy`` put in place (a file
    of the repository, the skeleton say), ``edits`` applied (per file, pairs
    of a text found exactly once and its replacement: a one-line bug needs no copy of the
    file), ``append`` added at the end of a file (a function defined again replaces the
    base's), and the fixture's files laid over.
    """
    import shutil

    import yaml

    recipe = fixture / "base.yaml"
    if not recipe.exists():
        shutil.copytree(fixture, target)
        return target
    spec = yaml.safe_load(recipe.read_text())
    shutil.copytree(REPO / spec["base"], target, ignore=shutil.ignore_patterns("mistakes", "__pycache__"))
    for name in spec.get("remove", []):
        (target / name).unlink()
    for name, source in spec.get("copy", {}).items():
        shutil.copyfile(REPO / source, target / name)
    for name, pairs in spec.get("edits", {}).items():
        text = (target / name).read_text()
        for old, new in pairs:
            assert text.count(old) == 1, f"{fixture.name}: {old!r} is not in {name} exactly once"
            text = text.replace(old, new)
        (target / name).write_text(text)
    for name, extra in spec.get("append", {}).items():
        with (target / name).open("a") as handle:
            handle.write("\n\n" + extra)
    for path in fixture.iterdir():
        if path.name == "base.yaml":
            continue
        (target / path.name).unlink(missing_ok=True)
        if path.is_symlink():  # kept as a link: an attack fixture links to /etc/passwd
            (target / path.name).symlink_to(path.readlink())
        else:
            shutil.copyfile(path, target / path.name)
    return target


def points(assignment: str, exercise: str | None = None) -> float:
    """The points config.yaml gives an assignment (or one of its exercises), checks and answers
    together: a test's totals follow the course's config instead of restating it.

    >>> points("basics")          # doctest: +SKIP
    35.0
    """
    from grader.config import default_config_path, load_config

    course = load_config(default_config_path()).assignments[assignment]
    return sum(sum(c.points for c in e.checks) + sum(a.points for a in e.answers)
               for e in course.exercises if exercise in (None, e.id))


# The slowest test files, slowest first (as measured: each grades many submissions in a
# module fixture). The suite runs as one job per core, a file to a job (``-n auto --dist
# loadfile`` in pyproject.toml), and hands out files in this order: the longest ones start
# first, and the last to finish is a short one.
SLOWEST_FIRST = ("sandbox/test_attacks.py", "test_cli_basics.py", "batch/test_run.py", "test_validate.py",
                 "test_cli_ps5.py", "batch/test_why.py", "batch/test_manual_batch.py", "batch/test_cluster.py",
                 "test_contract.py", "batch/test_similarity.py", "test_watch.py", "test_grading.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.path.as_posix()
        return next((i for i, name in enumerate(SLOWEST_FIRST) if path.endswith(f"/tests/{name}")), len(SLOWEST_FIRST))

    items.sort(key=rank)  # stable: within a file, and among the others, the order stays


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one job per core this process may use (a CPU quota counts), as the grader counts them.
    Each test's grading runs beside its sandbox's workers, so more jobs than cores only queue."""
    from grader.forked import usable_cores

    return usable_cores()


@pytest.fixture(scope="session")
def config():  # type: ignore[no-untyped-def]
    from grader.config import default_config_path, load_config

    return load_config(default_config_path())


@pytest.fixture(scope="session")
def basics(config):  # type: ignore[no-untyped-def]
    return config.assignments["basics"]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    from grader.sandbox.client import Sandbox

    with Sandbox() as box:
        yield box


def process_tree(pid: int) -> set[tuple[int, int]]:
    """Every living descendant of ``pid``, as (pid, start time) so that a reused pid is not mistaken for it."""
    parents: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        stat = _stat(int(entry)) if entry.isdigit() else None
        if stat is not None and stat[0] not in "ZX":
            parents.setdefault(stat[1], []).append((int(entry), stat[2]))
    found: set[tuple[int, int]] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child[0])
    return found


def still_running(processes: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of ``processes`` (from :func:`process_tree`) still running; zombies count as ended."""
    return {(pid, start) for pid, start in processes
            if (stat := _stat(pid)) is not None and stat[2] == start and stat[0] not in "ZX"}


def _stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent pid and start time of a process, from /proc; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), int(fields[19])
