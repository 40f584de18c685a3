"""The attack corpus: one hostile submission per attack, each graded by the real CLI.

Every fixture in ``tests/fixtures/attacks/`` is the correct ``alt_correct`` submission with
one file replaced by an attack; its ``base.yaml`` names the attacked exercise and the
outcomes its failed checks must show (and, as ``on_a_slow_machine``, those that may take their
place when a limit trips first on a busy machine). For each attack: the run finishes,
the attacked exercise gets no undeserved points, the other exercises keep full marks, no
process outlives the run, nothing outside the scratch folder changed, and no text of the
reference solutions appears in any output. The corpus runs two submissions at a time, each
graded by one process (``--jobs 1``): two at a time already keep two cores busy.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import FIXTURES, REPO, CliRun, materialize, points
from grader.vocabulary import OUTCOMES

ATTACKS = FIXTURES / "attacks"
NAMES = sorted(p.name for p in ATTACKS.iterdir() if p.is_dir())
PORT = 47613  # the `network` attack's target on loopback
# A run still going after this long is hung: the test fails instead of waiting. Not a bound on
# speed: the attacks' limits are proved by the outcomes they end in.
HUNG = 900
REAPER = Path(__file__).with_name("run_reaped.py")
WATCHED = (REPO / "reference", REPO / "config.yaml", REPO / "grader", REPO / "student_templates", FIXTURES,
           Path("/tmp/results.json"), Path.home() / "results.json", Path("/results.json"))

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not sys.platform.startswith("linux"),
    reason="the attack corpus needs the full isolation level: root on Linux (namespaces, cgroups, uid change)")


@dataclass(frozen=True)
class AttackRun:
    """What grading one attack produced, and what it left behind on the machine."""

    spec: dict[str, Any]
    run: CliRun
    seconds: float
    outputs: str
    left_behind: list[str]
    changed: list[str]


def snapshot(paths: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file under ``paths`` (compiled caches aside)."""
    seen: dict[str, tuple[int, int]] = {}
    for top in paths:
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            if "__pycache__" not in path.parts and (path.is_file() or path.is_symlink()):
                info = path.lstat()
                seen[str(path)] = (info.st_size, info.st_mtime_ns)
    return seen


def grade_attack(name: str, work: Path) -> AttackRun:
    import json

    spec = yaml.safe_load((ATTACKS / name / "base.yaml").read_text())
    materialize(ATTACKS / name, work / "submission")
    out = work / "out"
    out.mkdir()
    watched = (work, *WATCHED)
    before = snapshot(watched)
    report = work.parent / f"{name}-left.json"
    command = [sys.executable, str(REAPER), str(report), sys.executable, "-m", "grader", "grade", "submission",
               "--assignment", "basics", "--json", str(out / "results.json"), "--html", str(out / "report.html"),
               "--junit", str(out / "junit.xml"), "--jobs", "1", *spec.get("options", [])]
    start = time.monotonic()
    process = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=HUNG,
                             env={**os.environ, "NO_COLOR": "1"})
    seconds = time.monotonic() - start
    after = snapshot(watched)
    changed = sorted(path for path in before.keys() | after.keys()
                     if before.get(path) != after.get(path) and not path.startswith(str(out) + os.sep))
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else None
    outputs = process.stdout + process.stderr + "".join(
        p.read_text(errors="replace") for p in sorted(out.iterdir()))
    return AttackRun(spec, CliRun(process.returncode, process.stdout, process.stderr, results), seconds, outputs,
                     json.loads(report.read_text()), changed)


@pytest.fixture(scope="module")
def listeners() -> Iterator[tuple[socket.socket, socket.socket]]:
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", PORT))
    tcp.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", PORT))
    yield tcp, udp
    tcp.close()
    udp.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, listeners: Any) -> dict[str, AttackRun]:
    root = tmp_path_factory.mktemp("attacks")
    folders = {name: root / name / "work" for name in NAMES}
    for folder in folders.values():
        folder.mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(NAMES, pool.map(lambda name: grade_attack(name, folders[name]), NAMES)))
    print("seconds per attack:", {name: round(run.seconds, 1) for name, run in runs.items()})
    return runs


def secret_lines() -> set[str]:
    """Lines of the reference solutions that no student-visible file contains."""
    visible = "\n".join(p.read_text(errors="replace") for top in
                        (FIXTURES / "basics", REPO / "student_templates" / "basics", ATTACKS)
                        for p in top.rglob("*") if p.is_file() and not p.is_symlink())
    lines = set()
    for path in (REPO / "reference" / "basics").rglob("*.py"):
        for line in path.read_text().splitlines():
            line = line.strip()
            if len(line) >= 24 and line not in visible and not line.startswith(("#", '"""', "import", "from")):
                lines.add(line)
    return lines


