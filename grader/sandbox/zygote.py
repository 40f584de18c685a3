"""The pre-warmed process that forks workers: torch imported once, forked in ~20 ms.

Started by the parent as ``python -I -c START FD [MODULE ...]`` (``client.ZYGOTE``) with a
clean environment and one thread per library. It imports torch, numpy and the worker code
(nothing of the course's checks or solutions, nothing of the grader beyond this package and
its errors), forgets where the grader is installed (``forget.py``: no worker can import it or
find its files), then waits on the socket FD for requests::

    {"op": "spawn", "plan": {"folder": "/tmp/grader-1/w-2", "root": "/tmp/grader-1/root", ...}}

For each it forks a *keeper*, which enters new namespaces and forks the *worker* (the first
process of its PID namespace), puts it in its control group, waits for it, and on its
death tells the parent why it died (memory, CPU time, exit status) and removes the group.
Where no PID namespace is allowed, the keeper adopts the worker's orphans instead and kills
them once the worker is dead (``orphans.py``). A keeper whose zygote dies (the grader was
killed) kills its worker itself rather than trust the worker's own parent-death signal.
The zygote replies ``{"pid": worker, "keeper": keeper, "tree": true}`` with two file
descriptors attached (SCM_RIGHTS): the parent's end of a fresh socket pair to the worker,
and a pidfd of the worker, with which the parent kills it without any race on reused pids.
Forking happens before any torch operation has started a thread pool, which keeps it safe.
The assignment's ``preload`` modules (torchvision, say) are imported before the first worker
is forked, while the parent imports the same modules on the other core: imported after it,
they would hold up the second worker for as long as the import takes, and they cost the
parent about that much too, later, on the way of the exercise that needs them.

One zygote may serve several parents (the job processes of a batch, forked from one
process): ``{"op": "attach"}`` with a socket attached (SCM_RIGHTS) opens another control
channel, served like the first. When a channel closes (its parent ended, perhaps killed),
the keepers of its workers that are still alive are told to kill them; the zygote ends
when its last channel closes.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
from typing import NoReturn

import numpy as np  # noqa: F401  (imported so every worker starts with it loaded)
import torch

from grader.sandbox import cgroups, codec, confine, orphans, view, worker
from grader.sandbox.linux import die_with_parent


def _work(conn: socket.socket, plan: confine.Plan, namespaces: tuple[str, ...], in_cgroup: bool,
          adopted: bool) -> None:
    """Become the worker: confined, quiet file descriptors, answering the parent."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    layers = confine.confine(plan, namespaces, in_cgroup, adopted)
    sys.path[:0] = [plan.folder]
    torch.set_num_threads(1)
    worker.serve(conn, plan.folder, layers)


def _death(status: int, cpu: float, plan: confine.Plan, group: cgroups.Group | None) -> dict[str, object] | None:
    """Why the worker died, for the parent; None for a normal end (the parent hung up).

    ``cpu`` is the CPU time it used. The first process of a PID namespace ignores SIGXCPU,
    so going over the CPU limit shows as SIGKILL at the hard limit, a second later.
    """
    if group is not None and group.memory_exceeded():
        return {"kind": "memory"}
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU or (number == signal.SIGKILL and cpu >= plan.cpu_seconds):
            return {"kind": "cpu"}
        return {"kind": "signal", "signal": signal.Signals(number).name if number in signal.valid_signals() else str(number)}
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return None if code == 0 else {"kind": "exit", "code": code}


def _keep(conn: socket.socket, plan: confine.Plan, report: int, zygote: int) -> NoReturn:
    """The keeper: start the worker in new namespaces and a cgroup, outlive it, report its death."""
    die_with_parent()
    os.setsid()
    namespaces = confine.enter_namespaces(plan)
    adopted = plan.isolate and "process-tree" not in namespaces and orphans.adopt()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    go_read, go_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(go_write)
        os.close(report)
        in_cgroup = os.read(go_read, 1) == b"1"
        os.close(go_read)
        try:
            _work(conn, plan, namespaces, in_cgroup, adopted)
        finally:
            os._exit(0)
    os.close(go_read)
    _kill_worker_with_parent(pid, zygote)
    group = cgroups.create(f"grader-{zygote}", f"w-{os.getpid()}", plan.processes, plan.memory_mb) \
        if plan.isolate else None
    if group is not None:
        try:
            group.add(pid)
        except OSError:
            group.remove(wait=0)
            group = None
    os.write(report, json.dumps({"pid": pid, "tree": "process-tree" in namespaces or adopted}).encode())
    os.close(report)
    # The worker runs no student code before it is inside its group.
    os.write(go_write, b"1" if group else b"0")
    os.close(go_write)
    _, status, usage = os.wait4(pid, 0)
    death = _death(status, usage.ru_utime + usage.ru_stime, plan, group)
    if death is not None:
        try:
            codec.write_message(conn, {"ok": False, "lost": death})
        except OSError:
            pass  # the parent had already given up on the worker (it killed it on time-out)
    conn.close()
    if adopted:
        orphans.kill_all()
    if group is not None:
        group.remove()
    os._exit(0)


