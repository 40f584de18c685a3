"""Benchmark: grade a correct submission with the real CLI and show where time goes.

    python bench/bench_grade.py [--assignment basics|ps5] [--runs 3] [--submission DIR] [--jobs N] [--html]

Each run is a fresh ``grader grade`` process, as a student or a CI job would start it, so
the figures include the interpreter, importing torch and starting the sandbox. ``--jobs``
is passed on (by default the grader's own default: two processes on two cores). Each grade
writes results.json, as Gradescope and CI ask for; ``--html`` also writes the HTML report, as a
tutor would, which shows the reference's figures and so draws them. Printed per
run: wall time; time waiting for student code; time in reference code (reference
solutions, torch oracles, mistake variants, reference figures), both summed over the
exercises (with two jobs they overlap, and may add up to more than the wall time); and the
floor, ``python -c "import torch"`` timed just before the grade (the median of three), with
the grade's ratio to it.
A shared machine's speed drifts, so each grade is paired with its own floor and the
verdict takes the median of the per-run ratios. Targets on 2 cores: under 10 s for
``basics``; for ``ps5`` at most 4 times the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"basics": 10.0}  # seconds
RATIO_TARGETS = {"ps5": 4.0}  # times the torch-import floor
# A correct submission written differently from the reference where the repository has one.
SUBMISSIONS = {"basics": REPO / "tests" / "fixtures" / "basics" / "alt_correct", "ps5": REPO / "reference" / "ps5"}


def floor_once(samples: int = 3) -> float:
    """Seconds for ``python -c "import torch"``, what any grade pays before it starts: the
    median of a few imports, one import being as noisy as the machine."""
    seconds = []
    for _ in range(samples):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True, cwd=REPO)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def grade_once(assignment: str, submission: Path, options: list[str], html: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        report = ["--html", str(Path(tmp) / "report.html")] if html else []
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", "grade", str(submission), "--assignment", assignment,
                        "--json", str(results), *report, *options], check=True, stdout=subprocess.DEVNULL, cwd=REPO,
                       env={**os.environ, "NO_COLOR": "1"})
        wall = time.perf_counter() - start
        data = json.loads(results.read_text())
    if data["score"] != data["max_score"]:
        raise SystemExit(f"{submission} is not a correct submission: {data['score']}/{data['max_score']}")
    seconds = data["extra_data"]["seconds"]
    return {"wall": wall, "grading": seconds["total"], "student": seconds["student"],
            "reference": seconds["reference"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", choices=sorted({*TARGETS, *RATIO_TARGETS}), default="basics")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--submission", type=Path)
    parser.add_argument("--jobs", type=int, help="passed on to grader grade")
    parser.add_argument("--html", action="store_true", help="also write the HTML report (with the reference's figures)")
    args = parser.parse_args()
    submission = args.submission or SUBMISSIONS[args.assignment]
    shown = submission.relative_to(REPO) if submission.resolve().is_relative_to(REPO) else submission
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    print(f"grading {shown} ({args.assignment}, {os.cpu_count()} cores, {args.jobs or 'default'} jobs, "
          f"{'results.json and report.html' if args.html else 'results.json'}), {args.runs} runs")
    print(f"{'run':>4} {'wall s':>8} {'in grade()':>11} {'student s':>10} {'reference s':>12} {'floor s':>8} {'ratio':>6}")
    rows = []
    for run in range(1, args.runs + 1):
        floor = floor_once()
        row = {**grade_once(args.assignment, submission, jobs, args.html), "floor": floor}
        row["ratio"] = row["wall"] / floor
        rows.append(row)
        print(f"{run:>4} {row['wall']:>8.2f} {row['grading']:>11.2f} {row['student']:>10.2f} {row['reference']:>12.2f} "
              f"{floor:>8.2f} {row['ratio']:>6.2f}")
    wall, floor, ratio = (statistics.median(r[key] for r in rows) for key in ("wall", "floor", "ratio"))
    print(f"median wall {wall:.2f} s; median floor {floor:.2f} s; median ratio to the floor {ratio:.2f}")
    if args.assignment in RATIO_TARGETS:
        target = RATIO_TARGETS[args.assignment]
        print(f"{'meets' if ratio <= target else 'MISSES'} the target of at most {target:g}x the floor")
    else:
        target = TARGETS[args.assignment]
        print(f"{'meets' if wall < target else 'MISSES'} the {target:g} s target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
