"""The pre-warmed process that forks workers: torch imported once, forked in ~20 ms.

Started by the parent as ``python -I -m grader.sandbox.zygote FD [MODULE ...]`` with a clean
environment and one thread per library. It imports torch, numpy and the worker code
(nothing of the course's checks or solutions), then waits on the socket FD for requests::

    {"op": "spawn", "folder": "/tmp/scratch-123"}

For each it forks a worker in its own session, connected to the parent by a fresh socket
pair, and replies ``{"pid": 1234}`` with the parent's end of that pair attached (SCM_RIGHTS).
Forking happens before any torch operation has started a thread pool, which keeps it safe.
The assignment's ``preload`` modules (torchvision, say) are imported once the first worker
is out, so that import overlaps with that worker's checks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import json
import os
import signal
import socket
import sys

import numpy as np  # noqa: F401  (imported so every worker starts with it loaded)
import torch

from grader.sandbox import confine, worker


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (PR_SET_PDEATHSIG).

    A grader killed with SIGKILL then takes the zygote with it, and the zygote its workers,
    even a worker stuck in an endless loop that would never notice its socket closing.
    Elsewhere this does nothing.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _child(conn: socket.socket, folder: str) -> None:
    """Become a worker: own session, scratch folder as working directory, quiet fds."""
    die_with_parent()
    os.setsid()
    layers = confine.confine()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.chdir(folder)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.path[:0] = [folder]
    torch.set_num_threads(1)
    worker.serve(conn, folder, layers)


def main(fd: int, preload: list[str]) -> None:
    die_with_parent()
    control = socket.socket(fileno=fd)
    # Workers are reaped automatically; the parent watches them through their sockets.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # Ctrl-C in the terminal reaches the whole foreground group; the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stream = control.makefile("rb")
    for line in stream:
        request = json.loads(line)
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                stream.close()
                control.close()
                parent_end.close()
                _child(child_end, request["folder"])
            finally:
                os._exit(0)
        child_end.close()
        socket.send_fds(control, [json.dumps({"pid": pid}).encode() + b"\n"], [parent_end.fileno()])
        parent_end.close()
        # Preloading after the first worker is out overlaps the import with its work;
        # workers forked later start with the modules loaded.
        while preload:
            importlib.import_module(preload.pop(0))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
