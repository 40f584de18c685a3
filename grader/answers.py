"""Checks of ``answers.yaml``: hand-computed results graded numerically, free text collected.

Runs only in the parent: the file is read with ``yaml.safe_load`` as data and never executed.

>>> check_answer(AnswerConfig("total", 1.0, 0.5), {"total": 61100840}, {"total": 61100840}).ok
True
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import yaml

from grader.checks.compare import Comparison, compare
from grader.config import AnswerConfig

MAX_BYTES = 1024 * 1024


class AnswersUnreadable(Exception):
    """answers.yaml is missing, too large, or not valid YAML; the message says which."""


class _AnswersLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few lines of ``*alias`` can stand for billions of
    values (the "billion laughs"), and answers never need them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (*name) are not allowed here",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def read_answers(path: Path) -> dict[str, Any]:
    """The answers of a submission as a dict; raises :class:`AnswersUnreadable`."""
    if path.is_symlink() or not path.is_file():
        raise AnswersUnreadable(f"your submission has no {path.name}")
    if path.stat().st_size > MAX_BYTES:
        raise AnswersUnreadable(f"{path.name} is larger than 1 MB")
    try:
        data = yaml.load(path.read_bytes().decode("utf-8", errors="replace"), Loader=_AnswersLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise AnswersUnreadable(f"{path.name} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise AnswersUnreadable(f"{path.name} nests its lists too deeply") from None
    except (ValueError, TypeError) as exc:  # a value PyYAML recognises but cannot build: "2023-13-45"
        raise AnswersUnreadable(f"{path.name} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AnswersUnreadable(f"{path.name} should map each key to an answer, like 'eigen_matrix: [[1, 2], [3, 4]]'")
    return {str(k): v for k, v in data.items()}


def _numeric(value: Any) -> Any:
    """A YAML answer as something :func:`compare` judges: a tensor for lists, else a number."""
    if isinstance(value, list):
        try:
            return torch.tensor(value, dtype=torch.float64)
        except (TypeError, ValueError, OverflowError, RuntimeError):
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def check_form(answer: AnswerConfig, given: dict[str, Any]) -> Comparison:
    """What can be judged without the reference: the answer is filled in, a number or a matrix.

    >>> check_form(AnswerConfig("total", 1.0, 0.0), {"total": None}).summary
    "no answer yet: fill in 'total' in answers.yaml"
    """
    value = given.get(answer.key)
    if value is None:
        return Comparison(False, f"no answer yet: fill in '{answer.key}' in answers.yaml")
    if _numeric(value) is None:
        return Comparison(False, f"'{answer.key}' should be a number or a matrix (a list of rows), got {str(value)[:80]!r}")
    return Comparison(True, "")


def check_answer(answer: AnswerConfig, given: dict[str, Any], expected: dict[str, Any]) -> Comparison:
    """Compare one numeric answer with the reference's, within the configured tolerance."""
    if answer.key not in expected:
        raise KeyError(f"the reference answers have no key {answer.key!r}")
    form = check_form(answer, given)
    if not form.ok:
        return form
    value = given[answer.key]
    got, want = _numeric(value), _numeric(expected[answer.key])
    if isinstance(want, int) and isinstance(got, float) and math.isfinite(got) and got.is_integer():
        got = int(got)
    if isinstance(want, int):
        return compare(got, want)
    if isinstance(want, float) and not isinstance(got, torch.Tensor):
        try:
            got = float(got)
        except OverflowError:
            return Comparison(False, f"'{answer.key}' is far too large: expected about {want:g}")
    return compare(got, want, rtol=0, atol=answer.tolerance)


def free_text(keys: tuple[str, ...], given: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The free-text answers for a tutor to read, in the configured order, capped in size."""
    return tuple((key, "" if given.get(key) is None else str(given.get(key))[:20_000]) for key in keys)
