"""Checks of ``answers.yaml``: hand-computed results graded numerically, free text collected.

Runs only in the parent: the file is read with a safe YAML loader as data and never executed.
A file PyYAML refuses is read again entry by entry (an entry is a top-level key and the lines
that follow it), so that every broken entry is named with its line, and the entries that are
fine still count:

>>> answers = parse_answers("eigen_matrix: [[1, 2], [3, 4]\\nalexnet_total_params:\\t4096\\n")
>>> [(p.line, p.key) for p in answers.problems]
[(1, 'eigen_matrix'), (2, 'alexnet_total_params')]
>>> check_answer(AnswerConfig("total", 1.0, 0.0, kind="integer"), {"total": 4096}, {"total": 4096}).ok
True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from grader.checks.compare import Comparison, compare
from grader.config import AnswerConfig
from grader.errors import MissingPiece, Unreadable

MAX_BYTES = 1024 * 1024
# Where an entry starts: a key at the start of a line ("eigen_matrix:", quoted or not).
_ENTRY = re.compile(r"""(?P<indent>[ \t]*)(?P<quote>["']?)(?P<key>[A-Za-z_][\w.-]*)(?P=quote)[ \t]*:(?:[ \t]|$)""")


class _AnswersLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few lines of ``*alias`` can stand for billions of
    values (the "billion laughs"), and answers never need them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (*name) are not allowed here",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


@dataclass(frozen=True)
class Problem:
    """A line of answers.yaml that could not be read; ``key`` is the entry it is in (None: before any)."""

    line: int
    key: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Answers:
    """What answers.yaml says: the values read, and the problems of the entries that could not be."""

    values: dict[str, Any]
    problems: tuple[Problem, ...] = ()

    def problems_of(self, key: str) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.key == key)


def read_answers(path: Path, keys: tuple[str, ...] = ()) -> Answers:
    """The answers of a submission. Raises :class:`MissingPiece` without the file and
    :class:`Unreadable` when it is too large or not a mapping of keys to answers; ``keys``
    (the configured ones) start an entry even where a line indents them by mistake."""
    if path.is_symlink() or not path.is_file():
        raise MissingPiece(f"your submission has no {path.name}")
    if path.stat().st_size > MAX_BYTES:
        raise Unreadable(f"{path.name} is larger than 1 MB")
    return parse_answers(path.read_bytes().decode("utf-8", errors="replace"), keys, path.name)


def parse_answers(text: str, keys: tuple[str, ...] = (), name: str = "answers.yaml") -> Answers:
    """:func:`read_answers` on the text of the file."""
    try:
        data = _load(text)
    except _Broken:
        return _by_entry(text, keys)
    if data is None:
        return Answers({})
    if not isinstance(data, dict):
        raise Unreadable(f"{name} should map each key to an answer, like 'eigen_matrix: [[1, 2], [3, 4]]'")
    return Answers({str(k): v for k, v in data.items()})


