"""Confinement of the worker: no network, resource limits, and the layers reported."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from grader.sandbox.client import Sandbox

PROBE = '''
import socket

def tcp(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return "connected"
    except OSError as exc:
        return f"refused: {exc.errno}"

def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"leak", ("127.0.0.1", port))
        return "sent"
    except OSError as exc:
        return f"refused: {exc.errno}"

def huge_file():
    with open("huge.bin", "wb") as handle:
        handle.write(b"x" * (100 * 1024 * 1024))
'''

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="a network namespace needs root (CAP_SYS_ADMIN) here")


@pytest.fixture()
def probe(sandbox: Sandbox, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "probe.py").write_text(PROBE)
    worker = sandbox.spawn(tmp_path)
    worker.request({"op": "import", "module": "probe"}, 30)
    yield lambda function, *args: worker.request(
        {"op": "call", "module": "probe", "function": function, "args": list(args), "kwargs": {}}, 30)
    worker.kill()


@needs_root
def test_no_tcp_or_udp_leaves_the_worker_not_even_to_loopback(probe) -> None:  # type: ignore[no-untyped-def]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.5)
    try:
        assert probe("tcp", server.getsockname()[1])["value"].startswith("refused")
        probe("udp", listener.getsockname()[1])
        with pytest.raises(socket.timeout):
            listener.recvfrom(16)
    finally:
        server.close()
        listener.close()


def test_a_huge_file_cannot_be_written(probe) -> None:  # type: ignore[no-untyped-def]
    reply = probe("huge_file")
    assert not reply["ok"] and "File too large" in reply["error"]["message"]


def test_the_layers_in_force_are_reported(sandbox: Sandbox) -> None:
    layers = sandbox.isolation()
    assert "session" in layers and "limits" in layers
    if os.geteuid() == 0:
        assert "no-network" in layers
