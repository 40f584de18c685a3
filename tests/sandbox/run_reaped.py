"""Run a command as a child subreaper; report every process it left behind, then kill them.

    python run_reaped.py REPORT.json COMMAND ...

Orphans of the command (even those that called setsid()) are re-parented to this process
instead of init, so after the command ends its remaining descendants are exactly this
process's children. Their command lines go to REPORT.json; the exit status is the command's.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PATIENCE = 30  # seconds the processes of an ended run get to end too


def children() -> dict[int, str]:
    """This process's children (re-parented orphans included), with their command lines."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    found[int(entry)] = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError, ValueError):
            continue
    return found


def main(report: str, command: list[str]) -> int:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    code = subprocess.run(command).returncode
    # Orphans are re-parented as their parents exit, and a keeper still cleaning up after its
    # worker takes a moment longer on a busy machine: what is left after a while was left behind.
    deadline = time.monotonic() + PATIENCE
    while (left := children()) and time.monotonic() < deadline:
        time.sleep(0.1)
    with open(report, "w") as handle:
        json.dump(sorted(left.values()), handle)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
