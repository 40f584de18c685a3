"""Confinement layers applied in a freshly forked worker, each detected and reported.

Run in the child right after ``fork`` (``zygote._child``), before any student code:

* ``session``: its own session and process group, killed as one (always);
* ``limits``: resource limits: no core dumps, files up to 64 MiB, 256 open files, and an
  address-space cap of 16 GiB (below about 4 GiB ``import torch`` itself breaks);
* ``no-network``: a new, empty network namespace (Linux, needs root or CAP_SYS_ADMIN):
  not even loopback is up, so no connection leaves the worker.

>>> sorted(LAYERS)
['limits', 'no-network', 'session']
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import sys

LAYERS = ("session", "limits", "no-network")
# Levels for ``--require-isolation``, weakest first: the layers each one needs. "full" also
# needs layers this version does not build yet, so no machine reaches it.
LEVELS: dict[str, tuple[str, ...]] = {
    "process": ("session", "limits"),
    "network": ("session", "limits", "no-network"),
    "full": ("session", "limits", "no-network", "unprivileged-uid", "private-files"),
}


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
CLONE_NEWNET = 0x40000000
MIB = 1024 * 1024


def _limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (cap, cap))


def apply_limits() -> bool:
    """Cap core dumps, file size, open files and address space; True when all took."""
    try:
        _limit(resource.RLIMIT_CORE, 0)
        _limit(resource.RLIMIT_FSIZE, 64 * MIB)
        _limit(resource.RLIMIT_NOFILE, 256)
        _limit(resource.RLIMIT_AS, 16 * 1024 * MIB)
    except (ValueError, OSError):
        return False
    return True


def leave_network() -> bool:
    """Move into a new, empty network namespace; True when the kernel allowed it."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return libc.unshare(CLONE_NEWNET) == 0


def confine() -> tuple[str, ...]:
    """Apply every layer this machine allows; return the names of those in force."""
    layers = ["session"] if os.getsid(0) == os.getpid() else []
    if leave_network():
        layers.append("no-network")
    if apply_limits():
        layers.append("limits")
    return tuple(layers)
