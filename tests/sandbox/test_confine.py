"""Confinement of the worker: each layer proved from inside a worker, and the layers reported."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import REPO
from grader.errors import ResourceLimit, WorkerLost
from grader.sandbox import cgroups, view
from grader.sandbox.client import Sandbox

# Seconds a test waits for something to happen (a process to end, a child to start): a guard
# against a hang, never a bound on speed, so a busy machine only makes the wait longer.
PATIENCE = 60

PROBE = '''
import socket

def tcp(port):
    try:
        s = socket.socket()
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        return "connected"
    except OSError as exc:
        return f"refused: {exc.errno}"

def udp(port):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"leak", ("127.0.0.1", port))
        return "sent"
    except OSError as exc:
        return f"refused: {exc.errno}"

def huge_file():
    with open("huge.bin", "wb") as handle:
        handle.write(b"x" * (100 * 1024 * 1024))

def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(100).decode(errors="replace")
    except OSError as exc:
        return f"error: {exc.strerror}"

def write(path):
    try:
        with open(path, "w") as handle:
            handle.write("forged")
        return "written"
    except OSError as exc:
        return f"error: {exc.strerror}"

def who():
    import os
    return {"uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(),
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), "root": sorted(os.listdir("/"))}

def leave_children(marker):
    import os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", marker])
        os._exit(0)
    if os.fork() == 0:
        time.sleep(1000)
    return "left"

def fork_bomb():
    import os, time
    started = 0
    try:
        while True:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            started += 1
    except OSError:
        return started

def memory_bomb():
    blocks = []
    while True:
        blocks.append(bytearray(64 * 1024 * 1024))

def spin():
    while True:
        pass

def leave(code):
    import os
    os._exit(code)

def outlive_the_grader():
    import ctypes, signal
    ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG 0: no signal when the keeper dies
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return "staying"
'''

needs_root = pytest.mark.skipif(os.geteuid() != 0 or not sys.platform.startswith("linux"),
                                reason="namespaces, cgroups and a uid change need root (CAP_SYS_ADMIN) on Linux")


@pytest.fixture()
def probe(sandbox: Sandbox, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "probe.py").write_text(PROBE)
    worker = sandbox.spawn(tmp_path)
    worker.request({"op": "import", "module": "probe"}, 30)
    yield lambda function, *args: worker.request(
        {"op": "call", "module": "probe", "function": function, "args": list(args), "kwargs": {}}, 30)
    worker.kill()


@contextmanager
def loopback_listeners() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A TCP server and a UDP socket listening on loopback (the UDP one times out in 0.5 s)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.5)
    with server, listener:
        yield server, listener


@needs_root
def test_no_tcp_or_udp_leaves_the_worker_not_even_to_loopback(probe) -> None:  # type: ignore[no-untyped-def]
    with loopback_listeners() as (server, listener):
        assert probe("tcp", server.getsockname()[1])["value"].startswith("refused")
        probe("udp", listener.getsockname()[1])
        with pytest.raises(socket.timeout):
            listener.recvfrom(16)


def test_a_huge_file_cannot_be_written(probe) -> None:  # type: ignore[no-untyped-def]
    reply = probe("huge_file")
    assert not reply["ok"] and "File too large" in reply["error"]["message"]


def test_the_layers_in_force_are_reported(sandbox: Sandbox) -> None:
    layers = sandbox.isolation()
    assert "session" in layers and "limits" in layers
    if os.geteuid() == 0:
        assert "no-network" in layers


@needs_root
def test_the_strongest_level_is_reached_as_root(sandbox: Sandbox) -> None:
    assert sandbox.isolation() == ("session", "limits", "no-network", "process-tree", "cgroup",
                                   "private-files", "unprivileged-uid")


@needs_root
def test_the_worker_runs_as_nobody_and_sees_only_its_own_processes(probe) -> None:  # type: ignore[no-untyped-def]
    seen = probe("who")["value"]
    assert (seen["uid"], seen["gid"], seen["pid"], seen["processes"]) == (65534, 65534, 1, [1])
    bound = {Path(tree).parts[1] for tree in view.python_trees()}  # a venv in /work is bound there, alone
    assert not ({"work", "home", "mnt", "var"} - bound) & set(seen["root"])


@needs_root
def test_the_repository_and_the_grader_package_do_not_exist_for_the_worker(probe) -> None:  # type: ignore[no-untyped-def]
    for secret in (REPO / "reference/basics/attention.py", REPO / "config.yaml",
                   REPO / "grader/exercises/basics/attention.py", Path("/etc/passwd")):
        assert probe("read", str(secret))["value"] == "error: No such file or directory", secret


@needs_root
def test_only_the_scratch_folder_and_a_private_tmp_are_writable(probe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert probe("write", "results.json")["value"] == "written"
    # A name nothing else on the machine uses: the worker's /tmp is its own, not the real one.
    name = f"/tmp/grader-probe-{uuid.uuid4().hex}"
    assert probe("write", name)["value"] == "written"
    assert not Path(name).exists()
    for target in (tmp_path / "results.json", REPO / "results.json", Path("/usr/forged")):
        assert probe("write", str(target))["value"].startswith("error:"), target
        assert not target.exists()


def running() -> str:
    return subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@needs_root
def test_killing_a_worker_kills_every_process_it_started_setsid_included(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    worker = sandbox.spawn(tmp_path)
    worker.request({"op": "import", "module": "probe"}, 30)
    marker = f"4242.{os.getpid()}"
    assert worker.request({"op": "call", "module": "probe", "function": "leave_children",
                           "args": [marker], "kwargs": {}}, 30)["value"] == "left"
    assert wait_until(lambda: marker in running(), PATIENCE), "the grandchild never started"
    worker.kill()
    assert wait_until(lambda: marker not in running(), PATIENCE), "a child of the worker outlived it"


def test_a_worker_that_clears_its_parent_death_signal_still_dies_with_the_grader(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    with Sandbox() as box:
        worker = box.spawn(tmp_path)
        worker.request({"op": "import", "module": "probe"}, 30)
        assert worker.request({"op": "call", "module": "probe", "function": "outlive_the_grader",
                               "args": [], "kwargs": {}}, 30)["value"] == "staying"
        assert worker.pidfd is not None
        os.kill(box._process.pid, signal.SIGKILL)  # what the grader's death (kill -9) does to its zygote
        ended, _, _ = select.select([worker.pidfd], [], [], PATIENCE)
        assert ended, "the worker outlived its zygote and keeper"


@needs_root
def test_a_fork_bomb_stops_at_the_process_limit(probe) -> None:  # type: ignore[no-untyped-def]
    assert 20 <= probe("fork_bomb")["value"] < 32


@needs_root
def test_a_memory_bomb_is_stopped_and_named(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    with Sandbox(memory_mb=512) as box:
        worker = box.spawn(tmp_path)
        worker.request({"op": "import", "module": "probe"}, 30)
        # The call's time limit only guards against a hang: the memory limit must trip first, however busy the machine.
        with pytest.raises(ResourceLimit, match="used more memory than the limit of 512 MiB"):
            worker.request({"op": "call", "module": "probe", "function": "memory_bomb", "args": [], "kwargs": {}},
                           5 * PATIENCE)
        zygote = box._process.pid
    assert not any(os.path.exists(folder) for folder in cgroups.zygote_folders(f"grader-{zygote}"))


def test_cpu_time_beyond_the_limit_is_stopped_and_named(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    worker = sandbox.spawn(tmp_path, cpu_seconds=1)
    worker.request({"op": "import", "module": "probe"}, 30)
    # Two seconds of CPU time can take many more on a busy machine: the time limit only guards against a hang.
    with pytest.raises(ResourceLimit, match="used more CPU time than the limit of 1 s"):
        worker.request({"op": "call", "module": "probe", "function": "spin", "args": [], "kwargs": {}}, 5 * PATIENCE)


def test_an_exit_status_is_named(probe, sandbox: Sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkerLost, match="exited with status 3"):
        probe("leave", 3)


def test_without_isolation_only_the_portable_layers_remain_and_grading_still_works(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    with Sandbox(isolate=False) as box:
        assert box.isolation() == ("session", "limits")
        worker = box.spawn(tmp_path)
        worker.request({"op": "import", "module": "probe"}, 30)
        assert worker.request({"op": "call", "module": "probe", "function": "who", "args": [],
                               "kwargs": {}}, 30)["value"]["uid"] == os.getuid()
        with pytest.raises(WorkerLost, match="exited with status 4"):
            worker.request({"op": "call", "module": "probe", "function": "leave", "args": [4], "kwargs": {}}, 30)
