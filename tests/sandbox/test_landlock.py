"""The fallback without namespaces: Landlock, seccomp and an adopting keeper, proved from inside
a worker, with the fallback forced (``Sandbox(namespaces=False)``) as a machine without root gets it."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_confine import PATIENCE, PROBE, loopback_listeners, running, wait_until

from conftest import FIXTURES, REPO
from grader.sandbox import landlock, seccomp
from grader.sandbox.client import Sandbox, sandbox_for
from grader.sandbox.confine import level_reached

ATTACKS = FIXTURES / "attacks"
ABI = landlock.abi_version() if sys.platform.startswith("linux") else 0
needs_landlock = pytest.mark.skipif(
    ABI < 6 or platform.machine() not in seccomp.ARCHES,
    reason=f"the fallback needs Landlock ABI 6 or newer (Linux 6.12+) and an x86_64 or aarch64 kernel; "
           f"this machine has Landlock ABI {ABI} on {platform.machine()}")
needs_seccomp = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.machine() not in seccomp.ARCHES,
                                   reason="the seccomp filter is written for Linux on x86_64 and aarch64")

MORE = '''
def unix_sockets():
    import socket
    left, right = socket.socketpair()
    left.sendall(b"pi")
    server = socket.socket(socket.AF_UNIX)
    server.bind("here.sock")
    server.listen()
    client = socket.socket(socket.AF_UNIX)
    client.connect("here.sock")
    peer, _ = server.accept()
    client.sendall(b"ng")
    return right.recv(2).decode() + peer.recv(2).decode()

def temporary_file():
    import os, tempfile
    with tempfile.NamedTemporaryFile() as handle:
        return os.path.dirname(handle.name) == os.getcwd()

def torch_work():
    import torch, torchvision
    torch.manual_seed(0)
    a = torch.randn(4, 4, requires_grad=True)
    loss = torch.linalg.eigh(a @ a.T)[0].sum() + torch.nn.functional.conv2d(a[None, None], torch.ones(1, 1, 2, 2)).sum()
    loss.backward()
    out = torchvision.models.resnet18(weights=None).eval()(torch.zeros(1, 3, 32, 32))
    return {"grad": bool(torch.isfinite(a.grad).all()), "shape": list(out.shape),
            "capability": torch.backends.cpu.get_cpu_capability()}

def peek(pid):
    return {name: read(f"/proc/{pid}/{name}") for name in ("mem", "environ", "cmdline")}

def parent():
    import os
    return os.getppid()

def signal_process(pid):
    import os
    try:
        os.kill(pid, 0)
        return "signalled"
    except OSError as exc:
        return f"error: {exc.strerror}"

def trace(pid):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return "attached" if libc.ptrace(16, pid, None, None) == 0 else f"error: {ctypes.get_errno()}"
'''


@pytest.fixture(scope="module")
def fallback() -> Iterator[Sandbox]:
    with Sandbox(namespaces=False) as box:
        yield box


@pytest.fixture()
def probe(fallback: Sandbox, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    (tmp_path / "probe.py").write_text(PROBE + MORE)
    worker = fallback.spawn(tmp_path)
    worker.request({"op": "import", "module": "probe"}, 30)

    def call(function: str, *args: object) -> Any:
        reply = worker.request({"op": "call", "module": "probe", "function": function, "args": list(args),
                                "kwargs": {}}, 60)
        assert reply["ok"], reply
        return reply["value"]

    yield call
    worker.kill()


def in_child(action: Callable[[], object]) -> object:
    """Run ``action`` in a forked child, whose confinement is for good; its JSON-able result."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            result = {"value": action()}
        except BaseException as exc:  # noqa: BLE001 (reported to the test, the child must exit)
            result = {"error": repr(exc)}
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        data = json.loads(pipe.read() or '{"error": "no answer"}')
    os.waitpid(pid, 0)
    assert "error" not in data, data["error"]
    return data["value"]


def errno_of(action: Callable[..., object], *args: object) -> int:
    """The errno of the OSError ``action(*args)`` raises; 0 when it succeeds."""
    try:
        action(*args)
    except OSError as exc:
        return exc.errno or 0
    return 0


@needs_landlock
def test_the_fallback_stands_in_for_namespaces_and_view(fallback: Sandbox) -> None:
    layers = fallback.isolation()
    # cgroup v1 is there as root and not without; the uid stays the grader's.
    assert tuple(layer for layer in layers if layer != "cgroup") == (
        "session", "limits", "no-network", "process-tree", "private-files")
    assert level_reached(layers) == "network"