def attacked(test: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Whether a results.json test belongs to what the attack targets (an exercise, or every answer)."""
    if spec["exercise"] == "answers":
        return test["extra_data"]["check"].startswith("answer_")
    return test["extra_data"]["exercise"] == spec["exercise"] and not test["extra_data"]["check"].startswith("answer_")


@pytest.mark.parametrize("name", NAMES)
def test_the_attack_is_contained(corpus: dict[str, AttackRun], name: str) -> None:
    attack = corpus[name]
    run, spec = attack.run, attack.spec
    assert run.returncode == 0 and run.results is not None, run.stderr[-2000:]
    targeted = [t for t in run.results["tests"] if attacked(t, spec)]
    others = [t for t in run.results["tests"] if not attacked(t, spec)]
    assert targeted
    if spec["outcomes"] == ["passed"]:
        assert all(t["status"] == "passed" for t in targeted)
    else:
        assert all(t["score"] == 0 for t in targeted), [t["output"][:300] for t in targeted if t["score"]]
        seen = {t["extra_data"]["outcome"] for t in targeted}
        if "on_a_slow_machine" in spec:
            # Which limit ends the attack depends on the machine's speed: either is contained.
            assert seen and seen <= set(spec["outcomes"]) | set(spec["on_a_slow_machine"]), seen
        else:
            assert seen == set(spec["outcomes"])
    assert all(t["score"] == t["max_score"] for t in others), [t["output"][:300] for t in others if t["score"] < t["max_score"]]
    assert attack.left_behind == [], "processes outlived the run"
    assert attack.changed == [], "files outside the scratch folder changed"
    leaked = [line for line in secret_lines() if line in attack.outputs]
    assert leaked == []
    assert len(attack.outputs) < 3_000_000


def test_fake_score_lines_do_not_reach_the_totals(corpus: dict[str, AttackRun]) -> None:
    run = corpus["fake_score_lines"].run
    assert run.results is not None and run.results["score"] < points("basics")
    totals = [line for line in run.stdout.splitlines() if line.startswith("Total:")]
    assert totals == [f"Total: {run.results['score']:g}/{points('basics'):g} points"]


def test_no_connection_reached_loopback(corpus: dict[str, AttackRun], listeners: Any) -> None:
    tcp, udp = listeners
    tcp.setblocking(False)
    udp.setblocking(False)
    with pytest.raises(BlockingIOError):
        tcp.accept()
    with pytest.raises(BlockingIOError):
        udp.recvfrom(64)


def test_a_forged_results_file_lands_nowhere(corpus: dict[str, AttackRun]) -> None:
    attack = corpus["forge_results"]
    assert attack.run.results is not None and attack.run.results["score"] < points("basics")
    assert '"score": 999' not in attack.outputs and '"output": "forged"' not in attack.outputs


def test_nothing_of_the_grader_reaches_student_code(corpus: dict[str, AttackRun]) -> None:
    run = corpus["find_the_grader"].run
    assert run.results is not None
    found = [t["output"] for t in run.results["tests"] if attacked(t, corpus["find_the_grader"].spec)
             and t["status"] != "passed"]
    assert found == [], found[0][:3000]
    assert str(REPO / "grader") not in corpus["find_the_grader"].outputs


def test_the_grader_finding_attack_finds_the_grader_where_it_is_importable() -> None:
    spec = importlib.util.spec_from_file_location("find_the_grader", ATTACKS / "find_the_grader" / "attention.py")
    assert spec is not None and spec.loader is not None
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    clues = "\n".join(probe.clues())
    assert "import grader worked" in clues and f"a path of the grader: {REPO / 'grader'}" in clues


def test_the_corpus_produces_every_outcome_but_the_graders_own(corpus: dict[str, AttackRun]) -> None:
    seen = {t["extra_data"]["outcome"] for a in corpus.values() if a.run.results for t in a.run.results["tests"]}
    assert seen <= set(OUTCOMES)
    # An attack that a busy machine ended by its other limit is excused the outcome it did not reach.
    lost = {outcome for attack in corpus.values() if "on_a_slow_machine" in attack.spec and attack.run.results
            for outcome in attack.spec["outcomes"]
            if outcome not in {t["extra_data"]["outcome"] for t in attack.run.results["tests"]}}
    assert set(OUTCOMES) - {"grader-error"} - lost <= seen
    assert {o for a in corpus.values() for o in a.spec["outcomes"]} == set(OUTCOMES) - {"grader-error"}
