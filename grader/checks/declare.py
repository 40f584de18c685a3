"""Declaring a check: ``@check(id, description)`` on a function of a :class:`Context`.

>>> @check("matches_torch", "agrees with F.scaled_dot_product_attention")   # doctest: +SKIP
... def matches_torch(ctx: Context) -> None:
...     ctx.agree("scaled_dot_product_attention", attention_calls(), oracle=torch_attention)

Points and visibility come from config.yaml, matched by the id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from grader.checks.context import Context

CheckBody = Callable[["Context"], None]


@dataclass(frozen=True)
class CheckSpec:
    """A check as declared in an exercise module; points and visibility come from config."""

    id: str
    description: str
    run: CheckBody


def check(check_id: str, description: str) -> Callable[[CheckBody], CheckSpec]:
    """Declare a check; the decorated function receives a :class:`Context`."""

    def wrap(function: CheckBody) -> CheckSpec:
        return CheckSpec(check_id, description, function)

    return wrap
