"""Tensor-aware comparison of a student's value with an expected one.

Stages, as a tutor would look: type, shape, dtype kind, non-finite values, then values with
a tolerance. The first stage that differs decides the message.

>>> import torch
>>> compare(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5])).summary
'mismatched 1/2 elements, max abs difference 0.5 at [1]: got 2, expected 2.5'
>>> compare(torch.ones(2, 3), torch.ones(3, 2)).summary
'shape (2, 3), expected (3, 2)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from grader.checks.remote import Remote
from grader.sandbox.codec import Opaque

MAX_ROWS = 5


@dataclass(frozen=True)
class Comparison:
    """The verdict; ``notes`` are remarks that do not fail the comparison."""

    ok: bool
    summary: str = ""
    details: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


PASS = Comparison(True)


def fmt(x: float | bool) -> str:
    """A number as a student would write it: 4 significant digits, no trailing zeros."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if math.isnan(x):
        return "nan"
    return f"{x:.4g}"


def describe_type(value: Any) -> str:
    """What a value is, in words: 'a tensor of shape (2, 3)', 'an int', 'a set'."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} ({str(value.dtype).removeprefix('torch.')})"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} ({value.dtype})"
    if isinstance(value, Remote):
        return f"{_article(value.type)} {value.type} object"
    if isinstance(value, Opaque):
        return f"a {value.type} ({value.repr})"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    name = type(value).__name__
    return f"{_article(name)} {name}"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def compare(got: Any, expected: Any, rtol: float = 1e-4, atol: float = 1e-5, where: str = "") -> Comparison:
    """Compare ``got`` (decoded from the worker) with ``expected`` (computed in the parent).

    ``where`` prefixes messages for nested values, e.g. "[0]" or "['conv1']".
    """
    if isinstance(expected, np.ndarray) and isinstance(got, np.ndarray):
        return _compare_tensor(torch.from_numpy(np.array(got)), torch.from_numpy(np.array(expected)), rtol, atol, where)
    if isinstance(expected, (torch.Tensor, np.ndarray)):
        return _compare_tensor(got, torch.as_tensor(expected), rtol, atol, where)
    if isinstance(expected, bool) or expected is None:
        if type(got) is type(expected) and got == expected:
            return PASS
        return _fail(where, f"{_got(got)}, expected {expected!r}")
    if isinstance(expected, int):
        return _compare_int(got, expected, where)
    if isinstance(expected, float):
        return _compare_float(got, expected, rtol, atol, where)
    if isinstance(expected, dict):
        return _compare_dict(got, expected, rtol, atol, where)
    if isinstance(expected, (tuple, list)):
        return _compare_sequence(got, expected, rtol, atol, where)
    if isinstance(expected, str):
        return PASS if got == expected else _fail(where, f"{_got(got)}, expected {expected!r}")
    raise TypeError(f"cannot compare with expected values of type {type(expected).__name__}")


def compare_shape(got: Any, shape: tuple[int, ...]) -> Comparison:
    """Only the type and shape stages: is ``got`` a tensor (or array) of ``shape``?

    >>> import torch
    >>> compare_shape(torch.ones(2), (3,)).summary
    'shape (2,), expected (3,)'
    """
    tensor, notes = _as_tensor(got)
    if tensor is None:
        return _fail("", f"{_got(got)}, expected a tensor of shape {shape}")
    if tuple(tensor.shape) != tuple(shape):
        return _fail("", f"shape {tuple(tensor.shape)}, expected {tuple(shape)}")
    if _kind(tensor.dtype) not in ("float", "int"):
        return _fail("", f"dtype {str(tensor.dtype).removeprefix('torch.')}, expected a float tensor")
    return Comparison(True, notes=notes)


def _fail(where: str, summary: str, details: tuple[str, ...] = ()) -> Comparison:
    return Comparison(False, f"{where}: {summary}" if where else summary, details)


def _got(got: Any) -> str:
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        return f"got {fmt(got)}"
    return f"got {describe_type(got)}"


def _as_tensor(got: Any) -> tuple[torch.Tensor | None, tuple[str, ...]]:
    """Accept a tensor, a numpy array or a Python number where a tensor is expected."""
    if isinstance(got, torch.Tensor):
        return got, ()
    if isinstance(got, np.ndarray) and got.dtype.kind in "biufc":
        return torch.from_numpy(np.array(got)), ("returned a numpy array where a torch.Tensor is expected; judged on its values",)
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        return torch.tensor(got), ("returned a Python number where a 0-dimensional tensor is expected; judged on its value",)
    return None, ()


def _kind(dtype: torch.dtype) -> str:
    if dtype == torch.bool:
        return "bool"
    if dtype.is_complex:
        return "complex"
    return "float" if dtype.is_floating_point else "int"


def _compare_tensor(got: Any, expected: torch.Tensor, rtol: float, atol: float, where: str) -> Comparison:
    tensor, notes = _as_tensor(got)
    if tensor is None:
        return _fail(where, f"{_got(got)}, expected {describe_type(expected)}")
    if tuple(tensor.shape) != tuple(expected.shape):
        return _fail(where, f"shape {tuple(tensor.shape)}, expected {tuple(expected.shape)}")
    got_kind, want_kind = _kind(tensor.dtype), _kind(expected.dtype)
    if got_kind != want_kind and not (got_kind == "int" and want_kind == "bool"):
        name = str(tensor.dtype).removeprefix("torch.")
        return _fail(where, f"dtype {name}, expected a {want_kind} tensor ({str(expected.dtype).removeprefix('torch.')})")
    if tensor.dtype != expected.dtype:
        notes += (
            (f"returned dtype {str(tensor.dtype).removeprefix('torch.')} where "
            f"{str(expected.dtype).removeprefix('torch.')} is expected; judged on its values"),
        )
    if want_kind == "complex":
        g, e = torch.view_as_real(tensor.to(torch.complex128)), torch.view_as_real(expected.to(torch.complex128))
    elif want_kind in ("int", "bool"):
        # Integers are compared exactly, in int64: float64 would round above 2**53.
        g, e, rtol, atol = tensor.to(torch.int64), expected.to(torch.int64), 0.0, 0.0
    else:
        g, e = tensor.to(torch.float64), expected.to(torch.float64)
    verdict = _compare_values(g, e, rtol, atol, where)
    return Comparison(verdict.ok, verdict.summary, verdict.details, notes)


def _index(flat: int, shape: tuple[int, ...]) -> list[int]:
    return [int(i) for i in np.unravel_index(flat, shape)] if shape else []


def _compare_values(g: torch.Tensor, e: torch.Tensor, rtol: float, atol: float, where: str) -> Comparison:
    if g.numel() == 0:
        return PASS
    if not g.dtype.is_floating_point:
        bad = g != e
        g, e = g.to(torch.float64), e.to(torch.float64)
        diff = (g - e).abs()
    else:
        same_nonfinite = (torch.isnan(g) & torch.isnan(e)) | (torch.isinf(g) & (g == e))
        diff = (g - e).abs()
        finite = torch.isfinite(g) & torch.isfinite(e)
        bad = ~same_nonfinite & ~(finite & (diff <= atol + rtol * e.abs()))
    count = int(bad.sum())
    if count == 0:
        return PASS
    shape = tuple(g.shape)
    flat_bad = torch.nonzero(bad.reshape(-1)).flatten()
    rows = tuple(
        f"{_index(int(i), shape)!s:<12} got {fmt(float(g.reshape(-1)[i])):>10}   expected {fmt(float(e.reshape(-1)[i])):>10}"
        for i in flat_bad[:MAX_ROWS]
    )
    if count > MAX_ROWS:
        rows += (f"... and {count - MAX_ROWS} more",)
    nonfinite = bad & ~torch.isfinite(g)
    if bool(nonfinite.any()):
        first = int(torch.nonzero(nonfinite.reshape(-1))[0])
        value = fmt(float(g.reshape(-1)[first]))
        return _fail(
            where,
            f"got {value} at {_index(first, shape)} where {fmt(float(e.reshape(-1)[first]))} is expected "
            f"({int(nonfinite.sum())} of {g.numel()} values are not finite)",
            rows,
        )
    finite_diff = torch.where(bad, diff, torch.zeros_like(diff))
    if not bool(torch.isfinite(finite_diff).all()):
        finite_diff = torch.where(torch.isfinite(finite_diff), finite_diff, torch.full_like(diff, float("inf")))
    worst = int(torch.argmax(finite_diff.reshape(-1)))
    return _fail(
        where,
        f"mismatched {count}/{g.numel()} elements, max abs difference {fmt(float(diff.reshape(-1)[worst]))} "
        f"at {_index(worst, shape)}: got {fmt(float(g.reshape(-1)[worst]))}, expected {fmt(float(e.reshape(-1)[worst]))}",
        rows,
    )


def _number(got: Any) -> tuple[Any, tuple[str, ...]]:
    """A Python number from a number, a 0-d tensor or a 0-d array (with a note)."""
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        return got, ()
    if isinstance(got, (torch.Tensor, np.ndarray)) and got.ndim == 0:
        value = got.item()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value, (f"returned {describe_type(got)} where a Python number is expected; judged on its value",)
    return None, ()


def _compare_int(got: Any, expected: int, where: str) -> Comparison:
    value, notes = _number(got)
    if value is None:
        return _fail(where, f"{_got(got)}, expected the integer {expected}")
    if isinstance(value, float) and not value.is_integer():
        return _fail(where, f"got {fmt(value)}, expected the integer {expected}")
    if int(value) != expected:
        off = int(value) - expected
        return Comparison(False, _fail(where, f"got {int(value)}, expected {expected} (off by {off:+d})").summary,
                          notes=notes)
    if isinstance(value, float):
        notes += (f"returned the float {value:g} where an int is expected; judged on its value",)
    return Comparison(True, notes=notes)


def _compare_float(got: Any, expected: float, rtol: float, atol: float, where: str) -> Comparison:
    value, notes = _number(got)
    if value is None:
        return _fail(where, f"{_got(got)}, expected the number {fmt(expected)}")
    if math.isclose(value, expected, rel_tol=rtol, abs_tol=atol) or (math.isnan(value) and math.isnan(expected)):
        return Comparison(True, notes=notes)
    return Comparison(False, _fail(where, f"got {fmt(value)}, expected {fmt(expected)}").summary, notes=notes)


def _compare_dict(got: Any, expected: dict[Any, Any], rtol: float, atol: float, where: str) -> Comparison:
    if not isinstance(got, dict):
        return _fail(where, f"{_got(got)}, expected a dict with {len(expected)} entries")
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s): {_keys(missing)}")
        if extra:
            parts.append(f"unexpected {len(extra)} key(s): {_keys(extra)}")
        return _fail(where, "; ".join(parts))
    for position, (g_key, e_key) in enumerate(zip(got, expected)):
        if g_key != e_key:
            return _fail(
                where,
                f"the right keys in a different order: at position {position} got {g_key!r}, expected {e_key!r}",
            )
    notes: tuple[str, ...] = ()
    for key, value in expected.items():
        verdict = compare(got[key], value, rtol, atol, f"{where}[{key!r}]")
        if not verdict.ok:
            return verdict
        notes += verdict.notes
    return Comparison(True, notes=notes)


def _keys(keys: list[Any]) -> str:
    shown = ", ".join(repr(k) for k in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _compare_sequence(got: Any, expected: tuple[Any, ...] | list[Any], rtol: float, atol: float, where: str) -> Comparison:
    if not isinstance(got, (tuple, list)):
        return _fail(where, f"{_got(got)}, expected a {type(expected).__name__} of {len(expected)} values")
    if len(got) != len(expected):
        return _fail(where, f"{len(got)} values, expected {len(expected)}")
    notes: tuple[str, ...] = ()
    for i, (g, e) in enumerate(zip(got, expected)):
        verdict = compare(g, e, rtol, atol, f"{where}[{i}]")
        if not verdict.ok:
            return verdict
        notes += verdict.notes
    return Comparison(True, notes=notes)