@needs_landlock
def test_no_tcp_or_udp_to_loopback_but_unix_sockets_work(probe: Callable[..., Any]) -> None:
    with loopback_listeners() as (server, listener):
        assert probe("tcp", server.getsockname()[1]) == f"refused: {errno.EPERM}"
        assert probe("udp", listener.getsockname()[1]) == f"refused: {errno.EPERM}"
        with pytest.raises(socket.timeout):
            listener.recvfrom(16)
    assert probe("unix_sockets") == "ping"


@needs_landlock
def test_the_repository_etc_and_other_submissions_cannot_be_read(probe: Callable[..., Any], fallback: Sandbox,
                                                                  tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "attention.py").write_text("secret = 1\n")
    other = fallback.spawn(tmp_path / "other")
    try:
        for secret in (REPO / "reference/basics/attention.py", REPO / "config.yaml",
                       REPO / "grader/exercises/basics/attention.py", Path("/etc/passwd"),
                       other.folder / "attention.py", tmp_path / "other" / "attention.py"):
            assert probe("read", str(secret)) == "error: Permission denied", secret
    finally:
        other.kill()


@needs_landlock
def test_nothing_of_the_grader_is_importable_named_or_readable(fallback: Sandbox, tmp_path: Path) -> None:
    shutil.copyfile(ATTACKS / "find_the_grader" / "attention.py", tmp_path / "find.py")
    worker = fallback.spawn(tmp_path)
    try:
        worker.request({"op": "import", "module": "find"}, 30)
        reply = worker.request({"op": "call", "module": "find", "function": "clues", "args": [], "kwargs": {}}, 60)
    finally:
        worker.kill()
    assert reply["ok"] and reply["value"] == [], reply


@needs_landlock
def test_only_the_scratch_folder_is_writable(probe: Callable[..., Any], tmp_path: Path) -> None:
    assert probe("write", "results.json") == "written"
    assert probe("temporary_file") is True
    for target in (tmp_path / "results.json", REPO / "results.json", Path("/tmp/grader-note"),
                   Path("/usr/forged")):
        assert probe("write", str(target)).startswith("error:"), target
        assert not target.exists()


@needs_landlock
def test_torch_and_torchvision_work_with_the_graders_cpu_kernels(probe: Callable[..., Any]) -> None:
    import torch

    assert probe("torch_work") == {"grad": True, "shape": [1, 1000],
                                   "capability": torch.backends.cpu.get_cpu_capability()}


@needs_landlock
def test_the_worker_cannot_read_signal_or_trace_processes_outside(probe: Callable[..., Any]) -> None:
    for pid in (probe("parent"), os.getpid(), 1):  # its keeper, the grader, init
        assert set(probe("peek", pid).values()) == {"error: Permission denied"}, pid
        assert probe("signal_process", pid) == "error: Operation not permitted", pid
        assert probe("trace", pid) == f"error: {errno.EPERM}", pid


