"""End to end: ``grader batch`` through the real command line on small cohorts of fixtures.

One cohort is graded once per module (``--jobs 2``) and the tests read what it wrote; the
resume, kill -9 and grader-error tests each grade a cohort of their own.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import time
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, CliRun, finish, materialize, points, run_cli, start_cli
from grader.batch.records import RECORD_NAME

TOTAL, CONV2D, ATTENTION = points("basics"), points("basics", "conv2d"), points("basics", "attention")

COHORT = ("alt_correct", "wrong_attention_no_scaling", "wrong_conv_flipped", "broken", "endless_loop")
# endless_loop's conv2d then costs one call of 10 s (spinning a core all along); correct
# exercises never come near it, however busy the machine (6 s was reached at a load of 40).
TIMEOUT = ("--timeout", "10")
# Seconds to wait for the batch to reach a point (its first record, its processes gone): a guard
# against a hang, not a bound on speed, so that a busy machine only makes the wait longer.
PATIENCE = 600


def zip_folder(folder: Path, archive: Path, wrapper: str) -> Path:
    """``folder`` as a zip whose files sit in one wrapping folder, as students zip them."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"{wrapper}/{path.relative_to(folder)}")
    return archive


def build_cohort(root: Path, fixtures: tuple[str, ...] = COHORT) -> Path:
    """Fixture folders, the reference as a Moodle-named zip, and an archive that escapes its folder."""
    root.mkdir(parents=True)
    for name in fixtures:
        materialize(FIXTURES / "basics" / name, root / name)
    reference = materialize(REPO / "reference" / "basics", root.parent / "reference-copy")
    shutil.rmtree(reference / "mistakes")
    zip_folder(reference, root / "Ada Lovelace_4242_assignsubmission_file_.zip", "basics")
    with zipfile.ZipFile(root / "slip.zip", "w") as zf:
        zf.writestr("eigen.py", "x = 1\n")
        zf.writestr("../escaped.py", "pwned = True\n")
    return root


def batch(root: Path, out: Path, *extra: str | Path) -> CliRun:
    return run_cli("batch", root, "--assignment", "basics", "--out", out, *extra)


def rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def records(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob(f"*/{RECORD_NAME}")}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, CliRun]:
    tmp = tmp_path_factory.mktemp("cohort")
    root = build_cohort(tmp / "root")
    out = tmp / "out"
    run = batch(root, out, "--jobs", "2", *TIMEOUT, "--json", tmp / "cohort.json", "--junit", tmp / "cohort.xml")
    return root, out, run


def test_one_row_and_one_report_per_student(cohort) -> None:  # type: ignore[no-untyped-def]
    root, out, run = cohort
    assert run.returncode == 0, run.stderr
    students = {"alt_correct", "wrong_attention_no_scaling", "wrong_conv_flipped", "broken", "endless_loop",
                "Ada Lovelace", "slip"}
    assert set(rows(out)) == students
    assert {p.parent.name for p in out.glob("*/report.html")} == students
    assert {p.parent.name for p in out.glob("*/results.json")} == students
    assert "7 students: 6 graded, 1 unreadable, 0 not graded" in run.stdout
    assert not (out / ".staging").exists() and not (root.parent / "escaped.py").exists()


def test_scores_agree_across_csv_results_and_records(cohort) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cohort
    table, kept = rows(out), records(out)
    for student, row in table.items():
        results = json.loads((out / student / "results.json").read_text())
        assert float(row["total"]) == results["score"] == kept[student]["score"], student
        by_exercise: dict[str, float] = {}
        for test in results["tests"]:
            by_exercise[test["extra_data"]["exercise"]] = by_exercise.get(test["extra_data"]["exercise"], 0) + test["score"]
        assert {k: float(row[k]) for k in by_exercise} == by_exercise
    assert table["alt_correct"]["total"] == table["Ada Lovelace"]["total"] == f"{TOTAL:g}"
    # Its AlexNet answer, on the line after the broken entry of answers.yaml, still counts.
    assert table["broken"]["total"] == "1" and table["broken"]["status"] == "graded"
    assert float(table["wrong_attention_no_scaling"]["attention"]) < ATTENTION
    assert float(table["endless_loop"]["conv2d"]) < CONV2D
    # Its own time limit, not a hang: the loop's checks say which limit ended them. The other
    # exercises keep budgets of their own: a busy machine can cost them only checks ended so.
    loop = json.loads((out / "endless_loop" / "results.json").read_text())
    assert {t["extra_data"]["outcome"] for t in loop["tests"] if t["status"] == "failed"} <= {"timeout", "time-budget"}
    assert any("time limit" in t["output"] for t in loop["tests"] if t["extra_data"]["exercise"] == "conv2d")
    assert {t["extra_data"]["exercise"] for t in loop["tests"] if t["status"] == "passed"
            and not t["extra_data"]["check"].startswith("answer_")} >= {"eigen", "parameter_counting", "attention"}


