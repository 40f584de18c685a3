"""``process-tree`` without a PID namespace: the keeper adopts and kills what the worker leaves.

As root the worker is the first process of its own PID namespace, and the kernel kills
everything it started when it dies. Without root the keeper makes itself a *child
subreaper* before forking the worker (:func:`adopt`): a process of the worker's tree whose
parent dies, one that called ``setsid()`` included, is re-parented to the keeper instead
of init. Once the worker is dead the keeper kills its children and reaps them until it has
none left (:func:`kill_all`): every process of the tree is then gone, since a living one
would have a chain of living parents up to the keeper.

This holds only while the worker cannot kill its keeper, which Landlock's signal scope
(ABI 6) guarantees: :func:`adopt` refuses where that is missing, and the layer is then
reported missing. Unlike a PID namespace this does not bound how fast a fork bomb grows
(the ``cgroup`` layer does), and the worker still sees the machine's process ids.

>>> adopt()                                              # in the keeper  # doctest: +SKIP
True
>>> kill_all()                                           # once the worker is reaped  # doctest: +SKIP
"""

from __future__ import annotations

import os
import signal

from grader.sandbox import landlock, linux


def adopt() -> bool:
    """Make this process the subreaper of its future descendants; True when it is in force."""
    return landlock.abi_version() >= 6 and linux.child_subreaper()


def children() -> list[int]:
    """This (single-threaded) process's children, zombies included."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except OSError:
        return _children_by_scan(pid)


def _children_by_scan(parent: int) -> list[int]:
    """The children of ``parent`` from every process's stat (kernels without CONFIG_PROC_CHILDREN)."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat") as stat:
                # The fourth field, after the command name in parentheses (which may hold spaces).
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError, ValueError):
            continue
        if int(fields[1]) == parent:
            found.append(int(name))
    return found


def kill_all() -> None:
    """Kill every process below this one and reap it; returns when none is left.

    Safe against reused process ids: a child is never reaped by anyone else, so its id
    names it until this loop waits for it. Each round kills the children not yet killed
    (orphans re-parented here since the last round among them), waits for one to die and
    reaps every other that has: thousands of children left by a fork bomb take one round.
    """
    killed: set[int] = set()
    while True:
        for child in set(children()) - killed:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
            killed.add(child)
        try:
            reaped, _ = os.wait()
            while reaped:
                killed.discard(reaped)
                reaped, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return

