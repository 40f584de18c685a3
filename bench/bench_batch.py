"""Benchmark: ``grader batch`` against one ``grader grade`` process per submission.

    python bench/bench_batch.py [--submissions 40] [--per-process 10] [--rounds 3] [--keep DIR]

Builds N synthetic ``basics`` submissions, a mix of correct ones (the reference, and the
``alt_correct`` fixture written differently) and catalogued mistakes (the reference with one
function replaced by a buggy variant, as ``grader validate`` makes them), then grades them:

1. ``grader batch --jobs 1``, 2. ``grader batch --jobs 2`` (each into a fresh OUT), the
   pair ``--rounds`` times, alternating: a shared machine's speed drifts by 10% over minutes,
   and alternating pairs, with the median of their ratios, keeps that drift out of the ratio;
3. the same ``--jobs 2`` batch again (everything unchanged: the resume path),
4. one ``grader grade`` process per submission, one after the other, on ``--per-process``
   of the submissions evenly spaced (the same mix), scaled to submissions per minute.

Prints submissions per minute for each, the speed-up of batch over one process per
submission, and of ``--jobs 2`` over ``--jobs 1``. Targets: at least 2.5x and 1.7x on 2 cores.
Every run is checked: one row per submission in grades.csv, one report per submission.
Each run starts once the machine is idle (other work below 15% of the cores, waiting up to
10 minutes): on a shared machine, another job's load would make the figures meaningless.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET_VS_PROCESSES, TARGET_JOBS = 2.5, 1.7


def build_submissions(root: Path, count: int) -> list[str]:
    """``count`` submissions in ``root``: every fourth correct, the rest catalogued mistakes."""
    from grader.config import default_config_path, load_config
    from grader.loading import load_mistakes
    from grader.validate import mutant

    sys.path.insert(0, str(REPO / "tests"))
    from conftest import FIXTURES, materialize

    basics = load_config(default_config_path()).assignments["basics"]
    mistakes = [(exercise, mistake) for exercise in basics.exercises for mistake in load_mistakes(basics, exercise)]
    kinds = []
    for number in range(count):
        folder = root / f"student{number:03d}"
        if number % 4 == 0:
            if number % 8 == 0:
                shutil.copytree(basics.reference, folder, ignore=shutil.ignore_patterns("mistakes", "__pycache__"))
                kinds.append("reference")
            else:
                materialize(FIXTURES / "basics" / "alt_correct", folder)
                kinds.append("alt_correct")
        else:
            exercise, mistake = mistakes[(number - number // 4 - 1) % len(mistakes)]
            mutant(basics, exercise, mistake, folder)
            kinds.append(f"{exercise.id}.{mistake.id}")
    return kinds


def busy_share(seconds: float = 2.0) -> float:
    """The share of all cores busy over ``seconds`` (from /proc/stat; 0 where it is missing)."""
    def sample() -> tuple[int, int]:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except OSError:
            return 0, 0
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0


def wait_until_idle(limit: float = 600.0) -> float:
    """Wait (at most ``limit`` seconds) until other work leaves the machine idle; returns the busy share."""
    deadline = time.monotonic() + limit
    share = busy_share()
    while share > 0.15 and time.monotonic() < deadline:
        share = busy_share(5.0)
    return share


def timed(command: list[str]) -> float:
    share = wait_until_idle()
    if share > 0.15:
        print(f"  (the machine stayed {100 * share:.0f}% busy with other work; this figure is pessimistic)")
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start


def batch(root: Path, out: Path, jobs: int, count: int) -> float:
    seconds = timed([sys.executable, "-m", "grader", "batch", str(root), "--assignment", "basics",
                     "--out", str(out), "--jobs", str(jobs)])
    with (out / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    reports = list(out.glob("*/report.html"))
    summary = (out / "summary.html").read_text()
    if (len(rows) != count or len(reports) != count or any(r["status"] != "graded" for r in rows)
            or f"{count} students · {count} graded · 0 unreadable · 0 not graded" not in summary):
        raise SystemExit(f"batch --jobs {jobs}: {len(rows)} rows, {len(reports)} reports for {count} submissions")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--per-process", type=int, default=10, help="submissions graded one process each")
    parser.add_argument("--rounds", type=int, default=3, help="alternating --jobs 1 / --jobs 2 pairs")
    parser.add_argument("--keep", type=Path, help="build and grade in this folder, and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    root = work / "submissions"
    shutil.rmtree(work / "out1", ignore_errors=True)
    shutil.rmtree(work / "out2", ignore_errors=True)
    if not root.is_dir():
        root.mkdir(parents=True)
        kinds = build_submissions(root, args.submissions)
        (work / "kinds.txt").write_text("\n".join(kinds))
    else:
        kinds = (work / "kinds.txt").read_text().split("\n")
    count = len(kinds)
    correct = sum(k in ("reference", "alt_correct") for k in kinds)
    print(f"{count} basics submissions ({correct} correct, {count - correct} with a catalogued mistake) "
          f"in {root}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before")
    pairs = []
    for _ in range(args.rounds):
        for out in (work / "out1", work / "out2"):
            shutil.rmtree(out, ignore_errors=True)
        pairs.append((batch(root, work / "out1", 1, count), batch(root, work / "out2", 2, count)))
    resume = batch(root, work / "out2", 2, count)
    jobs1 = statistics.median(one for one, _ in pairs)
    jobs2 = statistics.median(two for _, two in pairs)
    # Evenly spaced through the 40, so the subset has the same mix of cheap and costly mistakes.
    folders = sorted(root.iterdir())
    subset = folders[:: max(1, len(folders) // args.per_process)][: args.per_process]
    wait_until_idle()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for folder in subset:
            subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "--assignment", "basics",
                            "--json", str(Path(tmp) / f"{folder.name}.json")], check=False, cwd=REPO,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes = time.perf_counter() - start
    rate = {
        "batch --jobs 1": 60 * count / jobs1,
        "batch --jobs 2": 60 * count / jobs2,
        "one grade process each": 60 * len(subset) / processes,
    }
    for number, (one, two) in enumerate(pairs, 1):
        print(f"round {number}: --jobs 1 {one:.1f} s, --jobs 2 {two:.1f} s: {one / two:.2f}x")
    print(f"{'run':<26} {'submissions':>11} {'seconds':>8} {'per minute':>11}   (medians of {len(pairs)} rounds)")
    print(f"{'batch --jobs 1':<26} {count:>11} {jobs1:>8.1f} {rate['batch --jobs 1']:>11.1f}")
    print(f"{'batch --jobs 2':<26} {count:>11} {jobs2:>8.1f} {rate['batch --jobs 2']:>11.1f}")
    print(f"{'batch --jobs 2, resumed':<26} {count:>11} {resume:>8.1f} {'(nothing to regrade)':>11}")
    print(f"{'one grade process each':<26} {len(subset):>11} {processes:>8.1f} {rate['one grade process each']:>11.1f}"
          f"   ({len(subset)} of the {count}, evenly spaced: the same mix; rate scaled)")
    versus = rate["batch --jobs 1"] / rate["one grade process each"]
    jobs = statistics.median(one / two for one, two in pairs)
    print(f"batch --jobs 1 vs one process per submission: {versus:.2f}x "
          f"({'meets' if versus >= TARGET_VS_PROCESSES else 'MISSES'} the {TARGET_VS_PROCESSES}x target)")
    print(f"batch --jobs 2 vs --jobs 1: {jobs:.2f}x, the median of the rounds' ratios "
          f"({'meets' if jobs >= TARGET_JOBS else 'MISSES'} the "
          f"{TARGET_JOBS}x target); load average {os.getloadavg()[0]:.1f} after")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
