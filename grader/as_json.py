"""The grader's own values (reports, results, validations) as JSON text and back, whole.

For what one grader process hands another (a helper's results) and what a batch stores
beside its pages: nested frozen dataclasses, tuples and figures' bytes (as base85) through
cattrs. Nothing of the grader's is pickled, so no process ever unpickles anything.

>>> result = CheckResult("eigen", "symmetric", "A is symmetric", 1.0, "public", "passed")
>>> loads(dumps(result), CheckResult) == result
True
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _converter() -> Any:
    from cattrs.preconf.json import make_converter

    return make_converter()


def dumps(value: Any) -> str:
    """``value`` (a dataclass, or a list or tuple of them) as JSON text."""
    return str(_converter().dumps(value))


def loads(text: str, kind: type[T]) -> T:
    """The ``kind`` that :func:`dumps` wrote as ``text``; raises a cattrs ``BaseValidationError``
    (or ``ValueError`` for text that is not JSON) where it does not fit."""
    return _converter().loads(text, kind)  # type: ignore[no-any-return]
