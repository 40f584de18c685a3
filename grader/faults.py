"""The grader's own failures as feedback: reported as grader errors, never charged to the student.

>>> grader_error_feedback(KeyError("eigen_matrix")).summary
"grader error (KeyError: 'eigen_matrix'); this is not your fault, please tell the course staff"
"""

from __future__ import annotations

import traceback
from pathlib import Path

from grader.model import Feedback


def grader_error_feedback(exc: Exception) -> Feedback:
    """What a check says when the grader itself failed while running it."""
    return Feedback(
        summary=f"grader error ({type(exc).__name__}: {exc}); this is not your fault, please tell the course staff",
        details=("where the grader failed:", *_grader_location(exc)),
    )


def _grader_location(exc: BaseException) -> tuple[str, ...]:
    """Where the grader failed, without source lines (they could quote a reference solution)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return tuple(f"  {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames[-4:])