def _kill_worker_with_parent(worker: int, zygote: int) -> None:
    """When this keeper's parent dies, kill the worker rather than the keeper.

    The worker cannot be trusted to die with its keeper: its own parent-death signal is
    one ``prctl`` away from being cleared, and it would then outlive a grader killed with
    SIGKILL. The keeper instead kills it through a pidfd (with it, as root, its whole PID
    namespace), sees it die as usual and still cleans up: it kills the orphans it adopted
    (``orphans.kill_all``) and removes the control group, which a keeper killed with its
    zygote (when the grader closes its sandbox) never would.
    """
    if not hasattr(os, "pidfd_open"):  # not Linux: there is no parent-death signal either
        return
    pidfd = os.pidfd_open(worker)

    def kill_worker(signum: int, frame: object) -> None:
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass  # already dead: the keeper is reaping what it left

    signal.signal(signal.SIGTERM, kill_worker)
    die_with_parent(signal.SIGTERM)
    if os.getppid() != zygote:  # the zygote died before the signal was asked for
        kill_worker(signal.SIGTERM, None)


def _spawn(control: socket.socket, channels: list[socket.socket], held: list[int], request: dict,
           zygote: int) -> int | None:
    """Fork a keeper for one spawn request on ``control`` and hand the parent its worker.

    Returns a pidfd of the keeper (None where there are none). The keeper closes every
    control channel of the zygote (a worker holding one could answer spawn requests in
    the zygote's name) and the pidfds of the other keepers (``held``).
    """
    plan = confine.Plan(**request["plan"])
    parent_end, child_end = socket.socketpair()
    report_read, report_write = os.pipe()
    keeper = os.fork()
    if keeper == 0:
        try:
            for channel in channels:
                channel.close()
            for pidfd in held:
                os.close(pidfd)
            parent_end.close()
            os.close(report_read)
            _keep(child_end, plan, report_write, zygote)
        finally:
            os._exit(0)
    child_end.close()
    os.close(report_write)
    # Opened before the keeper can end: a keeper's pid is reused once it is reaped.
    keeper_fd = os.pidfd_open(keeper) if hasattr(os, "pidfd_open") else None
    with os.fdopen(report_read, "rb") as pipe:
        data = pipe.read()
    reply = {"keeper": keeper, **json.loads(data)} if data else {"keeper": keeper, "pid": keeper, "tree": False}
    pidfd = os.pidfd_open(reply["pid"]) if hasattr(os, "pidfd_open") else None
    fds = [parent_end.fileno()] + ([pidfd] if pidfd is not None else [])
    try:
        socket.send_fds(control, [json.dumps(reply).encode() + b"\n"], fds)
    except OSError:
        pass  # the parent died waiting (a batch job killed): its channel's end ends this worker
    parent_end.close()
    if pidfd is not None:
        os.close(pidfd)
    return keeper_fd


def _end_keepers(keepers: list[int]) -> None:
    """Tell the keepers still alive to kill their workers (SIGTERM: see :func:`_kill_worker_with_parent`)."""
    for pidfd in keepers:
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGTERM)
        except ProcessLookupError:
            pass  # that worker and its keeper are already gone
        os.close(pidfd)


def _living(keepers: list[int]) -> list[int]:
    """The pidfds of keepers still running; the others are closed (a pidfd reads ready once its process ends)."""
    ended = set(select.select(keepers, [], [], 0)[0]) if keepers else set()
    for pidfd in ended:
        os.close(pidfd)
    return [pidfd for pidfd in keepers if pidfd not in ended]


def main(fd: int, preload: list[str]) -> None:
    """Serve spawn requests on the socket ``fd`` until the last control channel closes."""
    die_with_parent()
    # Each worker looks up what of the grader's installation to hide (``view.install_files``):
    # about 10 ms with importlib.metadata's caches cold, well under 1 ms once they are warm here.
    view.install_files()
    # Keepers are reaped automatically; the parent watches workers through their sockets.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # Ctrl-C in the terminal reaches the whole foreground group; the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    zygote = os.getpid()
    for module in preload:
        importlib.import_module(module)
    # What is loaded now (torch above all) lives as long as the zygote: no collection in a worker
    # walks it again (a full one costs about 0.2 s with torch loaded), nor copies its pages. Till
    # now the collector was off (client.ZYGOTE): during imports it finds nothing to free.
    gc.freeze()
    gc.enable()
    # Each control channel: the bytes of a request not yet complete, and the pidfds of its keepers.
    pending: dict[socket.socket, bytes] = {socket.socket(fileno=fd): b""}
    keepers: dict[socket.socket, list[int]] = {channel: [] for channel in pending}
    while pending:
        for channel in select.select(list(pending), [], [])[0]:
            try:
                data, fds, _, _ = socket.recv_fds(channel, 1 << 16, 1)
            except ConnectionResetError:  # a parent killed with a reply unread: its channel is closed
                data, fds = b"", []
            if not data:
                for extra in fds:
                    os.close(extra)
                del pending[channel]
                _end_keepers(keepers.pop(channel))
                channel.close()
                continue
            pending[channel] += data
            while b"\n" in pending[channel]:
                line, pending[channel] = pending[channel].split(b"\n", 1)
                request = json.loads(line)
                if request.get("op") == "attach" and fds:
                    attached = socket.socket(fileno=fds.pop())
                    pending[attached], keepers[attached] = b"", []
                    continue
                held = [pidfd for pidfds in keepers.values() for pidfd in pidfds]
                keeper = _spawn(channel, list(pending), held, request, zygote)
                keepers[channel] = _living(keepers[channel]) + ([keeper] if keeper is not None else [])
            for extra in fds:
                os.close(extra)
