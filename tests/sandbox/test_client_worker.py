"""The trust boundary in action: a real zygote, real workers, student code in the child."""

from __future__ import annotations

import json
import os
import select
import warnings
from pathlib import Path

import pytest
import torch
from test_confine import PATIENCE, wait_until

from grader.errors import CallTimedOut, SandboxError, WorkerLost
from grader.sandbox import codec
from grader.sandbox.client import Sandbox, copy_submission
from grader.sandbox.codec import Handle, Opaque

STUDENT = '''
import os, sys, time
import torch
import torch.nn.functional as F
from torch.nn.functional import conv2d as saved_conv2d

print("imported")
torch.allclose = lambda *a, **k: True

def double(x):
    print("doubling", tuple(x.shape))
    return x * 2

def mixed():
    return {"a": (1, 2.5, float("nan")), "b": [None, True, "text"], "t": torch.arange(3)}

def crash(x):
    return helper(x)

def helper(x):
    return 1 / 0

def spin():
    while True:
        pass

def leave():
    os._exit(3)

def aliased(x, k):
    return saved_conv2d(x, k)

def by_hand(x, k):
    return (x.unfold(2, k.shape[-2], 1).unfold(3, k.shape[-1], 1) * k[0, 0]).sum((-1, -2))

def allclose_is_patched():
    return torch.allclose(torch.zeros(1), torch.ones(1))

def subclass():
    class Sneaky(torch.Tensor):
        pass
    return torch.zeros(2).as_subclass(Sneaky)

def a_set():
    return {1, 2}

def count(model):
    return sum(p.numel() for p in model.parameters())

def identity(model):
    return model

def import_reference():
    import reference  # noqa: F401

def where():
    return os.getcwd()

def cyclic_garbage_collected():
    import gc, weakref
    class Node:
        pass
    node = Node()
    node.me = node
    alive = weakref.ref(node)
    del node
    gc.collect(0)
    return alive() is None and gc.isenabled()
'''


@pytest.fixture()
def submission(tmp_path: Path) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "student.py").write_text(STUDENT)
    return folder


@pytest.fixture()
def worker(sandbox: Sandbox, submission: Path):  # type: ignore[no-untyped-def]
    w = sandbox.spawn(submission)
    reply = w.request({"op": "import", "module": "student"}, timeout=30)
    assert reply["ok"] and reply["stdout"] == "imported\n"
    yield w
    w.kill()


