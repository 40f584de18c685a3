"""Grading shared out between this process and forked helpers, each with a share of one sandbox.

While one process waits for its worker, another can grade: on two cores, two processes
each grading half of the work take little more than half the time. A helper is this
process forked, with every module and setting already loaded; its share of the sandbox
is served by the one zygote (one torch import, not one per helper). It hands back what it
graded as JSON text, never pickled, and dies with its parent.

>>> helper = start(sandbox, lambda share: [grade_one(share, item) for item in items])  # doctest: +SKIP
>>> finish(helper, list[MistakeResult])                                                # doctest: +SKIP
[MistakeResult(...), ...]
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from grader import as_json
from grader.errors import GraderError
from grader.sandbox.client import Sandbox
from grader.sandbox.linux import die_with_parent

T = TypeVar("T")


@dataclass(frozen=True)
class Helper:
    """A forked helper process and the pipe its result comes back on."""

    process: Any
    replies: Any


def usable_cores(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """The cores this process may keep busy: those it may run on, fewer where its cgroup has a
    CPU quota (a container started with ``--cpus 0.5`` counts one core, not the host's all).

    >>> usable_cores()                                              # doctest: +SKIP
    2
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, int(quota) // int(period))
    except (OSError, ValueError):  # no cgroup v2 here, or no quota: the cores are the limit
        pass
    return max(1, cores)


def start(sandbox: Sandbox, work: Callable[[Sandbox], Any]) -> Helper:
    """Fork a helper that runs ``work(share)`` with a share of ``sandbox``; :func:`finish` waits
    for what it returned. ``work`` returns what :func:`grader.as_json.dumps` can write."""
    forking = multiprocessing.get_context("fork")
    replies, sender = forking.Pipe(duplex=False)
    share = sandbox.share()
    process = forking.Process(target=_main, args=(sandbox, share, work, sender), daemon=True)
    process.start()
    # The zygote ends the share's workers once no process holds its channel: only the helper may.
    share.disown()
    sender.close()
    return Helper(process, replies)


def _main(sandbox: Sandbox, share: Sandbox, work: Callable[[Sandbox], Any], sender: Any) -> None:
    die_with_parent()
    # Ctrl-C is the parent's to handle: it ends its daemon helpers as it exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sandbox.disown()
    try:
        reply = (b"done", as_json.dumps(work(share)).encode())
    except GraderError as exc:
        reply = (b"error", str(exc).encode())
    except Exception:  # anything else is a bug of the grader: the parent shows its traceback  # noqa: BLE001
        reply = (b"error", traceback.format_exc().encode())
    finally:
        share.close()
    for part in reply:
        sender.send_bytes(part)


def finish(helper: Helper, kind: type[T]) -> T:
    """What the helper's ``work`` returned, read as ``kind``; a :class:`GraderError` where it
    failed or died without an answer."""
    try:
        status, text = helper.replies.recv_bytes(), helper.replies.recv_bytes().decode()
    except EOFError:
        helper.process.join()
        raise GraderError(f"a helper process ended without its results (exit code {helper.process.exitcode})") from None
    finally:
        helper.replies.close()
    helper.process.join()
    if status != b"done":
        raise GraderError(f"a helper process failed: {text}")
    return as_json.loads(text, kind)
