"""The few Linux system calls the sandbox needs and Python does not wrap: unshare, mount,
pivot_root, prctl, and raw ``syscall`` for Landlock and seccomp. Each returns False (or -1,
or raises OSError for mount) instead of crashing where the kernel or the platform says no.

>>> unshare(0)   # entering no new namespace always works on Linux          # doctest: +SKIP
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import signal
import sys

IS_LINUX = sys.platform.startswith("linux")
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MNT_DETACH = 0x2
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
# pivot_root has no glibc wrapper; its number depends on the architecture.
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if IS_LINUX else None


def syscall(number: int, *args: object) -> int:
    """syscall(2) by number (Landlock has no glibc wrapper); -1 where there is no libc.

    Arguments are passed as given: wrap them in ctypes types where a plain int would not do.
    """
    return -1 if _libc is None else int(_libc.syscall(number, *args))


def prctl(option: int, *args: object) -> int:
    """prctl(2) with ``option``; pointers passed as ``ctypes.byref``. -1 where there is no libc."""
    return -1 if _libc is None else int(_libc.prctl(option, *args))


def unshare(flags: int) -> bool:
    """Move this process into new namespaces (``CLONE_*`` flags); True when allowed."""
    return _libc is not None and _libc.unshare(flags) == 0


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """mount(2); raises OSError naming the target when the kernel refuses."""
    assert _libc is not None
    encoded = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    if _libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def pivot_root_here() -> bool:
    """Make the working folder the root and detach the old root (``pivot_root(".", ".")``)."""
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if _libc is None or number is None or _libc.syscall(number, b".", b".") != 0:
        return False
    return _libc.umount2(b".", MNT_DETACH) == 0


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Ask Linux to send this process ``signum`` when its parent dies (PR_SET_PDEATHSIG).

    A grader killed with SIGKILL then takes the zygote with it, and the zygote its workers,
    even a worker stuck in an endless loop that would never notice its socket closing.
    Changing the user id clears this setting, so it is set again after that. Elsewhere
    this does nothing.
    """
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)


def child_subreaper() -> bool:
    """Adopt the orphans among this process's descendants (PR_SET_CHILD_SUBREAPER); True when in force.

    A descendant whose parent dies is re-parented to this process instead of init, even
    one that called ``setsid()``.
    """
    return _libc is not None and _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def no_new_privileges() -> bool:
    """Forbid gaining privileges through set-uid programs from here on (PR_SET_NO_NEW_PRIVS)."""
    return _libc is not None and _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
