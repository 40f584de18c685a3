"""The sandboxes a job process keeps for the whole batch, one per thread, and the config.

Importing this module does not import torch: a job process starts its sandbox (whose zygote
imports torch in a process of its own) first, and imports the grader while the zygote starts.

    >>> box = sandbox(config(default_config_path()).assignments["basics"])   # doctest: +SKIP
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from grader.config import AssignmentConfig, Config, load_config
from grader.sandbox.client import Sandbox, sandbox_for

# One sandbox per thread: a Dask worker may run tasks in several threads.
_local = threading.local()
_configs: dict[Path, Config] = {}


def config(path: Path) -> Config:
    """The config at ``path``, read once per process."""
    if path not in _configs:
        _configs[path] = load_config(path)
    return _configs[path]


def _key(assignment: AssignmentConfig) -> tuple[Any, ...]:
    return assignment.limits, assignment.preload


def sandbox(assignment: AssignmentConfig) -> Sandbox:
    """This thread's sandbox for ``assignment``, started on first use."""
    boxes: dict[tuple[Any, ...], Sandbox] = _local.__dict__.setdefault("boxes", {})
    if _key(assignment) not in boxes:
        boxes[_key(assignment)] = sandbox_for(assignment)
    return boxes[_key(assignment)]


def adopt(assignment: AssignmentConfig, box: Sandbox) -> None:
    """Make ``box`` this thread's sandbox for ``assignment`` (a job forked with one ready)."""
    _local.__dict__.setdefault("boxes", {})[_key(assignment)] = box


def discard(assignment: AssignmentConfig) -> None:
    """Stop this thread's sandbox for ``assignment``; the next :func:`sandbox` starts a fresh one."""
    box = _local.__dict__.get("boxes", {}).pop(_key(assignment), None)
    if box is not None:
        box.close()


def close_all() -> None:
    """Stop this thread's sandboxes (their zygotes would also die with the process)."""
    for box in _local.__dict__.pop("boxes", {}).values():
        box.close()