@needs_landlock
def test_the_keeper_kills_every_process_the_worker_started_setsid_included(fallback: Sandbox,
                                                                          tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    worker = fallback.spawn(tmp_path)
    worker.request({"op": "import", "module": "probe"}, 30)
    marker = f"4343.{os.getpid()}"
    assert worker.request({"op": "call", "module": "probe", "function": "leave_children",
                           "args": [marker], "kwargs": {}}, 30)["value"] == "left"
    assert wait_until(lambda: marker in running(), PATIENCE), "the grandchild never started"
    worker.kill()
    assert wait_until(lambda: marker not in running(), PATIENCE), "a child of the worker outlived it"


@needs_landlock
def test_a_correct_submission_gets_full_marks_under_the_fallback(basics) -> None:  # type: ignore[no-untyped-def]
    from grader.grading import Options, grade

    with sandbox_for(basics, namespaces=False) as box:
        report = grade(basics, REPO / "reference" / "basics", box, Options(mode="grade"))
    assert report.score == report.max_score > 0
    assert report.notes[0].startswith("isolation level network:") and "unprivileged-uid" in report.notes[0]


@needs_landlock
def test_landlock_alone_refuses_tcp_connect_and_bind(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def confined() -> list[int]:
        assert landlock.restrict(str(tmp_path)) == landlock.Restricted(files=True, network=True, signals=True)
        return [errno_of(lambda: socket.create_connection(("127.0.0.1", port), timeout=2)),
                errno_of(lambda: socket.socket().bind(("127.0.0.1", 0)))]

    try:
        assert in_child(confined) == [errno.EACCES, errno.EACCES]
    finally:
        server.close()


@needs_seccomp
def test_the_filter_leaves_only_unix_sockets_and_refuses_io_uring() -> None:
    def filtered() -> dict[str, int]:
        from grader.sandbox import linux

        assert linux.no_new_privileges() and seccomp.refuse_sockets()
        libc = ctypes.CDLL(None, use_errno=True)
        params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
        errors = {name: errno_of(socket.socket, family, kind) for name, family, kind in (
            ("inet-udp", socket.AF_INET, socket.SOCK_DGRAM), ("inet6-tcp", socket.AF_INET6, socket.SOCK_STREAM),
            ("netlink", socket.AF_NETLINK, socket.SOCK_RAW), ("unix", socket.AF_UNIX, socket.SOCK_STREAM))}
        errors["io_uring"] = 0 if libc.syscall(seccomp.IO_URING_SETUP, 4, params) >= 0 else ctypes.get_errno()
        if platform.machine() == "x86_64":
            x32_socket = seccomp.X32_SYSCALL_BIT | 41
            errors["x32"] = 0 if libc.syscall(x32_socket, socket.AF_INET, socket.SOCK_DGRAM, 0) >= 0 \
                else ctypes.get_errno()
        return errors

    errors = in_child(filtered)
    assert errors.pop("unix") == 0
    assert set(errors.values()) == {errno.EPERM}, errors


def test_a_grader_installed_in_site_packages_is_left_out_of_the_rules(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "lib" / "site-packages"
    for folder in ("grader/exercises", "torch", "numpy"):
        (site / folder).mkdir(parents=True)
    (site / "six.py").write_text("")
    (site / "grader.pth").write_text("/srv/grader-checkout\n")
    (tmp_path / "lib64").symlink_to("lib")  # as in a venv: a rule on it would cover lib/
    (site / "checks").symlink_to("grader/exercises")
    monkeypatch.setattr(landlock.view, "install_files", lambda: [str(site / "grader"), str(site / "grader.pth")])
    monkeypatch.setattr(landlock.view, "python_trees", lambda: [str(tmp_path)])
    granted = dict(landlock.rules(str(tmp_path / "scratch")))
    assert granted[str(tmp_path)] == landlock.READ_DIR
    assert {path for path, rights in granted.items() if rights == landlock.READ and path.startswith(str(tmp_path))} \
        == {str(site / name) for name in ("torch", "numpy", "six.py")}
    assert not any(path.startswith(str(site / "grader")) for path in granted)


@needs_landlock
def test_an_installed_graders_files_cannot_be_read_but_its_neighbours_can(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "prefix" / "lib" / "site-packages"
    (site / "grader").mkdir(parents=True)
    (site / "grader" / "secret.py").write_text("answer = 42\n")
    (site / "neighbour.py").write_text("value = 1\n")
    # An editable install's finder, which names the project folder, and its compiled copy beside a neighbour's.
    (site / "finder.py").write_text("MAPPING = {'grader': '/srv/checkout/grader'}\n")
    (site / "__pycache__").mkdir()
    for name in ("finder", "neighbour"):
        (site / "__pycache__" / f"{name}.cpython-311.pyc").write_text(name)
    (tmp_path / "prefix" / "lib64").symlink_to("lib")
    through_link = tmp_path / "prefix" / "lib64" / "site-packages"
    (tmp_path / "scratch").mkdir()
    hidden = [site / "grader", site / "finder.py", site / "__pycache__" / "finder.cpython-311.pyc"]
    monkeypatch.setattr(landlock.view, "install_files", lambda: [str(path) for path in hidden])
    monkeypatch.setattr(landlock.view, "python_trees", lambda: [str(tmp_path / "prefix")])

    def confined() -> dict[str, object]:
        assert landlock.restrict(str(tmp_path / "scratch")).files
        return {"secret": [errno_of(open, folder / path.relative_to(site)) for folder in (site, through_link)
                           for path in (site / "grader" / "secret.py", *hidden[1:])],
                "neighbour": [(folder / "neighbour.py").read_text() for folder in (site, through_link)],
                "compiled": (site / "__pycache__" / "neighbour.cpython-311.pyc").read_text(),
                "listing": sorted(os.listdir(site))}

    assert in_child(confined) == {"secret": [errno.EACCES] * 6, "neighbour": ["value = 1\n"] * 2,
                                  "compiled": "neighbour", "listing": ["__pycache__", "finder.py", "grader", "neighbour.py"]}
