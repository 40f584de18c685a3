"""``grader batch --scheduler``: the same batch on a Dask cluster (here a local one, two processes)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, materialize, points, run_cli

distributed = pytest.importorskip(
    "distributed", reason="Dask is not installed: pip install -e '.[test]' installs it (extra 'cluster')")


@pytest.fixture(scope="module")
def scheduler():  # type: ignore[no-untyped-def]
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        yield cluster.scheduler_address


def test_a_batch_on_a_dask_cluster_writes_the_same_outputs(tmp_path: Path, scheduler: str) -> None:
    root = tmp_path / "root"
    for name in ("alt_correct", "wrong_attention_no_scaling", "broken"):
        materialize(FIXTURES / "basics" / name, root / name)
    out = tmp_path / "out"
    run = run_cli("batch", root, "--assignment", "basics", "--out", out, "--scheduler", scheduler)
    assert run.returncode == 0, run.stderr
    assert "with a Dask cluster at tcp://127.0.0.1" in run.stderr
    with (out / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert {k: (r["status"], r["total"]) for k, r in rows.items()} == {
        "alt_correct": ("graded", f"{points('basics'):g}"), "broken": ("graded", "1"),
        "wrong_attention_no_scaling": ("graded", rows["wrong_attention_no_scaling"]["total"])}
    assert float(rows["wrong_attention_no_scaling"]["attention"]) < points("basics", "attention")
    assert len(list(out.glob("*/report.html"))) == 3 and (out / "summary.html").is_file()
    again = run_cli("batch", root, "--assignment", "basics", "--out", out, "--scheduler", scheduler)
    assert "0 graded in this run, 3 unchanged and kept" in again.stdout


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path: Path) -> None:
    root = tmp_path / "root"
    materialize(FIXTURES / "basics" / "alt_correct", root / "alt_correct")
    # Dask's own setting bounds the wait (30 s by default), as a tutor would set it.
    run = run_cli("batch", root, "--assignment", "basics", "--out", tmp_path / "out",
                  "--scheduler", "tcp://127.0.0.1:9", env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert run.returncode == 2 and "cannot reach the Dask scheduler" in run.stderr


def config_with_a_manual_item(tmp_path: Path) -> Path:
    """The real config, with a written answer for conv2d that a tutor scores (basics has none)."""
    import yaml

    from grader.config import default_config_path

    raw = yaml.safe_load(default_config_path().read_text())
    basics = raw["assignments"]["basics"]
    basics.update(templates=str(REPO / basics["templates"]), reference=str(REPO / basics["reference"]))
    basics["exercises"]["conv2d"].update(free_text=["conv2d_remark"], manual={"conv2d_remark": {
        "answer": "conv2d_remark", "points": 2, "rubric": "Names the loops or the unfold."}})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"defaults": raw["defaults"], "assignments": {"basics": basics}}, sort_keys=False))
    return path


def test_marks_and_code_alike_work_on_a_cluster_too(tmp_path: Path, scheduler: str) -> None:
    root, out, config = tmp_path / "root", tmp_path / "out", config_with_a_manual_item(tmp_path)
    for student in ("ada", "bob"):  # the same files twice: code alike
        folder = materialize(FIXTURES / "basics" / "alt_correct", root / student)
        with (folder / "answers.yaml").open("a") as answers:
            answers.write(f"\nconv2d_remark: {student} used four loops\n")
    command = ("batch", root, "--assignment", "basics", "--out", out, "--scheduler", scheduler, "--config", config)
    first = run_cli(*command)
    assert first.returncode == 0, first.stderr
    assert "manual.csv: 0 of 2 items marked; 2 rows added" in first.stdout
    assert "code alike: 4 pair(s) of submissions" in first.stdout  # each of the four files
    text = (out / "manual.csv").read_text()
    assert "ada,conv2d,conv2d_remark,2,ada used four loops,," in text
    (out / "manual.csv").write_text(text.replace("ada used four loops,,", "ada used four loops,1.5,Which loops?"))
    again = run_cli(*command)
    assert "0 graded in this run, 2 unchanged and kept" in again.stdout and "1 of 2 items marked" in again.stdout
    with (out / "grades.csv").open() as handle:
        ada = next(row for row in csv.DictReader(handle) if row["student"] == "ada")
    assert (ada["conv2d_remark"], ada["total"], ada["total_with_manual"]) == ("1.5", "35", "36.5")
    assert "marked by a tutor: Which loops?" in (out / "ada" / "report.html").read_text()
