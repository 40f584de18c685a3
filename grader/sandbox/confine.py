"""Confinement layers applied to a freshly forked worker, each detected and reported.

The zygote forks a keeper process, which enters new namespaces and forks the worker
(``zygote._spawn``); the worker then confines itself before any student code runs. Each
layer has a way as root and, where namespaces are refused, a way without root:

* ``session``: its own session, killed as one (always);
* ``limits``: resource limits: no core dumps, files up to 64 MiB, 256 open files, CPU
  seconds, and an address-space cap of 16 GiB (below about 4 GiB ``import torch`` breaks);
* ``no-network``: as root a new, empty network namespace (not even loopback is up);
  without root, Landlock refusing every TCP bind and connect (ABI 4) and a seccomp filter
  refusing every socket but a Unix one (``landlock.py``, ``seccomp.py``);
* ``process-tree``: as root a new PID namespace whose first process is the worker: it
  sees only its own processes, and when it dies the kernel kills every process it started,
  a child that called ``setsid()`` included; without root the keeper adopts the worker's
  orphans and kills them all once it is dead, and Landlock keeps the worker from
  signalling the keeper (ABI 6) (``orphans.py``);
* ``cgroup``: a control group bounding its processes and memory (``cgroups.py``; root only);
* ``private-files``: as root a private file-system view where only the scratch folder is
  writable and the repository, reference solutions, config and other submissions do not
  exist (``view.py``); without root, Landlock rules under which they cannot be opened and
  only the scratch folder can be written (``landlock.py``);
* ``unprivileged-uid``: the worker runs as ``nobody``, not as the grader's user (root only;
  without the private view only where ``nobody`` can read the Python installation).

Without root and without Landlock grading still runs, with the layers the machine
allows, and every report names the missing ones.

>>> sorted(LEVELS)
['full', 'network', 'process']
"""

from __future__ import annotations

import os
import resource
import site
import stat
import sys
import tempfile
from dataclasses import dataclass

from grader.sandbox import landlock, linux, seccomp, view

LAYERS = ("session", "limits", "no-network", "process-tree", "cgroup", "private-files", "unprivileged-uid")
# Levels for ``--require-isolation``, weakest first: the layers each one needs.
LEVELS: dict[str, tuple[str, ...]] = {
    "process": ("session", "limits"),
    "network": ("session", "limits", "no-network"),
    "full": LAYERS,
}
# Entered by the keeper. The worker enters its own mount namespace (``view.build_view``):
# replacing the root there must not change the keeper's, which still removes the cgroup.
NAMESPACES = {"no-network": linux.CLONE_NEWNET, "process-tree": linux.CLONE_NEWPID}
NOBODY = 65534
MIB = 1024 * 1024


@dataclass(frozen=True)
class Plan:
    """How to confine one worker; the parent sends it with each spawn request.

    ``folder`` is the scratch folder (a copy of the submission), ``root`` an empty folder
    to build the private view on. ``isolate=False`` leaves out every layer that needs
    Linux; ``namespaces=False`` confines with Landlock and seccomp instead of namespaces
    and the private view, as on a machine that refuses namespaces (to test that path).

    >>> Plan("/tmp/grader-1/w-2", "/tmp/grader-1/root", namespaces=False).isolate
    True
    """

    folder: str
    root: str
    cpu_seconds: int = 120
    memory_mb: int = 4096
    processes: int = 32
    isolate: bool = True
    namespaces: bool = True


def level_reached(layers: tuple[str, ...]) -> str | None:
    """The strongest level whose layers are all in force, or None.

    >>> level_reached(("session", "limits"))
    'process'
    """
    reached = None
    for level, needed in LEVELS.items():
        if all(layer in layers for layer in needed):
            reached = level
    return reached


def enter_namespaces(plan: Plan) -> tuple[str, ...]:
    """Move into a new network and PID namespace, each where allowed; their names.

    Called in the keeper: a new PID namespace applies to the children forked after it.
    """
    if not plan.isolate or not plan.namespaces:
        return ()
    return tuple(name for name, flag in NAMESPACES.items() if linux.unshare(flag))


def _limit(kind: int, soft: int, hard: int | None = None) -> None:
    _, ceiling = resource.getrlimit(kind)
    hard = soft if hard is None else hard
    if ceiling != resource.RLIM_INFINITY:
        soft, hard = min(soft, ceiling), min(hard, ceiling)
    resource.setrlimit(kind, (soft, hard))


