"""``grader batch --scheduler``: the same batch on a Dask cluster (here a local one, two processes)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import FIXTURES, materialize, points, run_cli

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
    run = run_cli("batch", root, "--assignment", "basics", "--out", tmp_path / "out",
                  "--scheduler", "tcp://127.0.0.1:9")
    assert run.returncode == 2 and "cannot reach the Dask scheduler" in run.stderr
