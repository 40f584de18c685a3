"""Loading trusted code in the parent: exercise checks, reference solutions, mistakes.

Reference solutions and the catalogue are imported by file path under private module
names, only in the parent; the worker never sees them. A student bundle has neither: its
mistakes come from the table of their outputs (:mod:`grader.dist.hints`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from grader.catalogue import Mistake
from grader.checks.declare import CheckSpec
from grader.config import AssignmentConfig, ExerciseConfig, require_reference
from grader.errors import ConfigError, GraderError


def load_checks(assignment: AssignmentConfig, exercise: ExerciseConfig) -> dict[str, CheckSpec]:
    """The checks declared in ``<checks package>.<exercise id>``, by id.

    Every check named in config.yaml must be declared there, and every declared check
    must be in config.yaml: a mismatch is a :class:`ConfigError` naming the check.
    """
    name = f"{assignment.checks_package}.{exercise.id}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"assignments.{assignment.id}.exercises.{exercise.id}: no checks module {name}") from exc
    declared = {v.id: v for v in vars(module).values() if isinstance(v, CheckSpec)}
    configured = {c.id for c in exercise.checks}
    where = f"assignments.{assignment.id}.exercises.{exercise.id}.checks"
    for check_id in sorted(configured - set(declared)):
        raise ConfigError(f"{where}.{check_id}: no such check in {name}")
    for check_id in sorted(set(declared) - configured):
        raise ConfigError(f"{where}: check {check_id!r} of {name} has no points in config.yaml")
    return declared


def _load_file(path: Path, name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise GraderError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_reference(assignment: AssignmentConfig, exercise: ExerciseConfig) -> ModuleType | None:
    """The reference solution of an exercise, or None where it is absent (student bundle)."""
    if assignment.reference is None:
        return None
    path = assignment.reference / exercise.file
    if not path.is_file():
        return None
    return _load_file(path, f"_grader_reference.{assignment.id}.{exercise.module}")


def load_mistakes(assignment: AssignmentConfig, exercise: ExerciseConfig) -> tuple[Mistake, ...]:
    """The catalogued mistakes of an exercise (empty where the catalogue is absent).

    In a student bundle they are stand-ins that look up what each variant returned when the
    bundle was built (:func:`grader.dist.hints.table_mistakes`).
    """
    if assignment.hints is not None:
        from grader.dist.hints import table_mistakes

        return table_mistakes(assignment.hints, exercise)
    path = mistakes_file(assignment, exercise)
    if not path.is_file():
        return ()
    module = _load_file(path, f"_grader_mistakes.{assignment.id}.{exercise.id}")
    mistakes = tuple(getattr(module, "MISTAKES", ()))
    for mistake in mistakes:
        if not isinstance(mistake, Mistake):
            raise GraderError(f"{path}: MISTAKES must hold Mistake values, found {type(mistake).__name__}")
        if mistake.function not in exercise.functions:
            raise GraderError(f"{path}: mistake {mistake.id!r} replaces {mistake.function}, "
                              f"which is not a function of exercise {exercise.id}")
    return mistakes


def mistakes_file(assignment: AssignmentConfig, exercise: ExerciseConfig) -> Path:
    return require_reference(assignment) / "mistakes" / f"{exercise.id}.py"

