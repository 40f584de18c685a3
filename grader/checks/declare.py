"""Declaring a check: ``@check(id, description)`` on a function of a :class:`Context`.

>>> @check("matches_torch", "agrees with F.scaled_dot_product_attention")   # doctest: +SKIP
... def matches_torch(ctx: Context) -> None:
...     ctx.agree("scaled_dot_product_attention", attention_calls(), oracle=torch_attention)

Points and visibility come from config.yaml, matched by the id. An id is declared once per
module: a second declaration would replace the first without a word, so it is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.errors import ConfigError

if TYPE_CHECKING:
    from grader.checks.context import Context

CheckBody = Callable[["Context"], None]

# Where each check id was declared, by module: the function's name and first line. The same
# place declaring it again is the module run once more (a test that imports it anew).
_DECLARED: dict[tuple[str, str], tuple[str, int]] = {}


@dataclass(frozen=True)
class CheckSpec:
    """A check as declared in an exercise module; points and visibility come from config."""

    id: str
    description: str
    run: CheckBody


def check(check_id: str, description: str) -> Callable[[CheckBody], CheckSpec]:
    """Declare a check; the decorated function receives a :class:`Context`.

    Raises :class:`ConfigError` naming both functions when the module already declares the id.
    """

    def wrap(function: CheckBody) -> CheckSpec:
        code = getattr(function, "__code__", None)
        here = (getattr(function, "__qualname__", repr(function)), code.co_firstlineno if code else 0)
        module = getattr(function, "__module__", "?")
        first = _DECLARED.setdefault((module, check_id), here)
        if first != here:
            raise ConfigError(f"{module}: check {check_id!r} is declared twice, by {first[0]}() on line "
                              f"{first[1]} and by {here[0]}() on line {here[1]}: give each check its own id")
        return CheckSpec(check_id, description, function)

    return wrap
