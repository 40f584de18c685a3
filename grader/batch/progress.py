"""How far a batch is: one redrawn bar on a terminal, one plain line per submission otherwise.

    [#########...........] 12/40 graded · 1 error · 00:42 left      (a terminal)
    [12/40] Ada Lovelace 35/35 (3.1 s)                               (a CI log, a file)

>>> import io
>>> stream = io.StringIO()
>>> progress = Progress(total=2, already=1, stream=stream, tty=False)
>>> progress.finished({"student": "ada", "status": "graded", "score": 3.0, "max_score": 5.0, "seconds": 1.0})
>>> stream.getvalue()
'[2/2] ada 3/5 (1.0 s)\\n'
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from grader.report.text import clean, points

WIDTH = 20


class Progress:
    """Counts finished submissions and shows them on ``stream`` (stderr by default)."""

    def __init__(self, total: int, already: int, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.done, self.errors, self.already = total, already, 0, already
        self.started = time.monotonic()
        self.drawn = False

    def begin(self, jobs: str) -> None:
        """Say what is about to happen, before the first submission is graded."""
        if self.already == self.total:
            self._line(f"all {self.total} submissions already graded and unchanged")
            return
        kept = f" ({self.already} already graded and unchanged)" if self.already else ""
        self._line(f"grading {self.total - self.already} of {self.total} submissions{kept} with {jobs}")
        if self.tty:
            self._bar()

    def finished(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.errors += record["status"] == "error" or bool(record.get("grader_errors"))
        if self.tty:
            self._bar()
            return
        self._line(f"[{self.done}/{self.total}] {clean(record['student'])} {describe(record)}")

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()

    def _left(self) -> str:
        graded = self.done - self.already
        if graded == 0:
            return "--:--"
        seconds = (time.monotonic() - self.started) / graded * (self.total - self.done)
        return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"

    def _bar(self) -> None:
        filled = WIDTH * self.done // max(self.total, 1)
        errors = f" · {self.errors} error{'s' if self.errors != 1 else ''}" if self.errors else ""
        self.drawn = True
        self.stream.write(f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {self.done}/{self.total} graded"
                          f"{errors} · {self._left()} left\x1b[K")
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def describe(record: dict[str, Any]) -> str:
    """A record in a few words: ``35/35 (3.1 s)``, ``unreadable: ...``, ``grader error: ...``."""
    if record["status"] == "error":
        return f"not graded: {clean(record['reason'])}"
    text = f"{points(record['score'])}/{points(record['max_score'])} ({record['seconds']:.1f} s)"
    if record["status"] == "unreadable":
        text += f", unreadable: {clean(record['reason'])}"
    if record.get("grader_errors"):
        text += f", {len(record['grader_errors'])} grader error(s)"
    return text
