"""A seccomp filter that leaves the worker only Unix sockets: no UDP, no raw sockets, no TCP.

Landlock refuses TCP binds and connects, but not UDP, ICMP or raw sockets. This classic-BPF
filter makes ``socket()`` fail with EPERM for every address family except ``AF_UNIX``
(multiprocessing and ``socketpair`` keep working), and refuses ``io_uring_setup``, whose
requests would create sockets without passing through ``socket()``. Calls of another
architecture (32-bit x86 on x86_64, or the x32 ABI) fail with EPERM too: they have their
own numbers for the same calls. Everything else is allowed. Failing calls get an error
rather than a kill, so a submission that tries the network reads a Python ``OSError``.

>>> refuse_sockets()                                                  # doctest: +SKIP
True
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket
import struct

from grader.sandbox import linux

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
# Classic BPF opcodes: load a 32-bit word of ``struct seccomp_data``, compare, return.
_LOAD, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
# Offsets in ``struct seccomp_data``: nr, arch, then args[0] as 64 bits (its low half first
# on these little-endian machines; the kernel reads the domain as a 32-bit int).
_NR, _ARCH, _ARG0 = 0, 4, 16
X32_SYSCALL_BIT = 0x40000000
IO_URING_SETUP = 425
# AUDIT_ARCH_* and the number of socket() for each architecture the filter knows.
ARCHES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198), "arm64": (0xC00000B7, 198)}


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter for ``machine`` as (code, jump if true, jump if false, k) instructions.

    Jumps count the instructions to skip. Empty for an architecture it does not know.

    >>> len(program("x86_64")), program("sparc")
    (11, [])
    """
    if machine not in ARCHES:
        return []
    arch, socket_nr = ARCHES[machine]
    deny = RET_ERRNO | errno.EPERM
    x32 = [(_JGE, 4, 0, X32_SYSCALL_BIT)] if machine == "x86_64" else []
    return [
        (_LOAD, 0, 0, _ARCH),
        (_JEQ, 1, 0, arch),
        (_RET, 0, 0, deny),                    # another architecture's calls
        (_LOAD, 0, 0, _NR),
        *x32,                                  # x32 calls: to the last instruction, deny
        (_JEQ, 3, 0, IO_URING_SETUP),          # to deny
        (_JEQ, 0, 3, socket_nr),               # not socket(): to allow
        (_LOAD, 0, 0, _ARG0),
        (_JEQ, 1, 0, socket.AF_UNIX),          # to allow
        (_RET, 0, 0, deny),
        (_RET, 0, 0, RET_ALLOW),
    ]


def refuse_sockets() -> bool:
    """Install the filter on this thread and its future children; True when it took.

    Needs no_new_privs (``linux.no_new_privileges``) unless the process has CAP_SYS_ADMIN.
    """
    instructions = program(platform.machine())
    if not instructions:
        return False
    code = b"".join(struct.pack("=HBBI", *instruction) for instruction in instructions)
    prog = _SockFprog(len(instructions), code)
    return linux.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog)) == 0
