"""Load and validate ``config.yaml`` into frozen dataclasses.

Every problem becomes a :class:`ConfigError` whose one-line message names the key
(``config.yaml: assignments.basics.exercises.eigen.checks.symmetric.points: expected a
number >= 0, got 'two'``).

>>> config = load_config(default_config_path())                 # doctest: +SKIP
>>> config.assignments["basics"].exercises[0].id                # doctest: +SKIP
'eigen'
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grader.errors import ConfigError, UsageError
from grader.manual_items import ManualItem, check_ids, read_items
from grader.vocabulary import HINT_LEVELS, MODES, VISIBILITIES, HintLevel, Mode, Visibility, one_of


@dataclass(frozen=True)
class Limits:
    """Limits for student code: seconds, the largest reply accepted, memory and processes."""

    call_seconds: float = 10.0
    exercise_seconds: float = 60.0
    max_message_mb: int = 256
    memory_mb: int = 4096
    processes: int = 32


@dataclass(frozen=True)
class CheckConfig:
    """Points, visibility and hypothesis budget of one check."""

    id: str
    points: float
    visibility: Visibility
    max_examples: int | None = None


@dataclass(frozen=True)
class AnswerConfig:
    """A hand-computed result in answers.yaml, graded numerically.

    ``kind`` is the form the course asks for: "integer", "number", or "matrix" of ``shape``
    (lists of rows), so that ``grader check`` can judge the form without the reference.
    """

    key: str
    points: float
    tolerance: float
    visibility: Visibility = "hidden"
    kind: str = "number"
    shape: tuple[int, ...] = ()

    @property
    def check_id(self) -> str:
        return f"answer_{self.key}"


@dataclass(frozen=True)
class ExerciseConfig:
    """One exercise: its file, graded functions, forbidden torch ops and checks."""

    id: str
    title: str
    file: str
    functions: tuple[str, ...]
    forbidden: dict[str, tuple[str, ...]]
    checks: tuple[CheckConfig, ...]
    answers: tuple[AnswerConfig, ...]
    free_text: tuple[str, ...]
    # How much a hint says, per mode ("check", "grade"): the full hint unless the course says.
    hints: dict[Mode, HintLevel] = field(default_factory=dict)
    # Points of checks and answers that a student bundle leaves out (its config has neither):
    # None means they are all here, to be counted.
    declared_after_submission: float | None = None
    manual: tuple[ManualItem, ...] = ()  # items a tutor scores in grader batch's manual.csv

    @property
    def module(self) -> str:
        return Path(self.file).stem

    def forbidden_in(self, function: str) -> tuple[str, ...]:
        """The torch op patterns ``function`` may not use while it is graded."""
        return self.forbidden.get(function, ())

    def hint_level(self, mode: Mode) -> HintLevel:
        """How much hints say in ``mode``: "full", "nudge" (where, not how) or "none"."""
        return self.hints.get(mode, "full")

    @property
    def points_after_submission(self) -> float:
        """Points that ``grader check`` does not judge: hidden checks and answers.yaml."""
        if self.declared_after_submission is not None:
            return self.declared_after_submission
        hidden = sum(c.points for c in self.checks if c.visibility == "hidden")
        return hidden + sum(a.points for a in self.answers if a.visibility == "hidden")


@dataclass(frozen=True)
class AssignmentConfig:
    """One assignment; paths are absolute (resolved against the config's folder).

    ``reference`` is None in a student bundle, whose ``hints`` names the table of what the
    catalogued mistakes return (see :mod:`grader.dist.hints`).
    """

    id: str
    title: str
    templates: Path
    reference: Path | None
    checks_package: str
    answers_file: str
    exercises: tuple[ExerciseConfig, ...]
    limits: Limits
    max_examples: int
    seed: int
    shrink_calls: int = 100
    preload: tuple[str, ...] = ()
    provided: tuple[str, ...] = ()
    hints: Path | None = None

    def exercise(self, exercise_id: str) -> ExerciseConfig:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(exercise_id)


@dataclass(frozen=True)
class Config:
    path: Path
    assignments: dict[str, AssignmentConfig]


def require_reference(assignment: AssignmentConfig) -> Path:
    """The reference folder, or a one-line :class:`UsageError` in a student bundle."""
    if assignment.reference is None:
        raise UsageError(f"this grader comes from the student bundle of {assignment.id}: it has no reference "
                         "solutions, so it can only run `grader check` (the public checks)")
    return assignment.reference


def default_config_path() -> Path:
    """The config.yaml of a student bundle's installed grader (``grader/course/``), else the
    one beside the ``grader`` package (the course repository).

    It is never looked up in the submission's folder: a submission could bring its own.
    """
    package = Path(__file__).resolve().parent
    bundled = package / "course" / "config.yaml"
    return bundled if bundled.is_file() else package.parent / "config.yaml"


def load_config(path: Path) -> Config:
    """Read and validate a config file; raises :class:`ConfigError` naming the bad key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from exc
    return _Reader(path).config(raw)


HYPOTHESIS_KEYS = {"max_examples", "seed", "shrink_calls"}


class _Reader:
    """Validates the raw YAML tree; ``where`` is the dotted key path for messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.resolve().parent

    def fail(self, where: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path.name}: {where}: {problem}" if where else f"{self.path.name}: {problem}")

    def mapping(self, value: Any, where: str, allowed: set[str] | None, required: frozenset[str] = frozenset()) -> dict[str, Any]:
        """``value`` checked to be a mapping with only ``allowed`` keys (None: any keys)."""
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {_show(value)}")
        for key in value:
            if allowed is not None and key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                guess = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.fail(_join(where, str(key)), f"unknown key{guess}")
        for key in sorted(required - set(value)):
            raise self.fail(_join(where, key), "missing")
        return value

    def number(self, value: Any, where: str, low: float = 0.0, integer: bool = False) -> Any:
        kinds: tuple[type, ...] = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value) or value < low:
            kind = "an integer" if integer else "a number"
            raise self.fail(where, f"expected {kind} >= {low:g}, got {_show(value)}")
        return value

    def names(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(where, f"expected a list of names, got {_show(value)}")
        return tuple(value)

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"expected text, got {_show(value)}")
        return value

    def visibility(self, value: Any, where: str) -> Visibility:
        if (visibility := one_of(value, VISIBILITIES)) is None:
            raise self.fail(where, f"expected 'public' or 'hidden', got {_show(value)}")
        return visibility

    def config(self, raw: Any) -> Config:
        top = self.mapping(raw, "", {"defaults", "assignments"}, {"assignments"})
        defaults = self.mapping(top.get("defaults", {}), "defaults", {"limits", "hypothesis"})
        limits = self.limits(defaults.get("limits", {}), "defaults.limits", Limits())
        hypo = self.mapping(defaults.get("hypothesis", {}), "defaults.hypothesis", HYPOTHESIS_KEYS)
        base = {
            "max_examples": self.number(hypo.get("max_examples", 25), "defaults.hypothesis.max_examples", 1, True),
            "seed": self.number(hypo.get("seed", 0), "defaults.hypothesis.seed", 0, True),
            "shrink_calls": self.number(hypo.get("shrink_calls", 100), "defaults.hypothesis.shrink_calls", 0, True),
        }
        assignments = self.mapping(top["assignments"], "assignments", None)
        if not assignments:
            raise self.fail("assignments", "no assignment defined")
        return Config(
            self.path,
            {
                str(aid): self.assignment(str(aid), body, limits, base)
                for aid, body in assignments.items()
            },
        )

    def limits(self, raw: Any, where: str, base: Limits) -> Limits:
        body = self.mapping(raw, where, {"call_seconds", "exercise_seconds", "max_message_mb", "memory_mb", "processes"})
        return Limits(
            call_seconds=float(self.number(body.get("call_seconds", base.call_seconds), f"{where}.call_seconds", 0.001)),
            exercise_seconds=float(
                self.number(body.get("exercise_seconds", base.exercise_seconds), f"{where}.exercise_seconds", 0.001)
            ),
            max_message_mb=self.number(body.get("max_message_mb", base.max_message_mb), f"{where}.max_message_mb", 1, True),
            memory_mb=self.number(body.get("memory_mb", base.memory_mb), f"{where}.memory_mb", 256, True),
            processes=self.number(body.get("processes", base.processes), f"{where}.processes", 4, True),
        )

    def path_of(self, value: Any, where: str) -> Path:
        return self.root / self.text(value, where)

    def assignment(self, aid: str, raw: Any, limits: Limits, base: dict[str, Any]) -> AssignmentConfig:
        where = f"assignments.{aid}"
        keys = {"title", "templates", "reference", "checks", "answers", "exercises", "limits", "hypothesis", "preload",
                "provided", "hints"}
        body = self.mapping(raw, where, keys, {"title", "templates", "checks", "exercises"})
        if ("reference" in body) == ("hints" in body):
            raise self.fail(f"{where}.reference", "expected either 'reference' (a course repository) or "
                                                  "'hints' (a student bundle), not both or neither")
        hypo = self.mapping(body.get("hypothesis", {}), f"{where}.hypothesis", HYPOTHESIS_KEYS)
        exercises_raw = self.mapping(body["exercises"], f"{where}.exercises", None)
        if not exercises_raw:
            raise self.fail(f"{where}.exercises", "no exercise defined")
        exercises = tuple(self.exercise(f"{where}.exercises.{eid}", str(eid), e) for eid, e in exercises_raw.items())
        check_ids(self, exercises, where)
        templates = self.path_of(body["templates"], f"{where}.templates")
        if not templates.is_dir():
            raise self.fail(f"{where}.templates", f"folder {templates} does not exist")
        return AssignmentConfig(
            id=aid,
            title=self.text(body["title"], f"{where}.title"),
            templates=templates,
            reference=self.path_of(body["reference"], f"{where}.reference") if "reference" in body else None,
            hints=self.path_of(body["hints"], f"{where}.hints") if "hints" in body else None,
            checks_package=self.text(body["checks"], f"{where}.checks"),
            answers_file=self.text(body.get("answers", "answers.yaml"), f"{where}.answers"),
            exercises=exercises,
            limits=self.limits(body.get("limits", {}), f"{where}.limits", limits),
            max_examples=self.number(hypo.get("max_examples", base["max_examples"]), f"{where}.hypothesis.max_examples", 1, True),
            seed=self.number(hypo.get("seed", base["seed"]), f"{where}.hypothesis.seed", 0, True),
            shrink_calls=self.number(hypo.get("shrink_calls", base["shrink_calls"]), f"{where}.hypothesis.shrink_calls", 0, True),
            preload=self.names(body.get("preload", []), f"{where}.preload"),
            provided=self.provided(body.get("provided", []), f"{where}.provided", templates),
        )

    def exercise(self, where: str, eid: str, raw: Any) -> ExerciseConfig:
        keys = {"title", "file", "functions", "forbidden", "checks", "answers", "free_text", "hints",
                "points_after_submission", "manual"}
        body = self.mapping(raw, where, keys, {"title", "file", "functions", "checks"})
        checks_raw = self.mapping(body["checks"], f"{where}.checks", None)
        checks = tuple(self.check(f"{where}.checks.{cid}", str(cid), c) for cid, c in checks_raw.items())
        answers_raw = self.mapping(body.get("answers", {}), f"{where}.answers", None)
        answers = tuple(self.answer(f"{where}.answers.{key}", str(key), a) for key, a in answers_raw.items())
        file = self.text(body["file"], f"{where}.file")
        functions = self.names(body["functions"], f"{where}.functions")
        if not file.endswith(".py") or "/" in file:
            raise self.fail(f"{where}.file", f"expected a Python file name like 'attention.py', got {_show(file)}")
        ids = [c.id for c in checks] + [a.check_id for a in answers]
        for cid in ids:
            if ids.count(cid) > 1:
                raise self.fail(f"{where}.checks.{cid}", "the same check id is used twice")
        return ExerciseConfig(
            id=eid,
            title=self.text(body["title"], f"{where}.title"),
            file=file,
            functions=functions,
            forbidden=self.forbidden(body.get("forbidden", []), f"{where}.forbidden", functions),
            checks=checks,
            answers=answers,
            free_text=(free_text := self.names(body.get("free_text", []), f"{where}.free_text")),
            hints=self.hints(body.get("hints", {}), f"{where}.hints"),
            declared_after_submission=None if "points_after_submission" not in body else float(
                self.number(body["points_after_submission"], f"{where}.points_after_submission")),
            manual=read_items(self, body.get("manual", {}), f"{where}.manual", eid, free_text),
        )

    def hints(self, raw: Any, where: str) -> dict[Mode, HintLevel]:
        """``{check: nudge, grade: full}``: how much hints say in each mode."""
        body = self.mapping(raw, where, set(MODES))
        for mode, level in body.items():
            if one_of(level, HINT_LEVELS) is None:
                raise self.fail(f"{where}.{mode}", f"expected one of {', '.join(HINT_LEVELS)}, got {_show(level)}")
        return {mode: level for mode in MODES if (level := one_of(body.get(mode), HINT_LEVELS)) is not None}

    def provided(self, raw: Any, where: str, templates: Path) -> tuple[str, ...]:
        """Files that ship with the skeletons and are always taken from the templates."""
        names = self.names(raw, where)
        for name in names:
            if "/" in name or not (templates / name).is_file():
                raise self.fail(where, f"{name!r} is not a file in {templates}")
        return names

    def forbidden(self, raw: Any, where: str, functions: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """A list of patterns forbids them in every function; a mapping names the functions."""
        if isinstance(raw, list):
            patterns = self.names(raw, where)
            return {function: patterns for function in functions} if patterns else {}
        body = self.mapping(raw, where, set(functions))
        return {str(f): self.names(p, f"{where}.{f}") for f, p in body.items()}

    def check(self, where: str, cid: str, raw: Any) -> CheckConfig:
        body = self.mapping(raw, where, {"points", "visibility", "max_examples"}, {"points", "visibility"})
        examples = body.get("max_examples")
        return CheckConfig(
            id=cid,
            points=float(self.number(body["points"], f"{where}.points")),
            visibility=self.visibility(body["visibility"], f"{where}.visibility"),
            max_examples=None if examples is None else self.number(examples, f"{where}.max_examples", 1, True),
        )

    def answer(self, where: str, key: str, raw: Any) -> AnswerConfig:
        body = self.mapping(raw, where, {"points", "tolerance", "visibility", "kind", "shape"}, {"points"})
        kind, shape = self.answer_form(body, where)
        return AnswerConfig(
            key=key,
            points=float(self.number(body["points"], f"{where}.points")),
            tolerance=float(self.number(body.get("tolerance", 1e-6), f"{where}.tolerance")),
            visibility=self.visibility(body.get("visibility", "hidden"), f"{where}.visibility"),
            kind=kind,
            shape=shape,
        )

    def answer_form(self, body: dict[str, Any], where: str) -> tuple[str, tuple[int, ...]]:
        """``shape: [2, 2]`` (a matrix) or ``kind: integer`` / ``kind: number``: exactly one of them."""
        if "shape" in body and "kind" in body:
            raise self.fail(where, "give either 'shape' (a matrix) or 'kind' (integer or number), not both")
        if "shape" in body:
            shape = body["shape"]
            if (not isinstance(shape, list) or not shape
                    or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)):
                raise self.fail(f"{where}.shape", f"expected a list of sizes like [2, 3], got {_show(shape)}")
            return "matrix", tuple(shape)
        if "kind" not in body:
            raise self.fail(f"{where}.kind", "missing: say what the answer is, 'kind: integer', 'kind: number' "
                                             "or 'shape: [2, 2]' for a matrix")
        if body["kind"] not in ("integer", "number"):
            raise self.fail(f"{where}.kind", f"expected 'integer' or 'number' (or 'shape' for a matrix), "
                                             f"got {_show(body['kind'])}")
        return body["kind"], ()


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


