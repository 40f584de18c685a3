"""The arguments of a call into the student's code, and how they read in feedback.

>>> import torch
>>> Call((torch.ones(2),), {"stride": 2}, ("x",)).describe()
'x = [1, 1], stride=2'
>>> Call((Built({"root": ["Linear", 3, 4]}),), {}, ("model",)).describe()
'model = Linear(3, 4)'
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.checks.compare import fmt
from grader.sandbox.models import build_object
from grader.sandbox.models import describe as describe_model

INLINE_ELEMENTS = 16


class Example(Protocol):
    """Anything a check draws and shows as its input: a :class:`Call`, or an exercise's own
    example type (a layer size with its input, say)."""

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Built:
    """An argument built from ``spec`` in the worker and in the parent: a model or an image.

    See :mod:`grader.sandbox.models` for the specs.
    """

    spec: dict[str, Any]

    def key(self) -> str:
        return json.dumps(self.spec, sort_keys=True)


@dataclass(frozen=True)
class Call:
    """The arguments of one call, labelled for feedback (``arg1`` where a label is missing)."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] = ()

    def describe(self) -> str:
        labels = self.labels + tuple(f"arg{i}" for i in range(len(self.labels), len(self.args)))
        parts = [f"{label} = {show(value)}" for label, value in zip(labels, self.args)]
        parts += [f"{key}={show(value)}" for key, value in self.kwargs.items()]
        return ", ".join(parts)


def show(value: Any) -> str:
    """A value as it appears in feedback: small tensors in full, large ones by shape."""
    import torch

    if isinstance(value, torch.Tensor):
        if value.numel() <= INLINE_ELEMENTS:
            text = _nested(value.tolist())
            return text if value.ndim <= 1 else f"{text} (shape {tuple(value.shape)})"
        return f"tensor of shape {tuple(value.shape)}"
    if isinstance(value, Built):
        return describe_model(value.spec)
    if isinstance(value, float):
        return fmt(value)
    return repr(value)


def _nested(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return fmt(value) if isinstance(value, float) else str(value)


def materialize(value: Any, cache: dict[str, Any], folder: Path) -> Any:
    """Parent-side copy of call arguments: objects built from their specs, tensors cloned.

    ``folder`` holds the provided files that image specs name (the assignment's templates).
    """
    if isinstance(value, Built):
        key = value.key()
        if key not in cache:
            cache[key] = build_object(value.spec, folder)
        return cache[key]
    if isinstance(value, tuple):
        return tuple(materialize(v, cache, folder) for v in value)
    if isinstance(value, list):
        return [materialize(v, cache, folder) for v in value]
    if isinstance(value, dict):
        return {k: materialize(v, cache, folder) for k, v in value.items()}
    return copy.deepcopy(value)
