"""Trusted parent work started on a thread, so that it runs while the worker computes.

While student code runs in the worker, the parent waits on a socket with a core to spare.
Reference work that needs nothing of what the student's code returns (a reference figure,
the reference's gradients on a fixed input) can start just before the student's call and
run meanwhile; the check collects the result when it needs it:

>>> pending = soon(sum, [1, 2, 3])
>>> pending.result()
6

Work that depends on nothing of the submission is done once per process (``grader batch``
and ``grader validate`` grade many submissions in one); ``key`` names all it depends on:

>>> once(("sum", 1, 2, 3), sum, [1, 2, 3]).result()
6

A reference figure drawn that way is handed to :meth:`Context.add_figure` as
``figure_once(key, draw)``: ``draw()`` makes the matplotlib figure on the thread.

The thread runs at a low priority where the system allows it (Linux): on a busy machine it
takes only what the worker and the main thread leave, since student code's calls are timed
and the grader's own work must not make them slower.

The thread must not share state with what the main thread does meanwhile. torch's global
random generator above all: a model seeded with ``torch.manual_seed`` (``Built`` specs) is
built on the thread only while the main thread does nothing but wait for the worker.
Torch releases the GIL inside its operations, so a thread running a network's forward and
backward passes takes little from the main thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

from grader.images import drawn_png

T = TypeVar("T")

_ONCE: dict[Hashable, Future[Any]] = {}
_ONCE_LOCK = threading.Lock()


def soon(function: Callable[..., T], *args: Any) -> Future[T]:
    """Start ``function(*args)`` on a thread now; its result (or exception) from ``result()``.

    Not a daemon: a grade that ends before collecting the result waits for it at exit, as
    torch code still running while the interpreter shuts down may crash the process.
    """
    future: Future[T] = Future()

    def run() -> None:
        _lower_priority()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # handed to whoever asks for the result  # noqa: BLE001
            future.set_exception(exc)

    threading.Thread(target=run, name="grader-reference", daemon=False).start()
    return future


def _lower_priority(by: int = 10) -> None:
    """Lower this thread's priority (on Linux a thread has its own); nothing where that fails.

    Not to the lowest: a thread that holds the GIL while the scheduler keeps it waiting would
    hold up the main thread too.
    """
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + by))
    except (AttributeError, OSError):  # no per-thread priorities here
        pass


def once(key: Hashable, function: Callable[..., T], *args: Any) -> Future[T]:
    """``soon(function, *args)`` the first time ``key`` is asked for in this process; the
    same future every time after (a failure too: the reference's failure is the grader's)."""
    with _ONCE_LOCK:
        if key not in _ONCE:
            _ONCE[key] = soon(function, *args)
        return _ONCE[key]


def figure_once(key: Hashable, draw: Callable[[], Any]) -> Callable[[], bytes]:
    """The figure ``draw()`` makes, drawn as PNG on a thread once per process (see :func:`once`);
    call the result for the bytes (:meth:`Context.add_figure` takes it as its ``reference``)."""
    return once(key, drawn_png, draw).result