def alive(pid: int) -> bool:
    """Whether process ``pid`` is still there (not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def call(worker, function: str, *args, watch=()):  # type: ignore[no-untyped-def]
    return worker.request({"op": "call", "module": "student", "function": function, "args": list(args),
                           "kwargs": {}, "watch": list(watch)}, timeout=10)


def test_values_cross_as_data_and_prints_are_captured(worker) -> None:  # type: ignore[no-untyped-def]
    reply = call(worker, "double", torch.ones(2, 3))
    assert torch.equal(reply["value"], torch.full((2, 3), 2.0))
    assert type(reply["value"]) is torch.Tensor
    assert reply["stdout"] == "doubling (2, 3)\n"
    value = call(worker, "mixed")["value"]
    assert value["a"][:2] == (1, 2.5) and value["a"][2] != value["a"][2]
    assert value["b"] == [None, True, "text"] and torch.equal(value["t"], torch.arange(3))


def test_a_crash_shows_only_the_students_frames(worker) -> None:  # type: ignore[no-untyped-def]
    reply = call(worker, "crash", 1)
    assert not reply["ok"]
    assert reply["error"]["type"] == "ZeroDivisionError"
    trace = reply["error"]["traceback"]
    assert 'File "student.py"' in trace and "in helper" in trace
    assert "grader" not in trace and "/tmp" not in trace


def test_a_call_past_its_time_limit_kills_the_worker(sandbox: Sandbox, worker) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CallTimedOut):
        worker.request({"op": "call", "module": "student", "function": "spin", "args": [], "kwargs": {}}, timeout=0.5)
    # The kill is asynchronous; the keeper reaps the worker.
    assert wait_until(lambda: not alive(worker.pid), PATIENCE)


def test_exit_in_a_call_is_a_lost_worker_not_a_grader_crash(worker) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkerLost):
        call(worker, "leave")
    with pytest.raises(WorkerLost):
        call(worker, "double", torch.ones(1))


def test_monkeypatching_in_the_child_changes_nothing_in_the_parent(worker) -> None:  # type: ignore[no-untyped-def]
    assert call(worker, "allclose_is_patched")["value"] is True
    assert not torch.allclose(torch.zeros(1), torch.ones(1))


def test_student_code_runs_with_the_garbage_collector_on(worker) -> None:  # type: ignore[no-untyped-def]
    # The zygote loads with it off and freezes what it loaded; the student's garbage is collected.
    assert call(worker, "cyclic_garbage_collected")["value"] is True


def test_forbidden_ops_are_seen_even_through_an_alias_saved_at_import(worker) -> None:  # type: ignore[no-untyped-def]
    x, k = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2)
    assert call(worker, "aliased", x, k, watch=["conv*", "*convolution*"])["used"]
    reply = call(worker, "by_hand", x, k, watch=["conv*", "*convolution*"])
    assert reply["ok"] and reply["used"] == []


def test_values_that_cannot_cross_arrive_as_opaque(worker) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(call(worker, "subclass")["value"], Opaque)
    assert call(worker, "a_set")["value"] == Opaque("set", "{1, 2}")


def test_models_stay_in_the_worker_behind_handles(worker) -> None:  # type: ignore[no-untyped-def]
    handle = worker.request({"op": "build", "spec": {"root": ["Sequential", ["Linear", 3, 4], ["ReLU"]]}}, 30)["value"]
    assert isinstance(handle, Handle) and handle.type == "Sequential"
    assert call(worker, "count", handle)["value"] == 16
    assert call(worker, "identity", handle)["value"] == handle


def test_the_reference_cannot_be_imported_and_the_worker_runs_in_a_scratch_copy(worker, submission: Path) -> None:  # type: ignore[no-untyped-def]
    reply = call(worker, "import_reference")
    assert reply["error"]["type"] == "ModuleNotFoundError"
    folder = call(worker, "where")["value"]
    assert Path(folder).resolve() != submission.resolve()
    assert (Path(folder) / "student.py").read_text() == STUDENT


def test_copy_leaves_out_links_and_hidden_files(tmp_path: Path) -> None:
    source, target = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    target.mkdir()
    (source / "eigen.py").write_text("x = 1\n")
    (source / "attention.py").symlink_to("/etc/passwd")
    (source / ".git").mkdir()
    (source / ".git" / "config").write_text("secret")
    copy_submission(source, target)
    assert sorted(p.name for p in target.iterdir()) == ["eigen.py"]


def test_closing_the_sandbox_ends_every_process(submission: Path) -> None:
    box = Sandbox()
    workers = [box.spawn(submission) for _ in range(3)]
    zygote = box._process.pid
    box.close()
    for pid in [zygote, *(w.pid for w in workers)]:
        assert wait_until(lambda pid=pid: not alive(pid), PATIENCE), pid



def test_shares_of_one_zygote_have_their_own_workers_ended_with_their_channel(submission: Path) -> None:
    """The jobs of a batch share one zygote; a job that dies takes its workers with it."""
    box = Sandbox()
    shares = [box.share() for _ in range(3)]
    workers = [share.spawn(submission) for share in shares]
    for worker in workers:
        assert worker.request({"op": "import", "module": "student"}, timeout=30)["stdout"] == "imported\n"
    shares[0].close()
    assert call(workers[1], "double", torch.ones(2))["value"].tolist() == [2.0, 2.0]
    # A job killed outright: its end of the channel closes, and its worker is stuck in a loop.
    codec.write_message(workers[1].sock, {"op": "call", "module": "student", "function": "spin", "args": [],
                                          "kwargs": {}, "watch": []})
    shares[1]._control.close()
    assert workers[1].pidfd is not None
    assert select.select([workers[1].pidfd], [], [], PATIENCE)[0], "a worker of a closed channel kept running"
    assert box.spawn(submission).request({"op": "import", "module": "student"}, timeout=30)["ok"]
    # A job killed before it read the zygote's reply: the zygote reads a reset, and goes on.
    unread = box.share()
    folder = unread._scratch / "w-unread"
    copy_submission(submission, folder)
    plan = {"folder": str(folder), "root": str(unread._root), "cpu_seconds": 30}
    unread._control.sendall(json.dumps({"op": "spawn", "plan": plan}).encode() + b"\n")
    assert select.select([unread._control], [], [], PATIENCE)[0], "the zygote never answered"
    unread._control.close()
    # One killed before the zygote could even answer.
    gone = box.share()
    gone._control.sendall(json.dumps({"op": "spawn", "plan": {**plan, "root": str(gone._root)}}).encode() + b"\n")
    gone._control.close()
    for _ in range(2):  # the first may be served in the same round as the reset is seen
        assert box.spawn(submission).request({"op": "import", "module": "student"}, timeout=30)["ok"]
    box.close()
    with pytest.raises(SandboxError):
        shares[2].spawn(submission)
    assert select.select([workers[2].pidfd], [], [], PATIENCE)[0], "a share's worker outlived its zygote"

def test_preloaded_modules_are_loaded_in_every_worker(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text("import sys\n\ndef loaded():\n    return 'colorsys' in sys.modules\n")
    with Sandbox(preload=("colorsys",)) as box:
        replies = []
        for _ in range(2):
            worker = box.spawn(tmp_path)
            worker.request({"op": "import", "module": "probe"}, 30)
            replies.append(worker.request({"op": "call", "module": "probe", "function": "loaded", "args": [],
                                           "kwargs": {}}, 30)["value"])
        assert replies == [True, True]


def test_a_grader_killed_outright_takes_its_workers_with_it(tmp_path: Path) -> None:
    """kill -9 of the grader: the zygote and a worker stuck in a loop die too."""
    import signal
    import subprocess
    import sys

    (tmp_path / "spin.py").write_text("def spin():\n    while True:\n        pass\n")
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from grader.sandbox.client import Sandbox\n"
        "box = Sandbox()\n"
        f"w = box.spawn(Path({str(tmp_path)!r}))\n"
        "w.request({'op': 'import', 'module': 'spin'}, 30)\n"
        "from grader.sandbox import codec\n"
        "codec.write_message(w.sock, {'op': 'call', 'module': 'spin', 'function': 'spin', 'args': [], 'kwargs': {}})\n"
        "print(box._process.pid, w.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    zygote, worker = (int(pid) for pid in grader.stdout.readline().split())
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    for pid in (zygote, worker):
        assert wait_until(lambda pid=pid: not alive(pid), PATIENCE), pid


def test_provided_files_replace_the_submissions_own(sandbox: Sandbox, tmp_path: Path) -> None:
    submission, templates = tmp_path / "submission", tmp_path / "templates"
    submission.mkdir()
    templates.mkdir()
    (submission / "helper.py").write_text("WHO = 'student'\n")
    (submission / "main.py").write_text("import helper\n\ndef who():\n    return helper.WHO\n")
    (templates / "helper.py").write_text("WHO = 'grader'\n")
    worker = sandbox.spawn(submission, (templates / "helper.py",))
    worker.request({"op": "import", "module": "main"}, 30)
    reply = worker.request({"op": "call", "module": "main", "function": "who", "args": [], "kwargs": {}}, 30)
    assert reply["value"] == "grader"


def test_figures_drawn_in_a_call_come_back_as_png(sandbox: Sandbox, tmp_path: Path) -> None:
    from grader.images import safe_png

    (tmp_path / "plot.py").write_text(
        "import matplotlib.pyplot as plt\n\n"
        "def draw():\n    plt.plot([0, 1], [1, 0])\n    plt.figure()\n    plt.show()\n    return 3\n")
    worker = sandbox.spawn(tmp_path)
    worker.request({"op": "import", "module": "plot"}, 30)
    reply = worker.request({"op": "call", "module": "plot", "function": "draw", "args": [], "kwargs": {},
                            "figures": True}, 30)
    assert reply["value"] == 3 and len(reply["figures"]) == 2
    assert all(safe_png(f.tobytes()) for f in reply["figures"])


def test_images_are_built_from_provided_files_and_kept_behind_handles(sandbox: Sandbox, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (5, 4), (255, 0, 0)).save(tmp_path / "picture.png")
    (tmp_path / "size.py").write_text("def size(img):\n    return img.size\n")
    worker = sandbox.spawn(tmp_path)
    worker.request({"op": "import", "module": "size"}, 30)
    handle = worker.request({"op": "build", "spec": {"image": "picture.png"}}, 30)["value"]
    assert isinstance(handle, Handle) and handle.type == "Image"
    reply = worker.request({"op": "call", "module": "size", "function": "size", "args": [handle], "kwargs": {}}, 30)
    assert reply["value"] == (5, 4)


def test_a_warning_names_its_place_only_in_the_students_own_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.sandbox.worker import warning_text

    monkeypatch.chdir(tmp_path)  # as in a worker, which works in the student's folder

    def text(filename: str) -> str:
        return warning_text(warnings.WarningMessage(UserWarning("deprecated .T"), UserWarning, filename, 3),
                            str(tmp_path))

    assert text(str(tmp_path / "attention.py")) == "UserWarning: deprecated .T (attention.py, line 3)"
    # The grader's own code in the worker, named relatively: it would resolve inside the folder.
    assert text("<grader.sandbox.worker>") == "UserWarning: deprecated .T"
    assert text("/usr/lib/python3/site-packages/torch/_tensor.py") == "UserWarning: deprecated .T"
