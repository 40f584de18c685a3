"""Hints without the catalogue's code: what each catalogued mistake returns, recorded at build time.

A mistake variant is the reference with one bug, so its code gives the solution away; its
outputs on the inputs the public checks use do not. :func:`record_hints` (run by ``grader
dist student`` in the course repository) grades, in check mode and with the config's seed:

1. the reference, and records every input hypothesis generates for the public checks (they
   depend on the seed alone), with every mistake's output on it;
2. each mistake as a submission of its own exercise, and records every input on which the
   checks ask a mistake's output. A student whose code returns what that mistake returns
   makes hypothesis take the same path (its choices depend on the seed and on which examples
   fail), so the failing and shrunk inputs of their run are these.

The table is one frame of the worker's codec (JSON header and raw tensor bytes, never a
pickle). In the bundle, :func:`table_mistakes` gives :class:`~grader.catalogue.Mistake`
values whose ``impl`` looks the output up by the fingerprint of its arguments and raises
``LookupError`` for an input not in the table, which diagnosis skips like any variant that
raises. A variant that returned a module is recorded as its class name and state shapes.

>>> mistakes = table_mistakes(Path("hints.bin"), exercise)        # doctest: +SKIP
>>> mistakes[0].impl(Q, K, V)   # the no_scaling variant's output, recorded   # doctest: +SKIP
"""

from __future__ import annotations

import copy
import functools
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch

from grader.catalogue import Mistake
from grader.checks.student import unjudgeable
from grader.config import AssignmentConfig, ExerciseConfig, require_reference
from grader.dist.fingerprint import fingerprint
from grader.errors import ConfigError
from grader.sandbox.client import Sandbox
from grader.sandbox.codec import decode_frame, encode

MODULE_TAG = "__grader_module__"


@dataclass(frozen=True)
class ModuleShapes:
    """What a variant returned when it returned a module: its class and its state's shapes.

    >>> ModuleShapes("TransformerLayer", {"ff1.weight": (6, 4)}).state_dict()["ff1.weight"].shape
    torch.Size([6, 4])
    """

    type: str
    shapes: dict[str, tuple[int, ...]]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: torch.zeros(shape) for name, shape in self.shapes.items()}


