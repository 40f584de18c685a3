"""``grader check --watch``: check every exercise, then again each one whose files are saved, until Ctrl-C.

The folder is watched with ``watchfiles`` (inotify on Linux), which sees a file written in
place and one an editor saves by renaming a temporary file over it alike. Saving
``attention.py`` checks ``attention`` again; ``answers.yaml`` every exercise with answers;
another Python file of the student's own (one an exercise file may import) every exercise::

    >>> changed_exercises(basics, ("eigen", "attention"), {"attention.py", ".attention.py.swp"})  # doctest: +SKIP
    ('attention',)
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from watchfiles import Change
from watchfiles import watch as changes_in

from grader.config import AssignmentConfig
from grader.model import GradeReport
from grader.report.text import render_terminal

if TYPE_CHECKING:
    from grader.warm import CheckSession

# What a terminal understands as "cursor home, clear the screen".
CLEAR = "\x1b[H\x1b[2J"


def watched(assignment: AssignmentConfig, name: str) -> bool:
    """Whether saving the file ``name`` (at the top of the folder) can change a check.

    Python files and answers.yaml can; an editor's hidden temporary and swap files, its
    backups (``attention.py~``) and the helper files the assignment provides (the grader
    uses its own copies) cannot.
    """
    return not name.startswith(".") and name not in assignment.provided and (
        name.endswith(".py") or name == assignment.answers_file)


def changed_exercises(assignment: AssignmentConfig, chosen: tuple[str, ...], names: Iterable[str]) -> tuple[str, ...]:
    """The exercises of ``chosen`` that saving the files ``names`` concerns, in the assignment's order."""
    names = {name for name in names if watched(assignment, name)}
    if names - {e.file for e in assignment.exercises} - {assignment.answers_file}:
        return chosen
    exercises = [assignment.exercise(e) for e in chosen]
    return tuple(e.id for e in exercises
                 if e.file in names or (assignment.answers_file in names and (e.answers or e.free_text)))


@dataclass(frozen=True)
class Screen:
    """Where the reports go: a terminal, cleared before each one, or a pipe, one report after the other."""

    stream: TextIO
    color: bool
    width: int
    clear: bool

    def busy(self, text: str) -> None:
        """Say what is being checked while it is (the last report stays on the screen above)."""
        self.stream.write(f"{text} ...\n")
        self.stream.flush()

    def show(self, report: GradeReport, what: str, folder: Path) -> None:
        """Draw ``report`` with a last line saying what was checked and that the watch goes on."""
        lead = CLEAR if self.clear else "\n"
        self.stream.write(lead + render_terminal(report, color=self.color, width=self.width))
        self.stream.write(f"\n{time.strftime('%H:%M:%S')} {what}\n"
                          f"watching {folder} for saved files; Ctrl-C to stop\n")
        self.stream.flush()


def watch(session: CheckSession, screen: Screen, after: Callable[[GradeReport], None]) -> None:
    """Check the session's exercises, then again those whose files are saved, until KeyboardInterrupt.

    ``after`` gets every report once it is drawn (``--json``, ``--html``: the files follow the screen).
    """
    folder = session.folder.resolve()

    def relevant(change: Change, path: str) -> bool:
        return Path(path).parent == folder and watched(session.assignment, Path(path).name)

    # The first batch comes once the folder is watched (empty, or saves the first check covers):
    # a save during the first check is then seen, and kept until it ends, as during any check.
    batches = changes_in(folder, watch_filter=relevant, recursive=False, rust_timeout=100, yield_on_timeout=True)
    next(batches)
    screen.busy(f"checking {', '.join(session.chosen)}")
    session.check()
    screen.show(session.report, f"checked {len(session.chosen)} exercise(s)", folder)
    after(session.report)
    for changes in batches:
        names = sorted({Path(path).name for _, path in changes})
        again = changed_exercises(session.assignment, session.chosen, names)
        if not again:
            continue
        saved = f"{', '.join(names)} saved"
        screen.busy(f"{saved}: checking {', '.join(again)}")
        session.check(again)
        screen.show(session.report, f"{saved}: checked {', '.join(again)} again", folder)
        after(session.report)


def watch_until_stopped(session: CheckSession, screen: Screen, after: Callable[[GradeReport], None]) -> None:
    """:func:`watch` until Ctrl-C, a closed terminal (SIGHUP) or a kill (SIGTERM), each an end as clean:
    the caller's ``with`` then ends the sandbox with every worker."""
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.default_int_handler)
    try:
        watch(session, screen, after)
    except KeyboardInterrupt:
        print("grader: stopped watching", file=sys.stderr)
