"""Run tests while every core is busy: the suite must hold on a loaded machine, not only an idle one.

    python bench/bench_busy_suite.py [--load N] [PYTEST ARGUMENTS ...]

Starts ``N`` processes (default: one per core) that spin in a plain Python loop, runs pytest
with the given arguments under that load (by default the tests where speed could decide an
outcome: the attack corpus, the sandbox's limits, batch runs, endless loops and time budgets),
then stops the load. Prints the load average before and after, how long the run took, and
exits with pytest's status. A test that passes idle and fails here asserts a timing, or which
of two limits trips first, instead of the outcome a user cares about.

The whole suite under load takes about one and a half times as long as idle (12 minutes on
2 cores, against 8.5 idle, its two jobs beside the two busy processes): on a shared machine,
run the default subset, and the whole suite only when the machine is yours
(``python bench/bench_busy_suite.py -q``, arguments replace the subset).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SENSITIVE = (
    "tests/sandbox/test_attacks.py", "tests/sandbox/test_confine.py", "tests/sandbox/test_client_worker.py",
    "tests/sandbox/test_landlock.py", "tests/batch/test_run.py", "tests/batch/test_why.py",
    "tests/test_cli_basics.py", "tests/checks/test_context.py", "tests/test_watch.py",
)


def busy(count: int) -> list[subprocess.Popen[bytes]]:
    """``count`` processes that each keep one core busy until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2, metavar="N",
                        help="busy processes to start (default: one per core)")
    args, pytest_args = parser.parse_known_args()
    pytest_args = pytest_args or ["-q", *SENSITIVE]
    print(f"load average before: {os.getloadavg()[0]:.1f}; starting {args.load} busy processes", flush=True)
    spinners = busy(args.load)
    start = time.monotonic()
    try:
        status = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=REPO).returncode
    finally:
        seconds = time.monotonic() - start
        load = os.getloadavg()[0]
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    print(f"under {args.load} busy processes (load average {load:.1f} at the end): pytest exited with "
          f"status {status} after {seconds:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