def test_a_students_report_reproduces_only_what_the_student_can_run(cohort) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cohort
    results = json.loads((out / "wrong_attention_no_scaling" / "results.json").read_text())
    failed = {t["extra_data"]["check"]: t for t in results["tests"]
              if t["extra_data"]["exercise"] == "attention" and t["status"] == "failed"}
    assert failed["matches_torch"]["visibility"] == "visible"
    assert "reproduce: grader check . --assignment basics --exercise attention --seed 0" in failed["matches_torch"]["output"]
    assert "reproduce:" not in failed["matches_reference"]["output"]  # a hidden check: the input is shown
    assert "grader grade wrong_attention_no_scaling" not in (out / "wrong_attention_no_scaling" / "report.html").read_text()


def test_an_unsafe_archive_is_a_graded_zero_with_the_reason(cohort) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cohort
    row = rows(out)["slip"]
    assert (row["status"], row["total"]) == ("unreadable", "0")
    assert "outside the archive's folder" in row["reason"]
    results = json.loads((out / "slip" / "results.json").read_text())
    assert results["score"] == 0 and all("could not be read" in t["output"] for t in results["tests"])


def test_summary_counts_agree_with_the_records(cohort) -> None:  # type: ignore[no-untyped-def]
    from grader.batch.summary import check_rates, mistake_counts

    _, out, _ = cohort
    kept = tuple(records(out).values())
    page = (out / "summary.html").read_text()
    assert "7 students · 6 graded · 1 unreadable · 0 not graded" in page
    found = {(m.exercise, m.mistake): m.students for m in mistake_counts(kept)}
    assert found[("attention", "no_scaling")] == ("wrong_attention_no_scaling",)
    made = sum(1 for r in kept for c in r["checks"] if c["mistake"] == "no_scaling")
    assert made >= 1 and "no_scaling" in page
    for rate in check_rates(kept):
        passed = sum(c["status"] == "passed" for r in kept if r["status"] == "graded" for c in r["checks"]
                     if (c["exercise"], c["check"]) == (rate.exercise, rate.check))
        assert (rate.passed, rate.ran + rate.not_run) == (passed, 6)
        assert f"{rate.passed}/{rate.ran} (" in page
    assert "data:image/png;base64," in page


def test_cohort_json_and_junit(cohort) -> None:  # type: ignore[no-untyped-def]
    import xml.etree.ElementTree as ET

    root, _, _ = cohort
    data = json.loads((root.parent / "cohort.json").read_text())
    assert len(data["students"]) == 7
    suites = ET.parse(root.parent / "cohort.xml").getroot().findall("testsuite")
    assert sorted(s.get("name") for s in suites) == sorted(s["student"] for s in data["students"])


def test_fail_under_counts_the_students_below(tmp_path: Path, cohort) -> None:  # type: ignore[no-untyped-def]
    root, out, _ = cohort
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    run = batch(root, copy, *TIMEOUT, "--fail-under", f"{TOTAL:g}")
    assert run.returncode == 1 and f"5 of 7 students are below --fail-under {TOTAL:g}" in run.stderr
    assert "all 7 submissions already graded and unchanged" in run.stderr
    assert "0 graded in this run, 7 unchanged" in run.stdout


