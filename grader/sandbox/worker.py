"""The request loop that runs in the worker child, next to the student's code.

Everything here runs in the untrusted process. It answers requests from the parent:

    {"op": "import", "module": "attention"}        import attention.py from the scratch folder
    {"op": "call", "module": ..., "function": ..., "args": [...], "kwargs": {...},
     "watch": ["conv*"]}                           call it; report watched torch ops it used
    {"op": "build", "spec": {...}}                 build a model from a spec; returns a handle
    {"op": "call_method", "handle": 3, "method": "forward", "args": [...], "kwargs": {...}}
    {"op": "release", "handles": [3]}
    {"op": "isolation"}                            the confinement layers in force

and replies ``{"ok": true, "value": ..., "stdout": ..., "used": [...]}`` or ``{"ok": false,
"error": {"type", "message", "traceback"}, "stdout": ...}``. Nothing here decides anything:
the parent treats every reply as untrusted data.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib.util
import io
import os
import random
import re
import socket
import sys
import traceback
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from grader.sandbox import codec
from grader.sandbox.codec import Handle
from grader.sandbox.models import build_object

OUTPUT_CAP = 20_000


class CappedText(io.StringIO):
    """A stdout replacement that keeps at most ``cap`` characters of what is printed."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        super().__init__()
        self.cap = cap
        self.dropped = 0

    def write(self, s: str) -> int:
        room = self.cap - self.tell()
        if room > 0:
            super().write(s[:room])
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        note = f"\n... ({self.dropped} more characters not shown)" if self.dropped else ""
        return self.getvalue() + note


class OpWatcher(TorchFunctionMode):
    """Records which watched torch functions run while a graded function runs.

    A torch-function mode sees every call that goes through torch's override machinery:
    ``F.conv2d`` even through an alias saved at import, ``torch.conv2d``, ``nn.Conv2d``
    (which calls ``F.conv2d``), tensor methods and ``torch.ops.aten.*`` packets. Names are
    matched against the exercise's ``forbidden`` patterns (fnmatch).
    """

    def __init__(self, patterns: list[str], seen: set[str]) -> None:
        super().__init__()
        self.patterns, self.seen = patterns, seen

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        name = getattr(func, "__name__", "")
        if any(fnmatch.fnmatchcase(name, p) for p in self.patterns):
            self.seen.add(name)
        return func(*args, **(kwargs or {}))


class Worker:
    """State of one worker: the student's modules and the objects kept behind handles."""

    def __init__(self, folder: str) -> None:
        self.folder = os.path.realpath(folder)
        self.modules: dict[str, ModuleType] = {}
        self.objects: dict[int, Any] = {}
        self.layers: tuple[str, ...] = ()

    def keep(self, value: Any) -> Handle | None:
        """Keep a module or optimizer in the worker; other values that are not data are not kept."""
        if not isinstance(value, (nn.Module, torch.optim.Optimizer)):
            return None
        return self.remember(value)

    def remember(self, value: Any) -> Handle:
        """Keep any object behind a handle (the same object keeps its handle)."""
        for number, obj in self.objects.items():
            if obj is value:
                return Handle(number, type(value).__name__)
        number = len(self.objects) + 1
        while number in self.objects:
            number += 1
        self.objects[number] = value
        return Handle(number, type(value).__name__)

    def resolve(self, value: Any) -> Any:
        """Replace handles in call arguments by the objects they stand for."""
        if isinstance(value, Handle):
            return self.objects[value.id]
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def import_module(self, name: str) -> ModuleType:
        if name not in self.modules:
            path = os.path.join(self.folder, f"{name}.py")
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None or not os.path.isfile(path):
                raise FileNotFoundError(f"{name}.py not found")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
            self.modules[name] = module
        return self.modules[name]

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "import":
            module = self.import_module(request["module"])
            names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
            return {"value": names}
        if op == "build":
            return {"value": self.remember(build_object(request["spec"], Path(self.folder)))}
        if op == "isolation":
            return {"value": list(self.layers)}
        if op == "release":
            for number in request.get("handles", []):
                self.objects.pop(number, None)
            return {"value": None}
        if op in ("call", "call_method"):
            if op == "call":
                target = getattr(self.import_module(request["module"]), request["function"])
            else:
                target = getattr(self.objects[request["handle"]], request["method"])
            args = self.resolve(request.get("args", []))
            kwargs = self.resolve(request.get("kwargs", {}))
            patterns = list(request.get("watch", []))
            seen: set[str] = set()
            _reseed()
            if patterns:
                with OpWatcher(patterns, seen):
                    value = target(*args, **kwargs)
            else:
                value = target(*args, **kwargs)
            reply = {"value": value, "used": sorted(seen)}
            if request.get("figures"):
                reply["figures"] = collect_figures(value)
            return reply
        raise ValueError(f"unknown request {op!r}")


