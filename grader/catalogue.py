"""The catalogue of known mistakes: buggy variants of a reference function.

Each assignment keeps one module per exercise in ``reference/<assignment>/mistakes/``
defining ``MISTAKES``, a list of :class:`Mistake`. The catalogue serves twice:

* feedback: when a check fails, the student's output on the failing input is compared
  with every variant of that function; a match names the mistake and gives its hint;
* validation: ``grader validate`` grades every variant as a submission and fails when one
  is not caught by the checks of its exercise.

Example (``reference/basics/mistakes/attention.py``)::

    def _no_scaling(Q, K, V, mask=None):
        ...

    MISTAKES = [
        Mistake(
            id="no_scaling",
            function="scaled_dot_product_attention",
            hint="Divide the scores Q K^T by sqrt(d_k) before the softmax.",
            impl=_no_scaling,
        ),
    ]

Mistake modules import only torch, numpy, the standard library and this module: for
``grader validate`` they are copied beside a submission and imported there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mistake:
    """One classic bug in one function, with the hint a tutor would give.

    ``id`` is unique within its exercise; ``function`` names the student function (or
    class) that ``impl`` stands in for (same signature); ``hint`` is shown to the student.
    A bug that makes the code crash rather than compute something else is recognised by
    ``impl`` raising the same error on the same input, or by ``raises``, a regular
    expression searched in the student's "ExceptionType: message" (for methods of a class,
    whose calls a variant cannot replay). ``about`` names the part of the code the bug is
    in ("the padding"): when several mistakes explain a student's values equally well, the
    hint names what they share instead of guessing one. ``nudge`` points at the place of
    the bug without its fix, for exercises where finding the bug is the exercise (the
    course chooses per exercise and mode in ``config.yaml``, ``hints: {check: nudge}``).
    """

    id: str
    function: str
    hint: str
    impl: Callable[..., Any]
    raises: str = ""
    about: str = ""
    nudge: str = ""
