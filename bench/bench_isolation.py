"""Benchmark: what full isolation costs a correct submission, against no isolation at all.

    python bench/bench_isolation.py [--assignment basics|ps5] [--runs 5]

Grades the same correct submission ``--runs`` times with each sandbox, each run a fresh
Python process as ``grader grade`` is (interpreter, imports, sandbox start-up and grading
all counted), alternating them so that drift in the machine's speed hits both alike:
"full" (PID and network namespaces, cgroup, private file view, uid nobody, limits) and
"off" (only the process boundary, session and limits). Also printed: the median time to
start one worker (fork, confine, first reply). Target: full isolation at most 10% slower.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = {"basics": REPO / "tests" / "fixtures" / "basics" / "alt_correct", "ps5": REPO / "reference" / "ps5"}


def grade_once(assignment_id: str, isolate: bool) -> tuple[float, float, tuple[str, ...]]:
    """Seconds to start a sandbox and grade; median seconds to start a worker; layers in force."""
    from grader.config import default_config_path, load_config
    from grader.grading import Options, grade
    from grader.sandbox.client import Sandbox

    assignment = load_config(default_config_path()).assignments[assignment_id]
    limits = assignment.limits
    start = time.perf_counter()
    with Sandbox(preload=assignment.preload, memory_mb=limits.memory_mb, processes=limits.processes,
                 isolate=isolate) as sandbox:
        report = grade(assignment, SUBMISSIONS[assignment_id], sandbox, Options())
        wall = time.perf_counter() - start
        if report.score != report.max_score:
            raise SystemExit(f"not a correct submission: {report.score}/{report.max_score}")
        spawns = []
        for _ in range(10):
            begin = time.perf_counter()
            worker = sandbox.spawn(SUBMISSIONS[assignment_id])
            worker.request({"op": "isolation"}, timeout=30)
            spawns.append(time.perf_counter() - begin)
            worker.kill()
        layers = sandbox.isolation()
    return wall, statistics.median(spawns), layers


def run_process(assignment_id: str, isolate: bool) -> tuple[float, float, tuple[str, ...]]:
    """One run in a fresh process: its wall time, its median worker start, its layers."""
    import json
    import subprocess

    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--one", assignment_id, "--isolate" if isolate else "--no-isolate"],
                         check=True, capture_output=True, text=True, cwd=REPO).stdout
    wall = time.perf_counter() - start
    _, spawn, layers = json.loads(out.splitlines()[-1])
    return wall, spawn, tuple(layers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", choices=sorted(SUBMISSIONS), default="basics")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=True, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import json

        print(json.dumps(grade_once(args.one, args.isolate)))
        return 0
    run_process(args.assignment, True)  # warm the file cache
    rows: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    layers: dict[bool, tuple[str, ...]] = {}
    for run in range(args.runs):
        for isolate in (run % 2 == 0, run % 2 == 1):
            wall, spawn, layers[isolate] = run_process(args.assignment, isolate)
            rows[isolate].append((wall, spawn))
            print(f"run {run + 1} {'full' if isolate else 'off ':4}  wall {wall:6.2f} s   worker start {spawn * 1000:5.1f} ms",
                  flush=True)
    full, off = (statistics.median(w for w, _ in rows[i]) for i in (True, False))
    spawn_full, spawn_off = (statistics.median(s for _, s in rows[i]) * 1000 for i in (True, False))
    print(f"layers full: {', '.join(layers[True])}")
    print(f"layers off:  {', '.join(layers[False])}")
    print(f"median run (a fresh process, as grader grade): full {full:.2f} s, off {off:.2f} s: {100 * (full / off - 1):+.1f}% "
          f"({'meets' if full <= 1.10 * off else 'MISSES'} the 10% target)")
    print(f"median worker start: full {spawn_full:.1f} ms, off {spawn_off:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