class _Broken(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def _load(text: str) -> Any:
    """The YAML document, or :class:`_Broken` with the first problem's line (1-based)."""
    try:
        return yaml.load(text, Loader=_AnswersLoader)
    except yaml.MarkedYAMLError as exc:
        raise _Broken(*_explain(exc)) from None
    except yaml.YAMLError as exc:
        raise _Broken(1, str(exc)) from None
    except RecursionError:
        raise _Broken(1, "the lists are nested too deeply") from None
    except (ValueError, TypeError) as exc:  # a value PyYAML recognises but cannot build: "2023-13-45"
        raise _Broken(1, str(exc)) from None


def _explain(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """The line of a parser error and what it means, in words a student acts on."""
    problem = exc.problem or str(exc)
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    if "'\\t'" in problem:
        return line, "a tab character: YAML allows only spaces here (replace the tab by spaces)"
    if "flow sequence" in (exc.context or "") and exc.context_mark is not None:
        return exc.context_mark.line + 1, ("a '[' that is never closed (every '[' needs its ']'), "
                                              "or a ',' missing between two entries")
    if "found ']'" in problem or "found '}'" in problem:
        return line, "a closing bracket too many"
    if "mapping values are not allowed here" in problem:
        return line, "a ':' where YAML does not expect one (start each answer at the beginning of its line)"
    return line, problem


def _entries(lines: list[str], keys: tuple[str, ...]) -> list[tuple[int, str | None, list[str]]]:
    """(first line, key, lines) of each entry; lines before the first key form an entry of None."""
    entries: list[tuple[int, str | None, list[str]]] = [(1, None, [])]
    for number, line in enumerate(lines, 1):
        match = _ENTRY.match(line)
        # A tab or a known key starts an entry even when indented: YAML indents with spaces only.
        if match and (not match["indent"] or "\t" in match["indent"] or match["key"] in keys):
            entries.append((number, match["key"], [line]))
        else:
            entries[-1][2].append(line)
    return entries


def _by_entry(text: str, keys: tuple[str, ...]) -> Answers:
    """Each entry parsed on its own: the values of those that parse, a problem for each that does not."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for first, key, lines in _entries(text.splitlines(), keys):
        if key is not None and lines[0][:1] == " ":
            problems.append(Problem(first, key, f"'{key}' is indented: start it at the beginning of its line"))
            continue
        try:
            data = _load("\n".join(lines) + "\n")
        except _Broken as broken:
            last = first + max(len(lines) - 1, 0)
            problems.append(Problem(min(first + broken.line - 1, last), key, broken.message))
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(first, key, "not a line 'key: answer', like 'eigen_matrix: [[1, 2], [3, 4]]'"))
            continue
        values.update({str(k): v for k, v in data.items()})
    return Answers(values, tuple(problems))


def describe_form(answer: AnswerConfig) -> str:
    """The form the course asks for, in words: "a whole number", "a 2x2 matrix"."""
    if answer.kind == "integer":
        return "a whole number"
    if answer.kind == "number":
        return "a number"
    if len(answer.shape) == 1:
        return f"a list of {answer.shape[0]} numbers"
    return f"a {'x'.join(map(str, answer.shape))} matrix"


def _is_number(value: Any) -> bool:
    """A finite YAML number that a float holds (10**400 is not: no answer of the course is that large)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _shape_problem(value: Any, shape: tuple[int, ...], where: tuple[int, ...] = ()) -> str | None:
    """Why ``value`` is not a nested list of numbers of ``shape``; None when it is.

    Positions are counted from 1, as a student reads the rows of a matrix: "row 2, column 3".
    """
    if not shape:
        return None if _is_number(value) else f"{_position(where)} is {_show(value)}, not a number"
    if not isinstance(value, list):
        got = "a number" if _is_number(value) else _show(value)
        return f"{_position(where)} is {got}, not a list" if where else f"got {got}, not a list"
    if len(value) != shape[0]:
        one, many = ("row", "rows") if not where and len(shape) == 2 else ("number", "numbers") \
            if len(shape) == 1 else ("entry", "entries")
        count = f"{len(value)} {one if len(value) == 1 else many}"
        return f"{_position(where) if where else 'it'} has {count}, expected {shape[0]}"
    for index, item in enumerate(value):
        problem = _shape_problem(item, shape[1:], (*where, index))
        if problem:
            return problem
    return None


def _position(where: tuple[int, ...]) -> str:
    names = ("row", "column") if len(where) <= 2 else ("index",) * len(where)
    if len(where) == 1 and names[0] == "row":
        return f"row {where[0] + 1}"
    return ", ".join(f"{name} {i + 1}" for name, i in zip(names, where))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_form(answer: AnswerConfig, given: dict[str, Any]) -> Comparison:
    """What can be judged without the reference: the answer is filled in, in the declared form.
    The summary does not name the key: the caller says which answer it is about.

    >>> check_form(AnswerConfig("total", 1.0, 0.0, kind="integer"), {"total": None}).summary
    'no answer yet: replace its null by your answer'
    >>> check_form(AnswerConfig("A", 1.0, 0.0, kind="matrix", shape=(2, 2)), {"A": [[1, 2], [3]]}).summary
    'should be a 2x2 matrix (a list of rows): row 2 has 1 number, expected 2'
    """
    if answer.key not in given:
        return Comparison(False, f"no answer yet: the key is not in your answers.yaml (the skeleton has a line "
                                 f"'{answer.key}: null' for it)")
    value = given[answer.key]
    if value is None:
        return Comparison(False, "no answer yet: replace its null by your answer")
    form = describe_form(answer)
    if answer.kind == "integer":
        whole = _is_number(value) and float(value).is_integer()
        return Comparison(True) if whole else Comparison(
            False, f"should be {form}, written with digits only (like 1234567), got {_show(value)}")
    if answer.kind == "number":
        return Comparison(True) if _is_number(value) else Comparison(
            False, f"should be {form} (like 0.75), got {_show(value)}")
    problem = _shape_problem(value, answer.shape)
    return Comparison(False, f"should be {form} (a list of rows): {problem}") if problem else Comparison(True)


def check_answer(answer: AnswerConfig, given: dict[str, Any], expected: dict[str, Any]) -> Comparison:
    """Compare one answer, once in its declared form, with the reference's within the tolerance."""
    if answer.key not in expected:
        raise KeyError(f"the reference answers have no key {answer.key!r}")
    form = check_form(answer, given)
    if not form.ok:
        return form
    got, want = given[answer.key], expected[answer.key]
    if answer.kind == "integer":
        return compare(int(got), int(want))
    if answer.kind == "number":
        return compare(float(got), float(want), rtol=0, atol=answer.tolerance)
    return compare(torch.tensor(got, dtype=torch.float64), torch.tensor(want, dtype=torch.float64),
                   rtol=0, atol=answer.tolerance)


def free_text(keys: tuple[str, ...], given: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The free-text answers for a tutor to read, in the configured order, capped in size."""
    return tuple((key, "" if given.get(key) is None else str(given.get(key))[:20_000]) for key in keys)
