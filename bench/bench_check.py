"""Benchmark: the student's loop, ``grader check`` cold and ``grader check --watch`` warm.

    python bench/bench_check.py [--rounds 5]

In one run, the median of ``--rounds`` rounds of each:

1. the floor: ``python -c "import torch"``, and beside it the same without the interpreter's
   teardown (``os._exit``), as ``grader check`` ends;
2. a cold ``grader check`` of a whole correct ``basics`` submission (the reference solutions
   copied to a temporary folder), and of one ``ps5`` exercise (``softmax_temperature``);
   the three alternate, round by round, so that a shared machine's drift reaches all alike;
3. ``grader check --watch --exercise E``, from saving the exercise's file to the end of the
   report drawn after it (``attention`` of basics, ``softmax_temperature`` of ps5): each
   round starts a watch on the submission with that file still the skeleton,
   then saves the solution (its checks run for the first time in that process: hypothesis
   draws every example), the skeleton again, and the solution again (checks that passed
   before replay the inputs they passed on).

Targets on 2 cores: a cold ``basics`` check at most 1.5 s above the floor; a save to report
of one ``basics`` exercise at most 1 s, of one ``ps5`` exercise at most 1.5 s. Every report
is checked: full marks for the solution, a failure for the skeleton. Before each round the
share of the cores busy with other work is printed: on a shared machine, figures taken beside
other jobs are pessimistic.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_batch import busy_share

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "NO_COLOR": "1"}
# The exercise whose file each watch saves.
WATCHED = {"basics": ("attention", "attention.py"), "ps5": ("softmax_temperature", "softmax_temperature.py")}
END_OF_REPORT = "for saved files; Ctrl-C to stop"
TARGET_ABOVE_FLOOR, TARGET_WATCH = 1.5, {"basics": 1.0, "ps5": 1.5}


def correct_submission(assignment: str, target: Path) -> Path:
    return Path(shutil.copytree(REPO / "reference" / assignment, target,
                                ignore=shutil.ignore_patterns("mistakes", "__pycache__", "README.md")))


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def cold_check(folder: Path, *options: str) -> float:
    """Wall time of one ``grader check``; its results must be full marks."""
    results = folder.parent / f"{folder.name}.json"
    wall = seconds([sys.executable, "-m", "grader", "check", str(folder), "--json", str(results), *options])
    data = json.loads(results.read_text())
    if data["score"] != data["max_score"]:
        raise SystemExit(f"{folder} is not a correct submission: {data['score']}/{data['max_score']}")
    return wall


class Watch:
    """A running ``grader check --watch`` whose reports are read on a thread as they end."""

    def __init__(self, folder: Path, exercise: str) -> None:
        command = [sys.executable, "-m", "grader", "check", str(folder), "--watch", "--exercise", exercise]
        self.process = subprocess.Popen(command, cwd=REPO, env=ENV, text=True, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        self.reports: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        lines: list[str] = []
        for line in self.process.stdout:
            lines.append(line)
            if END_OF_REPORT in line:
                self.reports.put((time.perf_counter(), "".join(lines)))
                lines = []

    def next_report(self) -> tuple[float, str]:
        try:
            return self.reports.get(timeout=600)
        except queue.Empty:
            raise SystemExit("the watch drew no report within 10 minutes") from None

    def save(self, target: Path, source: Path, passes: bool) -> float:
        """Seconds from writing ``source`` over ``target`` to the end of the report it causes."""
        start = time.perf_counter()
        shutil.copyfile(source, target)
        end, report = self.next_report()
        if ("✗" not in report) != passes:
            raise SystemExit(f"unexpected report after saving {source}:\n{report}")
        return end - start

    def stop(self) -> None:
        """As Ctrl-C does (SIGINT may be ignored in a background job; the watch ends on either)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def watch_round(assignment: str, tmp: Path) -> dict[str, float]:
    exercise, file = WATCHED[assignment]
    folder = correct_submission(assignment, tmp / f"watch-{assignment}")
    solution, skeleton = REPO / "reference" / assignment / file, REPO / "student_templates" / assignment / file
    shutil.copyfile(skeleton, folder / file)
    watch = Watch(folder, exercise)
    try:
        watch.next_report()
        first = watch.save(folder / file, solution, passes=True)
        broken = watch.save(folder / file, skeleton, passes=False)
        again = watch.save(folder / file, solution, passes=True)
    finally:
        watch.stop()
        shutil.rmtree(folder)
    return {"first": first, "broken": broken, "again": again}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    floor, bare, basics, ps5 = [], [], [], []
    watches: dict[str, list[dict[str, float]]] = {"basics": [], "ps5": []}
    print(f"{os.cpu_count()} cores, {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        submissions = {a: correct_submission(a, tmp / a) for a in ("basics", "ps5")}
        for number in range(1, args.rounds + 1):
            busy = busy_share()
            floor.append(seconds([sys.executable, "-c", "import torch"]))
            bare.append(seconds([sys.executable, "-c", "import os, torch; os._exit(0)"]))
            basics.append(cold_check(submissions["basics"]))
            ps5.append(cold_check(submissions["ps5"], "--exercise", WATCHED["ps5"][0]))
            for assignment, rows in watches.items():
                rows.append(watch_round(assignment, tmp))
            print(f"round {number} (other work {100 * busy:.0f}% of the cores): floor {floor[-1]:.2f} s "
                  f"({bare[-1]:.2f} s without teardown), "
                  f"cold basics {basics[-1]:.2f} s, cold ps5 {WATCHED['ps5'][0]} {ps5[-1]:.2f} s, "
                  + ", ".join(f"watch {a} first/broken/again {r[-1]['first']:.2f}/{r[-1]['broken']:.2f}/"
                              f"{r[-1]['again']:.2f} s" for a, r in watches.items()))
    base = statistics.median(floor)
    cold = {"basics": statistics.median(basics), f"ps5 --exercise {WATCHED['ps5'][0]}": statistics.median(ps5)}
    print(f"\nmedians: floor (python -c 'import torch') {base:.2f} s, "
          f"{statistics.median(bare):.2f} s without the interpreter's teardown")
    for what, value in cold.items():
        print(f"  cold grader check {what}: {value:.2f} s = {value / base:.2f}x the floor, {value - base:+.2f} s")
    above = cold["basics"] - base
    print(f"  cold basics: {'meets' if above <= TARGET_ABOVE_FLOOR else 'MISSES'} the target of at most "
          f"{TARGET_ABOVE_FLOOR:g} s above the floor")
    for assignment, rows in watches.items():
        first, broken, again = (statistics.median(r[k] for r in rows) for k in ("first", "broken", "again"))
        target = TARGET_WATCH[assignment]
        print(f"  watch {assignment} {WATCHED[assignment][0]}, save to report: solution first {first:.2f} s, "
              f"skeleton {broken:.2f} s, solution again {again:.2f} s ({first / base:.2f}x the floor); "
              f"{'meets' if first <= target else 'MISSES'} the target of {target:g} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
