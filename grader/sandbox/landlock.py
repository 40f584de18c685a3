"""Landlock: the worker's file-system and TCP confinement where namespaces are not allowed.

Landlock lets any process, root or not, restrict itself and every process it starts
later. The worker calls :func:`restrict` once, after no_new_privs and before any student
code runs, and from then on it may:

* read and execute beneath the system folders, the Python installation and its
  site-packages (``view.SYSTEM``, ``view.python_trees()``), and read ``view.ETC_FILES``
  and ``/proc/cpuinfo``;
* read and write ``/dev/null`` and ``/dev/zero``, read ``/dev/random`` and ``/dev/urandom``;
* read, write, create and remove files beneath its scratch folder (but not execute them).

Everything else (the repository, the reference solutions, the hidden checks, config.yaml,
other submissions, the grader's output folders, ``/etc``, ``/tmp``, the rest of ``/proc``
and the home folder) cannot be opened: the kernel answers EACCES. With ABI 4 every TCP bind and connect
is refused; with ABI 6 the worker can neither signal nor reach the abstract Unix sockets of
processes outside its domain (the keeper, the zygote, the grader). Landlock also refuses
ptrace, and so ``/proc/<pid>/mem``, of every process outside the domain, whatever the ABI.

Only the rights the running kernel's ABI knows are asked for; where Landlock is missing or
disabled :func:`restrict` changes nothing and says so.

>>> restrict("/tmp/grader-1/w-2")                                    # doctest: +SKIP
Restricted(files=True, network=True, signals=True)
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import linux, view

# The same numbers on x86_64 and aarch64 (the syscall table shared since Linux 5.13).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
BIND_TCP, CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

# The file-system rights each ABI version added (ABI 4 and 6 added network and scopes).
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: REFER, 3: TRUNCATE, 5: IOCTL_DEV}
# The only rights a rule on a file (not a folder) may carry; the kernel refuses others.
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV

READ = EXECUTE | READ_FILE | READ_DIR
# What the CPU is: without it torch's cpuinfo fails and ATen falls back to its scalar kernels,
# slower and rounding differently from the grader's own process. Nothing else of /proc is
# reachable: no process's memory, environment or command line, not even the worker's own.
HARDWARE = ("/proc/cpuinfo",)
DEVICE_READ_WRITE = READ_FILE | WRITE_FILE | TRUNCATE
# Everything but executing, device nodes and device ioctls: the view mounts scratch noexec too.
SCRATCH = ((1 << 16) - 1) & ~(EXECUTE | MAKE_CHAR | MAKE_BLOCK | IOCTL_DEV)


class _RulesetAttr(ctypes.Structure):
    # Newer kernels accept this larger struct from older ABIs as long as the unknown fields are 0.
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # packed in the kernel's header: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass(frozen=True)
class Restricted:
    """What :func:`restrict` put in force: the file rules, TCP refused, signals scoped."""

    files: bool = False
    network: bool = False
    signals: bool = False


def abi_version() -> int:
    """The Landlock ABI version of the running kernel; 0 where there is none (or not Linux).

    >>> abi_version() >= 0
    True
    """
    version = linux.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(version, 0)


def fs_rights(abi: int) -> int:
    """Every file-system right ABI version ``abi`` knows.

    >>> fs_rights(1) == (1 << 13) - 1, fs_rights(3) == (1 << 15) - 1
    (True, True)
    """
    rights = 0
    for version, added in _FS_RIGHTS_BY_ABI.items():
        if abi >= version:
            rights |= added
    return rights


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _beneath_except(tree: str, hidden: list[str]) -> list[str]:
    """The paths to grant instead of ``tree`` so that the ``hidden`` paths stay out of reach.

    A rule grants everything beneath its folder, so where hidden paths lie inside ``tree``,
    ``tree`` is replaced by the entries of each folder on the way down to them, leaving out
    the hidden paths themselves. A rule is tied to the folder a link leads to, so an entry
    leading to a hidden path or above it (a venv's ``lib64 -> lib``) is left out too: what it
    leads to is reached through the real path, whose entries are granted.

    >>> _beneath_except("/opt/py", ["/srv/grader"]), _beneath_except("/srv/grader/x", ["/srv/grader"])
    (['/opt/py'], [])
    """
    if any(_inside(tree, path) for path in hidden):
        return []
    above = {str(folder) for path in hidden for folder in Path(path).parents}
    if tree not in above:
        return [tree]
    paths: list[str] = []
    folders = [tree]
    while folders:
        # scandir tells links apart without a system call for each of site-packages' hundreds of entries.
        for entry in os.scandir(folders.pop()):
            if entry.is_symlink():
                real = os.path.realpath(entry.path)
                if not any(_inside(path, real) or _inside(real, path) for path in hidden):
                    paths.append(entry.path)
            elif entry.path in above:
                folders.append(entry.path)
            elif entry.path not in hidden:
                paths.append(entry.path)
    return sorted(paths)


def rules(folder: str) -> list[tuple[str, int]]:
    """The paths the worker keeps, each with its rights; the rest of the disk is refused.

    A tree holding files of the grader's installation (``view.install_files``: its package
    where it is installed in site-packages, its metadata, an editable install's finder) keeps
    ``READ_DIR`` on the whole tree, so that Python can still list site-packages to import from
    it: their names can then be listed, never read.

    >>> ("/usr", READ) in rules("/tmp")                                 # doctest: +SKIP
    True
    """
    granted: list[tuple[str, int]] = []
    hidden = view.install_files()
    for tree in sorted({os.path.realpath(t) for t in (*view.SYSTEM, *view.python_trees()) if os.path.exists(t)}):
        entries = _beneath_except(tree, hidden)
        if entries and entries != [tree]:
            granted.append((tree, READ_DIR))
        granted += [(entry, READ) for entry in entries]
    granted += [(path, READ_FILE) for path in (*view.ETC_FILES, *HARDWARE)]
    granted += [(f"/dev/{name}", DEVICE_READ_WRITE if name in ("null", "zero") else READ_FILE)
                for name in view.DEVICES]
    granted.append((folder, SCRATCH))
    return [(path, rights) for path, rights in dict(granted).items() if os.path.exists(path)]


def _add_rule(ruleset: int, path: str, rights: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        attr = _PathBeneathAttr(rights, fd)
        return linux.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(attr), 0) == 0
    finally:
        os.close(fd)


def restrict(folder: str) -> Restricted:
    """Confine this process (and all it starts) to :func:`rules`; what is in force.

    Needs no_new_privs (``linux.no_new_privileges``) unless the process has
    CAP_SYS_ADMIN. All or nothing: a rule the kernel refuses leaves this process as it
    was, and the layers are reported missing rather than half in force. Applies to the
    calling thread and its future children: call it while the worker has one thread.
    """
    abi = abi_version()
    if abi < 1:
        return Restricted()
    handled = fs_rights(abi)
    network = BIND_TCP | CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(handled, network, scoped)
    ruleset = linux.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                            ctypes.c_uint32(0))
    if ruleset < 0:
        return Restricted()
    try:
        # No rule for TCP ports: with the TCP rights handled, every bind and connect is refused.
        if not all(_add_rule(ruleset, path, rights & handled) for path, rights in rules(folder)):
            return Restricted()
        if linux.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            return Restricted()
    finally:
        os.close(ruleset)
    return Restricted(files=True, network=bool(network), signals=bool(scoped))
