"""The public checks from a Jupyter notebook beside your files, the report shown below the cell.

    from grader.notebook import check
    check("attention")          # the cell's last line: the report appears below it

The same checks as ``grader check``, through the same sandbox. The first call starts the
sandbox (a few seconds: it imports torch); later calls reuse it, so checking again costs
only the checks. It ends with the kernel. Nothing here imports IPython: the result shows
itself through ``_repr_html_``, which Jupyter, VS Code and Colab display (passing checks
folded, failing ones open), and a plain console prints it as ``grader check`` does.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.cli import check_exercises
from grader.config import AssignmentConfig, default_config_path, load_config
from grader.errors import UsageError
from grader.model import GradeReport
from grader.submission import recognise_assignment

if TYPE_CHECKING:
    from grader.warm import CheckSession

# One warm session per config, assignment and folder, for the kernel's lifetime.
_SESSIONS: dict[tuple[Path, str, Path], CheckSession] = {}


@dataclass(frozen=True, repr=False)
class Checked:
    """What one :func:`check` found: an HTML report in a notebook, the terminal report elsewhere."""

    report: GradeReport

    @property
    def score(self) -> float:
        return self.report.score

    @property
    def max_score(self) -> float:
        return self.report.max_score

    def _repr_html_(self) -> str:
        from grader.report.html import render_inline

        return render_inline(self.report)

    def __repr__(self) -> str:
        from grader.report.text import render_terminal

        return render_terminal(self.report)


def check(*exercises: str, folder: str | Path = ".", assignment: str | None = None,
          config: str | Path | None = None) -> Checked:
    """Run the public checks of ``exercises`` (default: all) on the files in ``folder``.

    The assignment is recognised from the files unless ``assignment`` names it.

    >>> check("attention").score          # doctest: +SKIP
    9.0
    """
    where = Path(folder).resolve()
    if not where.is_dir():
        raise UsageError(f"{folder} is not a folder")
    config_path = Path(config).resolve() if config is not None else default_config_path()
    loaded = load_config(config_path)
    if assignment is None:
        chosen = recognise_assignment(loaded, where)
    elif assignment in loaded.assignments:
        chosen = loaded.assignments[assignment]
    else:
        raise UsageError(f"unknown assignment {assignment!r} (known: {', '.join(loaded.assignments)})")
    check_exercises(chosen, list(exercises))
    session = _session(config_path, chosen, where)
    import torch

    # Grading keeps torch to one thread (a worker computes beside it); the notebook gets its own back.
    threads = torch.get_num_threads()
    try:
        return Checked(session.check(exercises))
    finally:
        torch.set_num_threads(threads)


def _session(config_path: Path, assignment: AssignmentConfig, folder: Path) -> CheckSession:
    key = (config_path, assignment.id, folder)
    if key not in _SESSIONS:
        from grader.sandbox.client import sandbox_for

        sandbox = sandbox_for(assignment)  # its zygote imports torch while this process imports the grader
        from grader.grading import Options
        from grader.warm import CheckSession

        _SESSIONS[key] = CheckSession(assignment, folder, Options(mode="check", submission_label=str(folder)),
                                      sandbox)
    return _SESSIONS[key]


@atexit.register
def _close_sessions() -> None:
    """End every sandbox with the kernel: its zygote and workers."""
    while _SESSIONS:
        _SESSIONS.popitem()[1].close()