def apply_limits(cpu_seconds: int) -> bool:
    """Cap core dumps, file size, open files, CPU time and address space; True when all took.

    The CPU limit is a backstop behind the grader's wall-clock limits: SIGXCPU at
    ``cpu_seconds``, SIGKILL a second later.
    """
    try:
        _limit(resource.RLIMIT_CORE, 0)
        _limit(resource.RLIMIT_FSIZE, 64 * MIB)
        _limit(resource.RLIMIT_NOFILE, 256)
        _limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
        _limit(resource.RLIMIT_AS, 16 * 1024 * MIB)
    except (ValueError, OSError):
        return False
    return True


def drop_privileges(folder: str) -> bool:
    """Become ``nobody`` (owning only the scratch folder); True when the user id changed."""
    if os.geteuid() != 0:
        return False
    try:
        os.chown(folder, NOBODY, NOBODY)
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    except OSError:
        return False
    linux.no_new_privileges()
    return os.geteuid() == NOBODY


def open_to_others(path: str, read: bool = True) -> bool:
    """Whether a user with no rights of its own (``nobody``) can reach ``path``, and read it.

    >>> open_to_others("/usr/lib"), open_to_others("/root")   # doctest: +SKIP
    (True, False)
    """
    try:
        folder = os.path.realpath(path)
        if read and not os.stat(folder).st_mode & stat.S_IROTH:
            return False
        while True:
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return False
            if folder == os.path.dirname(folder):
                return True
            folder = os.path.dirname(folder)
    except OSError:
        return False


def nobody_can_run_here(folder: str) -> bool:
    """Whether ``nobody`` could go on running this Python in ``folder`` without the private view:
    the interpreter and its packages readable (not under a 0700 home folder, say), and the
    scratch folder's parent traversable (the sandbox makes it so)."""
    trees = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.executable, *site.getsitepackages()}
    return all(open_to_others(t) for t in trees if os.path.exists(t)) and \
        open_to_others(os.path.dirname(folder), read=False)


def restrict_in_place(folder: str, adopted: bool = False) -> tuple[str, ...]:
    """Landlock and seccomp where the namespaces and the private view were refused; the
    layers they stand in for.

    ``private-files`` when the Landlock file rules took (``landlock.rules``: the repository,
    reference, checks, config, other submissions and output folders cannot be opened);
    ``no-network`` when Landlock refuses TCP (ABI 4) and the seccomp filter every socket
    but a Unix one; ``process-tree`` when the keeper ``adopted`` the worker's orphans
    (``orphans.py``) and Landlock keeps the worker from signalling it (ABI 6). No root
    needed, only no_new_privs, which this sets.

    >>> restrict_in_place("/tmp/grader-1/w-2")                       # doctest: +SKIP
    ('private-files', 'no-network')
    """
    # Landlock cannot give the worker a private /tmp as the view does; tempfile, torch's
    # compile cache (made on `import torchvision`) and matplotlib use the scratch folder instead.
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = None
    if not linux.no_new_privileges():
        return ()
    refused = seccomp.refuse_sockets()
    restricted = landlock.restrict(folder)
    layers = ["private-files"] if restricted.files else []
    if restricted.network and refused:
        layers.append("no-network")
    if adopted and restricted.signals:
        layers.append("process-tree")
    return tuple(layers)


def confine(plan: Plan, namespaces: tuple[str, ...], in_cgroup: bool, adopted: bool = False) -> tuple[str, ...]:
    """Confine this worker (run once, before any student code); the layers in force.

    ``namespaces`` are those its keeper entered, ``in_cgroup`` whether the keeper put it
    in a control group, ``adopted`` whether the keeper adopts its orphans. Where the
    private view cannot be built (no root, or ``plan.namespaces`` False), Landlock and
    seccomp stand in for it and for the namespaces (:func:`restrict_in_place`), and the
    worker keeps the grader's user id.
    """
    layers = ["session"]  # the keeper called setsid() before forking the worker
    layers += [name for name in ("no-network", "process-tree") if name in namespaces]
    if in_cgroup:
        layers.append("cgroup")
    viewed = plan.isolate and plan.namespaces and \
        view.build_view(plan.folder, plan.root, with_proc="process-tree" in namespaces)
    if viewed:
        layers.append("private-files")
    else:
        os.chdir(plan.folder)
        if plan.isolate:
            layers += restrict_in_place(plan.folder, adopted)
    # Without the private view (namespaces refused, as in many containers) the worker still
    # becomes nobody where nobody can run Python there; the files it must not read are then
    # kept from it by Landlock, or by their own permissions.
    if (viewed or (plan.isolate and nobody_can_run_here(plan.folder))) and drop_privileges(plan.folder):
        layers.append("unprivileged-uid")
    # Changing the user id cleared the parent-death signal; the keeper's death must still kill us.
    linux.die_with_parent()
    if apply_limits(plan.cpu_seconds):
        layers.append("limits")
    return tuple(layer for layer in LAYERS if layer in layers)
