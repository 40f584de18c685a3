"""The parent's side of the boundary: start the zygote, fork workers, talk to them.

>>> with Sandbox() as sandbox:                                # doctest: +SKIP
...     worker = sandbox.spawn(Path("submission"))
...     worker.request({"op": "import", "module": "attention"}, timeout=10)

A request that does not finish within its time limit kills the worker's whole session
and raises :class:`WorkerLost`; so does a worker that dies during a call. The caller
spawns a new worker (about 20 ms) and carries on.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from grader.errors import (
    CallTimedOut,
    ProtocolError,
    ResourceLimit,
    SandboxError,
    WorkerLost,
)
from grader.sandbox import cgroups

if TYPE_CHECKING:
    from grader.config import AssignmentConfig

# The codec imports torch (about 2 s); it is imported on first use, so that the zygote is
# already starting while the parent imports torch.
DEFAULT_MAX_MESSAGE = 512 * 1024 * 1024
# Each reads after the call it ended: "attention() exited with status 3 (...)".
LOST = "ended the process running your code unexpectedly (exit(), os._exit() or a crash)"

# What the worker may see of the environment; nothing of the grader's own settings.
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SYSTEMROOT")
_ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}


# How the zygote starts: ``-c``, not ``-m``, so that no frame below its loop names its file, and
# it forgets where the grader is installed before the loop (grader/sandbox/forget.py).
ZYGOTE = ("import gc; gc.disable(); import sys; from grader.sandbox import forget, zygote; forget.forget(); "
          "zygote.main(int(sys.argv[1]), sys.argv[2:])")


def worker_environment() -> dict[str, str]:
    """A clean environment for the zygote and its workers."""
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith("OPENBLAS_CORE")}
    env.update(_ONE_THREAD)
    return env


class Worker:
    """One live worker process, the socket to it, and how to kill it with everything it started.

    ``pidfd`` names the process without any race on reused pids; ``tree`` is True when it
    is the first process of its own PID namespace, so that killing it kills every process
    it started, even those that left its session.
    """

    def __init__(self, pid: int, sock: socket.socket, folder: Path, max_message: int, *,
                 keeper: int | None = None, pidfd: int | None = None, tree: bool = False,
                 limits: tuple[int, int] = (0, 0)) -> None:
        self.pid, self.sock, self.folder, self.max_message = pid, sock, folder, max_message
        self.keeper, self.pidfd, self.tree = keeper if keeper is not None else pid, pidfd, tree
        self.memory_mb, self.cpu_seconds = limits
        self.alive = True

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait at most ``timeout`` seconds for the reply.

        Raises :class:`CallTimedOut` or :class:`WorkerLost` (the worker is killed) on
        time-out or death (:class:`ResourceLimit` when it went over its memory or CPU time),
        and :class:`ProtocolError` for a malformed reply (the worker is killed too).
        """
        from grader.sandbox import codec

        if not self.alive:
            raise WorkerLost("the worker is no longer running")
        try:
            self.sock.settimeout(None)
            codec.write_message(self.sock, message)
            self.sock.settimeout(max(timeout, 0.001))
            reply = codec.read_message(self.sock, self.max_message)
        except TimeoutError:
            self.kill()
            raise CallTimedOut(f"did not finish within the time limit of {timeout:.3g} s") from None
        except (EOFError, ConnectionError, BrokenPipeError):
            self.kill()
            raise WorkerLost(LOST) from None
        except ProtocolError:
            self.kill()
            raise
        if "lost" in reply and not reply.get("ok"):
            self.kill()
            raise self.death(reply["lost"])
        return reply

    def death(self, lost: object) -> WorkerLost:
        """The failure for the keeper's report of how the worker died (untrusted: checked)."""
        kind = lost.get("kind") if isinstance(lost, dict) else None
        if kind == "memory":
            return ResourceLimit(f"used more memory than the limit of {self.memory_mb} MiB and was stopped")
        if kind == "cpu":
            return ResourceLimit(f"used more CPU time than the limit of {self.cpu_seconds} s and was stopped")
        if kind == "exit" and isinstance(lost.get("code"), int):  # type: ignore[union-attr]
            return WorkerLost(f"exited with status {lost['code']}, ending the process running your code "  # type: ignore[index]
                              "(exit() or os._exit() in your code?)")
        name = lost.get("signal") if isinstance(lost, dict) else None
        if kind == "signal" and isinstance(name, str) and re.fullmatch(r"SIG[A-Z0-9]+", name):
            return WorkerLost(f"was killed by {name} (a crash of the process running your code)")
        return WorkerLost(LOST)

    def kill(self) -> None:
        """Kill the worker and every process it started; idempotent."""
        if not self.alive:
            return
        self.alive = False
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self.tree:
            # Without a PID namespace the session is what holds its children (not those
            # that called setsid(); the report names the missing layer).
            try:
                os.killpg(self.keeper, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        self.sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class Sandbox:
    """Owns the zygote process for one grading run; use as a context manager.

    ``preload`` names modules the zygote imports before forking (torchvision, matplotlib),
    so that every worker starts with them loaded (grading imports them meanwhile too).
    ``memory_mb`` and ``processes`` bound
    each worker (where cgroups are available); ``isolate=False`` turns off the layers that
    need Linux (namespaces, cgroup, private view, uid, Landlock, seccomp), to measure what
    they cost; ``namespaces=False`` confines with Landlock and seccomp instead of namespaces
    and the private view, as a machine without root does (``confine.restrict_in_place``).
    """

    def __init__(self, max_message: int = DEFAULT_MAX_MESSAGE, preload: tuple[str, ...] = (), *,
                 memory_mb: int = 4096, processes: int = 32, isolate: bool = True,
                 namespaces: bool = True) -> None:
        self.max_message, self.preload = max_message, preload
        self.memory_mb, self.processes, self.isolate = memory_mb, processes, isolate
        self.namespaces = namespaces
        parent_end, child_end = socket.socketpair()
        self._scratch, self._root = _scratch_folders()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-c", ZYGOTE, str(child_end.fileno()), *preload],
                pass_fds=[child_end.fileno()],
                env=worker_environment(),
                cwd=self._scratch,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise SandboxError(f"could not start the sandbox: {exc}") from exc
        finally:
            child_end.close()
        self._control = parent_end
        self._workers: list[Worker] = []
        self._layers: tuple[str, ...] | None = None
        self._owner = True

    def share(self) -> Sandbox:
        """Another sandbox served by this one's zygote: its own control channel, scratch folder and workers.

        For job processes forked from one process: N jobs then cost one zygote (one torch
        import), not N. Closing a share kills its workers and leaves the zygote running;
        closing this sandbox ends the zygote, and with it every share.

        >>> with Sandbox() as box:                                       # doctest: +SKIP
        ...     job_box = box.share()
        """
        share = copy.copy(self)
        share._scratch, share._root = _scratch_folders()
        share._control, zygote_end = socket.socketpair()
        try:
            # No reply: the zygote may still be importing torch, and need not be waited for.
            socket.send_fds(self._control, [json.dumps({"op": "attach"}).encode() + b"\n"], [zygote_end.fileno()])
        except OSError as exc:
            raise SandboxError(f"the sandbox could not be shared: {exc}") from exc
        finally:
            zygote_end.close()
        share._workers, share._layers, share._owner = [], None, False
        return share

    def spawn(self, submission: Path, provided: tuple[Path, ...] = (), cpu_seconds: int = 120,
              timeout: float = 60.0) -> Worker:
        """Fork a fresh worker whose working folder is a private copy of ``submission``.

        ``provided`` files (helpers, images) are copied in over the submission's own;
        ``cpu_seconds`` is the worker's CPU time limit (a backstop behind the time limits).
        """
        folder = Path(tempfile.mkdtemp(prefix="w-", dir=self._scratch))
        copy_submission(submission, folder)
        for path in provided:
            shutil.copyfile(path, folder / path.name)
        try:
            self._control.settimeout(timeout)
            plan = {"folder": str(folder), "root": str(self._root), "cpu_seconds": cpu_seconds,
                    "memory_mb": self.memory_mb, "processes": self.processes, "isolate": self.isolate,
                    "namespaces": self.namespaces}
            self._control.sendall(json.dumps({"op": "spawn", "plan": plan}).encode() + b"\n")
            data, fds, _, _ = socket.recv_fds(self._control, 4096, 2)
            while data and not data.endswith(b"\n"):
                data += self._control.recv(4096)
        except (TimeoutError, OSError) as exc:
            raise SandboxError(f"the sandbox did not start a worker: {exc}") from exc
        if not data or not 1 <= len(fds) <= 2:
            for fd in fds:
                os.close(fd)
            raise SandboxError("the sandbox process ended while starting a worker")
        reply = json.loads(data)
        worker = Worker(int(reply["pid"]), socket.socket(fileno=fds[0]), folder, self.max_message,
                        keeper=int(reply["keeper"]), pidfd=fds[1] if len(fds) == 2 else None,
                        tree=bool(reply["tree"]), limits=(self.memory_mb, cpu_seconds))
        self._workers = [w for w in self._workers if w.alive] + [worker]
        if self._layers is None:
            # Asked of the first worker before any student code runs in it: a probe of its own
            # would cost another fork.
            reply = worker.request({"op": "isolation"}, timeout=60)
            value = reply.get("value")
            self._layers = tuple(str(v) for v in value) if isinstance(value, list) else ()
        return worker

    def disown(self) -> None:
        """Close this process's end of the control channel, and nothing else.

        For a process forked with sandboxes it will not use (a batch job, from the process
        holding every job's share): the zygote sees a channel close only once no process
        holds it, and only then ends the workers of a job that died.
        """
        self._control.close()

    def isolation(self) -> tuple[str, ...]:
        """The confinement layers a worker gets on this machine (asked once, of the first worker,
        or of a probe when none was spawned yet)."""
        if self._layers is None:
            self.spawn(Path(tempfile.mkdtemp(prefix="probe-", dir=self._scratch))).kill()
        return self._layers or ()

    def running(self) -> bool:
        """Whether the zygote is still there to fork workers (a long session checks before each use)."""
        return self._process.poll() is None

    def close(self) -> None:
        """Kill every worker and the zygote (a share: its workers only), and remove the scratch folders."""
        for worker in self._workers:
            worker.kill()
        self._control.close()
        if not self._owner:
            shutil.rmtree(self._scratch, ignore_errors=True)
            return
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()
        # Workers killed with the zygote may leave their control groups behind.
        cgroups.remove_zygote_folders(f"grader-{self._process.pid}")
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scratch_folders() -> tuple[Path, Path]:
    """A fresh scratch folder for a sandbox's workers, and the empty folder inside it that
    each worker builds its private file-system view on."""
    scratch = Path(tempfile.mkdtemp(prefix="grader-"))
    # Traversable, not listable: a worker that became nobody without the private view must
    # still reach its own folder inside (each worker's is 0700, and its own).
    scratch.chmod(0o711)
    (scratch / "root").mkdir()
    return scratch, scratch / "root"


def sandbox_for(assignment: AssignmentConfig, *, namespaces: bool = True,
                preload: tuple[str, ...] | None = None) -> Sandbox:
    """A sandbox with the assignment's limits and preloaded modules (``preload`` where given:
    those that the exercises to be checked need).

    ``namespaces=False`` confines with Landlock and seccomp, as without root (see :class:`Sandbox`).
    """
    limits = assignment.limits
    return Sandbox(max_message=limits.max_message_mb * 1024 * 1024,
                   preload=assignment.preload if preload is None else preload,
                   memory_mb=limits.memory_mb, processes=limits.processes, namespaces=namespaces)


def copy_submission(source: Path, target: Path, max_bytes: int = 50 * 1024 * 1024) -> None:
    """Copy the regular files of a submission (no links, no special files) into ``target``.

    Links are not followed: a link to /etc/passwd in place of a file is left out.
    """
    total = 0
    for path in sorted(source.rglob("*")) if source.is_dir() else []:
        if path.is_symlink() or not path.is_file():
            continue
        rel = path.relative_to(source)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        total += path.stat().st_size
        if total > max_bytes:
            break
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / rel)