def test_bad_arguments_exit_2_with_one_line(tmp_path: Path) -> None:
    run = batch(tmp_path / "missing", tmp_path / "out")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "is not a folder" in run.stderr
    (tmp_path / "root").mkdir()
    run = batch(tmp_path / "root", tmp_path / "out")
    assert run.returncode == 2 and "holds no submission" in run.stderr
    run = run_cli("batch", tmp_path / "root", "--assignment", "nope", "--out", tmp_path / "out")
    assert run.returncode == 2 and "unknown assignment 'nope'" in run.stderr
    run = run_cli("batch", tmp_path / "root", "--assignment", "basics", "--out", tmp_path / "out", "--jobs", "0")
    assert run.returncode == 2 and "positive number of job processes" in run.stderr


def test_a_second_run_regrades_only_what_changed(tmp_path: Path) -> None:
    root = build_cohort(tmp_path / "root", ("alt_correct", "wrong_conv_flipped"))
    out = tmp_path / "out"
    first = batch(root, out, "--jobs", "2")
    assert first.returncode == 0, first.stderr
    before = records(out)
    conv = root / "wrong_conv_flipped" / "conv2d.py"
    conv.write_text((REPO / "reference" / "basics" / "conv2d.py").read_text())  # the student fixed it
    (out / "slip" / RECORD_NAME).unlink()  # as if this one never finished
    second = batch(root, out, "--jobs", "2")
    assert second.returncode == 0, second.stderr
    assert "2 graded in this run, 2 unchanged and kept" in second.stdout
    after = records(out)
    for student in ("alt_correct", "Ada Lovelace"):
        assert after[student]["graded_at"] == before[student]["graded_at"]
    assert after["wrong_conv_flipped"]["digest"] != before["wrong_conv_flipped"]["digest"]
    assert rows(out)["wrong_conv_flipped"]["total"] == f"{TOTAL:g}"