class Recorder:
    """Wraps the real catalogue so that every output a check asks for is kept.

    ``outputs[exercise][mistake id][fingerprint]`` is the variant's output, made storable.
    """

    def __init__(self) -> None:
        self.outputs: dict[str, dict[str, dict[str, Any]]] = {}
        self.catalogues: dict[str, tuple[Mistake, ...]] = {}

    def catalogue(self, assignment: AssignmentConfig, exercise: ExerciseConfig) -> tuple[Mistake, ...]:
        """The exercise's mistakes, each recording what it returns (``Options.catalogue``)."""
        from grader.loading import load_mistakes

        real = self.catalogues.setdefault(exercise.id, load_mistakes(assignment, exercise))
        return tuple(replace(m, impl=self._recording(exercise.id, m)) for m in real)

    def _recording(self, exercise: str, mistake: Mistake) -> Callable[..., Any]:
        def impl(*args: Any, **kwargs: Any) -> Any:
            # Raises LookupError where the bundle's lookup would, so both runs take one path.
            key = fingerprint((args, kwargs))
            # A private copy: the bundle's lookups never change their arguments, so neither may this.
            value = mistake.impl(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            self.keep(exercise, mistake.id, key, value)
            return value

        return impl

    def keep(self, exercise: str, mistake: str, key: str, value: Any) -> None:
        stored = storable(value)
        if stored is not None:
            self.outputs.setdefault(exercise, {}).setdefault(mistake, {})[key] = stored

    def record_inputs(self, exercise: str, function: str, calls: list[Any], provided: Path) -> None:
        """Every mistake of ``function`` on generated inputs (``Call`` values) of a public check.

        ``provided`` holds the files that image inputs name (the assignment's templates).
        """
        from grader.checks.calls import Call, materialize

        models: dict[str, Any] = {}
        for call in calls:
            if not isinstance(call, Call):
                continue
            for mistake in self.catalogues.get(exercise, ()):
                if mistake.function != function:
                    continue
                try:
                    args = materialize(call.args, models, provided)
                    kwargs = materialize(call.kwargs, models, provided)
                    key = fingerprint((args, kwargs))
                    value = mistake.impl(*args, **kwargs)
                except Exception:  # an input the variant refuses, or that cannot be fingerprinted
                    continue
                self.keep(exercise, mistake.id, key, value)

    def table(self, assignment: AssignmentConfig) -> bytes:
        """The recorded outputs and the catalogue's ids, functions, hints and crash patterns.

        A hint is stored only as far as ``grader check`` may show it (the exercise's hint level
        for "check"): a nudge where the course wants nudges, nothing where it wants none, so
        that the file holds no fix a self-check would not print.
        """
        def shown(exercise: str, mistake: Mistake) -> str:
            level = assignment.exercise(exercise).hint_level("check")
            return {"full": mistake.hint, "nudge": mistake.nudge}.get(level, "")

        exercises = {
            exercise: {
                "mistakes": [[m.id, m.function, shown(exercise, m), m.raises, m.about] for m in mistakes],
                "outputs": self.outputs.get(exercise, {}),
            }
            for exercise, mistakes in self.catalogues.items()
        }
        return encode({"seed": assignment.seed, "exercises": exercises})


def record_hints(assignment: AssignmentConfig, sandbox: Sandbox) -> bytes:
    """Grade the reference and every mistake in check mode, recording; returns the table."""
    from grader.checks.driver import PASSED_INPUTS
    from grader.grading import Options, grade
    from grader.validate import mutant

    recorder = Recorder()
    reference = require_reference(assignment)
    for exercise in assignment.exercises:
        before = set(PASSED_INPUTS)  # read only: the inputs hypothesis generated, by check
        grade(assignment, reference, sandbox, Options(mode="check", exercises=(exercise.id,),
                                                      catalogue=recorder.catalogue))
        for key in set(PASSED_INPUTS) - before:
            recorder.record_inputs(exercise.id, key[3], PASSED_INPUTS[key], assignment.templates)
    for exercise in assignment.exercises:
        for mistake in recorder.catalogues[exercise.id]:
            with tempfile.TemporaryDirectory(prefix="grader-hints-") as tmp:
                folder = mutant(assignment, exercise, mistake, Path(tmp) / "submission")
                grade(assignment, folder, sandbox, Options(mode="check", exercises=(exercise.id,),
                                                           catalogue=recorder.catalogue))
    return recorder.table(assignment)


def storable(value: Any) -> Any:
    """``value`` as plain data the codec carries, modules as their state's shapes; None if not."""
    if isinstance(value, torch.nn.Module):
        return {MODULE_TAG: type(value).__name__,
                "shapes": {k: list(v.shape) for k, v in value.state_dict().items()}}
    if isinstance(value, (tuple, list)):
        items = [storable(v) for v in value]
        if any(i is None and v is not None for i, v in zip(items, value)):
            return None
        return type(value)(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        stored = {k: storable(v) for k, v in value.items()}
        return None if any(stored[k] is None and value[k] is not None for k in value) else stored
    decoded = decode_frame(encode({"v": value}))["v"]
    return None if unjudgeable(decoded) else value


def _restored(value: Any) -> Any:
    if isinstance(value, dict) and MODULE_TAG in value:
        return ModuleShapes(value[MODULE_TAG], {k: tuple(s) for k, s in value["shapes"].items()})
    if isinstance(value, tuple):
        return tuple(_restored(v) for v in value)
    if isinstance(value, list):
        return [_restored(v) for v in value]
    if isinstance(value, dict):
        return {k: _restored(v) for k, v in value.items()}
    return value


@functools.lru_cache(maxsize=4)
def read_table(path: Path) -> dict[str, Any]:
    """The decoded table of a bundle (read once per process)."""
    try:
        return decode_frame(path.read_bytes())["exercises"]
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the hint table ({exc})") from exc


def table_mistakes(path: Path, exercise: ExerciseConfig) -> tuple[Mistake, ...]:
    """The exercise's mistakes as lookups in the table at ``path`` (a student bundle)."""
    entry = read_table(path).get(exercise.id)
    if entry is None:
        return ()
    outputs = entry["outputs"]
    return tuple(
        # The stored hint is what a self-check shows, the exercise's nudge included.
        Mistake(id=mistake_id, function=function, hint=hint, nudge=hint, raises=raises, about=about,
                impl=_lookup(mistake_id, outputs.get(mistake_id, {})))
        for mistake_id, function, hint, raises, about in entry["mistakes"]
    )


def _lookup(mistake: str, outputs: dict[str, Any]) -> Callable[..., Any]:
    def recorded(*args: Any, **kwargs: Any) -> Any:
        key = fingerprint((args, kwargs))
        if key not in outputs:
            raise LookupError(f"no recorded output of mistake {mistake} for this input")
        return _restored(copy.deepcopy(outputs[key]))

    recorded.__name__ = mistake
    return recorded