def collect_figures(value: Any, limit: int = 4) -> list[np.ndarray]:
    """PNG bytes of the figures a call drew (or returned), as uint8 arrays; all are closed.

    Only where matplotlib was imported (by the student's or the helper's code).
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    figures = [pyplot.figure(number) for number in pyplot.get_fignums()]
    if type(value).__name__ == "Figure" and value not in figures:
        figures.append(value)
    pngs = []
    for figure in figures[:limit]:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=72)
        pngs.append(np.frombuffer(buffer.getvalue(), dtype=np.uint8))
    pyplot.close("all")
    return pngs


def _reseed() -> None:
    """Same seeds before every call, so that random student code is reproducible."""
    random.seed(0)
    np.random.seed(0)
    # torch.manual_seed(0) would also look for CUDA, MPS, XPU and MTIA on every call: about
    # 0.2 ms, against 3 µs for the CPU generator alone, over hundreds of calls a submission.
    torch.default_generator.manual_seed(0)
    if torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(0)


def student_traceback(exc: BaseException, folder: str) -> str:
    """The traceback of ``exc`` with the grader's frames removed and paths made relative.

    Only frames of files in the student's folder are kept (not importlib's ``<frozen ...>``
    ones, whose relative names would otherwise resolve inside the working folder).
    """
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if os.path.isabs(frame.filename) and os.path.realpath(frame.filename).startswith(folder + os.sep)
    ]
    for frame in frames:
        frame.filename = os.path.relpath(os.path.realpath(frame.filename), folder)
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    # A SyntaxError names its file with the full scratch path; the student knows it by name.
    return "".join(lines).replace(folder + os.sep, "")


def serve(sock: socket.socket, folder: str, layers: tuple[str, ...] = ()) -> None:
    """Answer requests on ``sock`` until it closes. Never returns normally otherwise.

    ``layers`` are the confinement layers in force (``confine.confine``), reported on request.
    """
    worker = Worker(folder)
    worker.layers = layers
    while True:
        try:
            request = codec.read_message(sock)
        except EOFError:
            return
        output = CappedText()
        caught: list[warnings.WarningMessage] = []
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output), \
                    warnings.catch_warnings(record=True) as caught:
                # Every warning of this request, even one already shown: the parent keeps them
                # for the failure they may explain (torch warns once per process in C++ anyway).
                warnings.simplefilter("always")
                reply = {"ok": True, **worker.handle(request)}
        except BaseException as exc:  # student code may raise anything, SystemExit included  # noqa: BLE001
            reply = {
                "ok": False,
                "error": {
                    "type": type(exc).__name__,
                    "message": str_of(exc)[:2000],
                    "traceback": student_traceback(exc, worker.folder)[-8000:],
                },
            }
        reply["stdout"] = output.text()
        reply["warnings"] = [warning_text(w, worker.folder) for w in caught[:MAX_WARNINGS]]
        try:
            codec.write_message(sock, reply, worker.keep)
        except BaseException as exc:  # an unsendable reply is the student's value's fault  # noqa: BLE001
            codec.write_message(sock, {"ok": False, "error": {
                "type": "ReturnValueError", "message": codec.safe_repr(exc, 500), "traceback": ""},
                "stdout": output.text()})


MAX_WARNINGS = 20


def warning_text(warning: warnings.WarningMessage, folder: str) -> str:
    """``UserWarning: message (attention.py, line 12)``; the place only when it is the student's."""
    # torch's C++ warnings end with where in torch's own sources they were raised: noise here.
    message = re.sub(r"\s*\(Triggered internally at [^)]*\)\.?$", "", str(warning.message))
    text = f"{warning.category.__name__}: {message[:500]}"
    # A relative name is no file of the student's: the grader's own code is named
    # "<grader.sandbox.worker>" in the worker (forget.py), and would resolve inside ``folder``.
    path = os.path.realpath(str(warning.filename)) if os.path.isabs(str(warning.filename)) else ""
    if path.startswith(folder + os.sep):
        text += f" ({os.path.relpath(path, folder)}, line {warning.lineno})"
    return text


def str_of(exc: BaseException) -> str:
    """``str(exc)`` that survives an exception whose ``__str__`` raises."""
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001
        return f"<{type(exc).__name__} whose message could not be shown>"