def test_kill_9_halfway_then_rerun_completes_with_whole_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    for number in range(5):
        materialize(FIXTURES / "basics" / ("alt_correct" if number % 2 else "wrong_conv_flipped"), root / f"s{number}")
    out = tmp_path / "out"
    mark = f"grader-batch-test-{os.getpid()}-{time.time()}"
    process = start_cli("batch", root, "--assignment", "basics", "--out", out, "--jobs", "1",
                        env={"GRADER_TEST_MARK": mark})
    deadline = time.monotonic() + PATIENCE
    while not list(out.glob(f"*/{RECORD_NAME}")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    done = {p.parent.name for p in out.glob(f"*/{RECORD_NAME}")}
    assert 1 <= len(done) < 5
    for path in out.glob("*/results.json"):
        json.loads(path.read_text())  # whole, never half-written
    deadline = time.monotonic() + PATIENCE  # the job processes die with the batch (parent-death signal)
    while _processes_with(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _processes_with(mark)
    rerun = batch(root, out, "--jobs", "1")
    assert rerun.returncode == 0, rerun.stderr
    assert f"{5 - len(done)} graded in this run, {len(done)} unchanged and kept" in rerun.stdout
    assert len(rows(out)) == 5 and len(list(out.glob("*/report.html"))) == 5
    for path in out.glob("*/results.json"):
        assert json.loads(path.read_text())["max_score"] == TOTAL


def test_ctrl_c_stops_cleanly_and_keeps_what_finished(tmp_path: Path) -> None:
    root = tmp_path / "root"
    materialize(FIXTURES / "basics" / "alt_correct", root / "s0")
    # The next ones loop until their time limit: the batch is surely busy when Ctrl-C comes.
    for number in (1, 2):
        materialize(FIXTURES / "basics" / "endless_loop", root / f"s{number}")
    out = tmp_path / "out"
    mark = f"grader-batch-test-{os.getpid()}-{time.time()}"
    process = start_cli("batch", root, "--assignment", "basics", "--out", out, "--jobs", "1", "--timeout", "30",
                        env={"GRADER_TEST_MARK": mark})
    deadline = time.monotonic() + PATIENCE
    while not list(out.glob(f"*/{RECORD_NAME}")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    run = finish(process, None, timeout=PATIENCE)
    assert run.returncode == 130 and "run the same command again to resume" in run.stderr
    assert "Traceback" not in run.stderr and not (out / ".staging").exists()
    assert not _processes_with(mark)
    assert list(out.glob(f"*/{RECORD_NAME}"))


def _processes_with(mark: str) -> list[int]:
    """Live processes whose environment holds ``mark`` (zombies have an empty one)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


FAULTY_CHECK = '''
import grader.exercises.basics.eigen as _basics
from grader.checks import check
from grader.exercises.basics.eigen import *  # noqa: F403


@check("symmetric_with_trace", _basics.symmetric_with_trace.description)
def symmetric_with_trace(ctx):
    if (ctx.student.folder / "GRADER_BUG").exists():
        raise RuntimeError("a bug in the grader, not in the submission")
    _basics.symmetric_with_trace.run(ctx)
'''


def test_a_grader_error_on_one_submission_is_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    import yaml

    from grader.config import default_config_path

    package = tmp_path / "faulty_checks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in ("parameter_counting", "conv2d", "attention"):
        (package / f"{module}.py").write_text(f"from grader.exercises.basics.{module} import *  # noqa: F403\n")
    (package / "eigen.py").write_text(FAULTY_CHECK)
    raw = yaml.safe_load(default_config_path().read_text())
    basics = raw["assignments"]["basics"]
    basics.update(checks="faulty_checks", templates=str(REPO / basics["templates"]),
                  reference=str(REPO / basics["reference"]))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"defaults": raw.get("defaults", {}), "assignments": {"basics": basics}},
                                     sort_keys=False))
    root = tmp_path / "root"
    materialize(FIXTURES / "basics" / "alt_correct", root / "fine")
    materialize(FIXTURES / "basics" / "alt_correct", root / "unlucky")
    (root / "unlucky" / "GRADER_BUG").write_text("")
    run = finish(start_cli("batch", root, "--assignment", "basics", "--out", tmp_path / "out", "--jobs", "1",
                           "--config", config, env={"PYTHONPATH": str(tmp_path)}), None)
    assert run.returncode == 0, run.stderr
    table = rows(tmp_path / "out")
    assert (table["fine"]["total"], table["fine"]["grader_errors"]) == (f"{TOTAL:g}", "0")
    assert table["unlucky"]["grader_errors"] == "1" and float(table["unlucky"]["total"]) < TOTAL
    page = (tmp_path / "out" / "summary.html").read_text()
    assert "a bug in the grader, not in the submission" in page


def test_a_job_process_killed_midway_costs_only_the_entry_it_held(tmp_path: Path) -> None:
    root = tmp_path / "root"
    materialize(FIXTURES / "basics" / "alt_correct", root / "s0")
    # The next ones loop until their time limit: both jobs are surely busy when one is killed.
    for number in (1, 2, 3):
        materialize(FIXTURES / "basics" / "endless_loop", root / f"s{number}")
    out = tmp_path / "out"
    mark = f"grader-batch-test-{os.getpid()}-{time.time()}"
    process = start_cli("batch", root, "--assignment", "basics", "--out", out, "--jobs", "2", *TIMEOUT,
                        env={"GRADER_TEST_MARK": mark})
    deadline = time.monotonic() + PATIENCE
    while not list(out.glob(f"*/{RECORD_NAME}")) and time.monotonic() < deadline:
        time.sleep(0.05)
    jobs = _job_processes(mark)
    assert len(jobs) == 2, f"expected two job processes, found {jobs}"
    os.kill(jobs[0], signal.SIGKILL)
    run = finish(process, None, timeout=PATIENCE)
    assert run.returncode == 0, run.stderr
    table = rows(out)
    assert len(table) == 4
    errors = [name for name, row in table.items() if row["status"] == "error"]
    assert len(errors) == 1, table
    assert "the batch job process grading this submission was killed by signal 9" in table[errors[0]]["reason"]
    assert all(row["status"] == "graded" for name, row in table.items() if name not in errors)
    assert not _processes_with(mark)


def _job_processes(mark: str) -> list[int]:
    """The batch's job processes: forked by the template, so both they and their parent run spawn_main."""
    def command(pid: int | str) -> bytes:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return b""

    def parent(pid: int) -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])

    return sorted(pid for pid in _processes_with(mark)
                  if b"spawn_main" in command(pid) and b"spawn_main" in command(parent(pid)))
