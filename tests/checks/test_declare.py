"""Declaring checks: an id is declared once per module."""

from __future__ import annotations

import pytest

from grader.checks import CheckSpec, Context, check
from grader.errors import ConfigError


def test_a_check_is_its_id_description_and_function() -> None:
    def body(ctx: Context) -> None:
        pass

    spec = check("declared_once", "a check declared once")(body)
    assert spec == CheckSpec("declared_once", "a check declared once", body)


def test_a_second_check_with_the_same_id_is_an_error_naming_both() -> None:
    @check("twice", "the first")
    def first(ctx: Context) -> None:
        pass

    with pytest.raises(ConfigError) as error:
        @check("twice", "the second")
        def second(ctx: Context) -> None:
            pass

    message = str(error.value)
    assert message.startswith(f"{__name__}: check 'twice' is declared twice")
    assert "first() on line" in message and "second() on line" in message


def test_the_same_declaration_run_again_is_no_duplicate() -> None:
    def declare() -> CheckSpec:
        @check("run_again", "a module imported anew runs its declarations again")
        def body(ctx: Context) -> None:
            pass

        return body

    assert declare().id == declare().id == "run_again"
