"""A control group per worker: what really bounds its processes and its memory.

Resource limits cannot do this: RLIMIT_NPROC is ignored for root and counts threads, and
RLIMIT_AS below about 4 GiB breaks ``import torch``. A cgroup counts every process the
worker starts (a fork bomb stops at ``processes``) and every page it touches (a memory
bomb is killed at ``memory_mb``, and the grader can tell that this is what happened).

Groups are made under the grader's own cgroup, one folder per zygote and one per worker:
``<controller>/<own path>/grader-<zygote pid>/<worker pid>``. Linux's cgroup v1 ``pids``
and ``memory`` controllers are used where they are mounted and writable (root); elsewhere
:func:`create` returns None and the layer is reported as missing.

>>> group = create("grader-1234", "w-5678", processes=32, memory_mb=4096)   # doctest: +SKIP
>>> group.add(5678); group.memory_exceeded(); group.remove()                 # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

CONTROLLERS = ("pids", "memory")


def _mounts() -> dict[str, str]:
    """Mount point of each cgroup v1 controller we use, from /proc/self/mounts."""
    found: dict[str, str] = {}
    try:
        with open("/proc/self/mounts") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) >= 4 and fields[2] == "cgroup":
                    for option in fields[3].split(","):
                        if option in CONTROLLERS:
                            found[option] = fields[1]
    except OSError:
        pass
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path in each v1 controller, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as groups:
            for line in groups:
                _, names, path = line.rstrip("\n").split(":", 2)
                for name in names.split(","):
                    paths[name] = path
    except (OSError, ValueError):
        pass
    return paths


def zygote_folders(zygote: str) -> list[str]:
    """The folders that hold the workers' groups of one zygote, one per controller."""
    mounts, own = _mounts(), _own_paths()
    return [os.path.join(mounts[c], own.get(c, "/").lstrip("/"), zygote) for c in CONTROLLERS if c in mounts]


@dataclass(frozen=True)
class Group:
    """One worker's cgroup: a folder in the pids and in the memory hierarchy."""

    pids: str
    memory: str

    def add(self, pid: int) -> None:
        """Move the process ``pid`` (as the grader sees it) into the group."""
        for folder in (self.pids, self.memory):
            with open(os.path.join(folder, "cgroup.procs"), "w") as procs:
                procs.write(str(pid))

    def memory_exceeded(self) -> bool:
        """True when the kernel killed a process of the group for going over its memory limit."""
        try:
            with open(os.path.join(self.memory, "memory.oom_control")) as control:
                counts = dict(line.split() for line in control if len(line.split()) == 2)
            return int(counts.get("oom_kill", 0)) > 0
        except (OSError, ValueError):
            return False

    def remove(self, wait: float = 2.0) -> None:
        """Remove the group once its last process is gone (they die asynchronously)."""
        for folder in (self.pids, self.memory):
            _remove_folder(folder, wait)


def _remove_folder(folder: str, wait: float) -> None:
    """rmdir a cgroup folder, retrying for up to ``wait`` seconds while processes leave it."""
    deadline = time.monotonic() + wait
    while True:
        try:
            os.rmdir(folder)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)


def _write(folder: str, name: str, value: int) -> None:
    with open(os.path.join(folder, name), "w") as handle:
        handle.write(str(value))


def create(zygote: str, worker: str, processes: int, memory_mb: int) -> Group | None:
    """Make the group of one worker with its limits; None where cgroups are not available."""
    folders = zygote_folders(zygote)
    if len(folders) != len(CONTROLLERS):
        return None
    group = Group(*(os.path.join(folder, worker) for folder in folders))
    try:
        for folder in (group.pids, group.memory):
            os.makedirs(folder, exist_ok=True)
        _write(group.pids, "pids.max", processes)
        _write(group.memory, "memory.limit_in_bytes", memory_mb * 1024 * 1024)
        if os.path.exists(os.path.join(group.memory, "memory.memsw.limit_in_bytes")):
            _write(group.memory, "memory.memsw.limit_in_bytes", memory_mb * 1024 * 1024)
    except OSError:
        group.remove(wait=0)
        return None
    return group


def remove_zygote_folders(zygote: str) -> None:
    """Remove what is left of a zygote's groups (workers killed with it leave theirs behind)."""
    for folder in zygote_folders(zygote):
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if os.path.isdir(os.path.join(folder, name)):
                    _remove_folder(os.path.join(folder, name), wait=0.5)
            _remove_folder(folder, wait=0.5)
