"""Benchmark: grade each assignment under Gradescope's default limits, 768 MB and half a CPU.

    python3 bench/bench_gradescope.py [--assignment basics|ps5] [--memory-mb 768] [--cpus 0.5]

Needs root on Linux. Each run is one ``grader grade`` process (what ``run_autograder``
starts) put, before it execs, into a fresh control group with the memory limit and the CPU
quota set; the sandbox's workers are made in groups below it, so the group's figures count
every process of the run. Printed per assignment: wall time, the peak of the group's memory
(``max_usage``: what the kernel holds against the limit, page cache included), the peak of
its processes' resident memory (sampled every 0.1 s), times the limit was hit, processes
killed for memory, and the score (a full-marks submission must keep full marks).

Uses cgroup v2 (``memory.max``, ``cpu.max``, ``memory.peak``) where the memory and cpu
controllers are on the unified hierarchy, and otherwise cgroup v1 (``memory.limit_in_bytes``,
``memory.max_usage_in_bytes``, ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``), as on the
machine these figures were first taken on.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CGROUP = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
# Correct submissions: all of every check runs (a failing check stops at its first failure).
SUBMISSIONS = {"basics": REPO / "tests" / "fixtures" / "basics" / "alt_correct", "ps5": REPO / "reference" / "ps5"}
GRADESCOPE_SECONDS = 600


@dataclass(frozen=True)
class Groups:
    """The control group of one run: where to put the process and where to read the figures."""

    procs: tuple[Path, ...]
    memory: Path
    version: int

    def read(self, name: str) -> str:
        return (self.memory / name).read_text()

    def peak(self) -> int:
        return int(self.read("memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"))

    def resident(self) -> int:
        """Resident anonymous memory of every process in the group now."""
        stat = dict(line.split() for line in self.read("memory.stat").splitlines())
        return int(stat["anon"]) if self.version == 2 else int(stat["total_rss"])

    def limit_hits(self) -> tuple[int, int]:
        """(times memory reached the limit, processes the kernel killed for memory)."""
        if self.version == 2:
            events = dict(line.split() for line in self.read("memory.events").splitlines())
            return int(events["max"]), int(events["oom_kill"])
        control = dict(line.split() for line in self.read("memory.oom_control").splitlines())
        return int(self.read("memory.failcnt")), int(control.get("oom_kill", 0))

    def remove(self) -> None:
        for folder in {p.parent for p in self.procs}:
            for child in sorted(folder.glob("**/"), key=lambda p: -len(p.parts)):
                try:
                    child.rmdir()
                except OSError:
                    pass


def _v2_usable() -> bool:
    controllers = CGROUP / "cgroup.controllers"
    return controllers.exists() and {"memory", "cpu"} <= set(controllers.read_text().split())


def _own_v1(controller: str) -> Path:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return CGROUP / controller / path.lstrip("/")
    raise SystemExit(f"no cgroup v1 {controller} controller here")


def make_groups(name: str, memory_mb: int, cpus: float) -> Groups:
    limit, quota = memory_mb * 1024 * 1024, int(cpus * PERIOD_US)
    if _v2_usable():
        folder = CGROUP / name
        folder.mkdir()
        (folder / "memory.max").write_text(str(limit))
        (folder / "memory.swap.max").write_text("0")
        (folder / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        return Groups((folder / "cgroup.procs",), folder, 2)
    memory, cpu = _own_v1("memory") / name, _own_v1("cpu") / name
    memory.mkdir()
    cpu.mkdir()
    (memory / "memory.limit_in_bytes").write_text(str(limit))
    if (memory / "memory.memsw.limit_in_bytes").exists():  # no swapping past the limit either
        (memory / "memory.memsw.limit_in_bytes").write_text(str(limit))
    (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
    (cpu / "cpu.cfs_quota_us").write_text(str(quota))
    return Groups((memory / "cgroup.procs", cpu / "cgroup.procs"), memory, 1)


def grade_limited(assignment: str, submission: Path, memory_mb: int, cpus: float) -> dict[str, float]:
    groups = make_groups(f"bench-gradescope-{os.getpid()}-{assignment}", memory_mb, cpus)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp) / "results.json"
            grade = [sys.executable, "-m", "grader", "grade", str(submission), "--assignment", assignment,
                     "--json", str(results), "--color", "never"]
            # The shell joins the groups, then becomes the grader: nothing runs outside them.
            joins = "; ".join(f"echo $$ > {shlex.quote(str(p))}" for p in groups.procs)
            start = time.perf_counter()
            process = subprocess.Popen(["sh", "-c", f"{joins}; exec {shlex.join(grade)}"], cwd=REPO,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            resident = 0
            while process.poll() is None:
                resident = max(resident, groups.resident())
                time.sleep(0.1)
            wall = time.perf_counter() - start
            stderr = process.stderr.read() if process.stderr else ""
            data = json.loads(results.read_text()) if results.exists() else None
        hits, killed = groups.limit_hits()
        return {"wall": wall, "peak": groups.peak(), "resident": resident, "hits": hits, "killed": killed,
                "status": process.returncode, "score": data["score"] if data else None,
                "max_score": data["max_score"] if data else None, "isolation": data["output"].splitlines()[1]
                if data else stderr.strip().splitlines()[-1:]}
    finally:
        groups.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", choices=sorted(SUBMISSIONS), action="append")
    parser.add_argument("--memory-mb", type=int, default=768)
    parser.add_argument("--cpus", type=float, default=0.5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root, to make control groups")
    version = 2 if _v2_usable() else 1
    print(f"Gradescope's limits: {args.memory_mb} MB, {args.cpus:g} CPU (cgroup v{version}), "
          f"{os.cpu_count()} cores here")
    print(f"{'assignment':<10} {'wall s':>7} {'peak MiB':>9} {'resident MiB':>13} {'at limit':>9} "
          f"{'killed':>7} {'score':>9}  fits 10 min")
    ok = True
    for assignment in args.assignment or sorted(SUBMISSIONS):
        row = grade_limited(assignment, SUBMISSIONS[assignment], args.memory_mb, args.cpus)
        full = row["score"] is not None and row["score"] == row["max_score"]
        fits = full and row["killed"] == 0 and row["wall"] < GRADESCOPE_SECONDS
        ok = ok and fits
        score = f"{row['score']:g}/{row['max_score']:g}" if row["score"] is not None else f"exit {row['status']}"
        print(f"{assignment:<10} {row['wall']:7.1f} {row['peak'] / 2**20:9.0f} {row['resident'] / 2**20:13.0f} "
              f"{row['hits']:9d} {row['killed']:7d} {score:>9}  {'yes' if fits else 'NO'}")
        print(f"{'':<10} {row['isolation']}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
