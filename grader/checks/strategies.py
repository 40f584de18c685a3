"""Hypothesis strategies shared by the exercises: small tensors of readable numbers.

Values are multiples of 1/4 between -2 and 2, so a shrunk failing input is short, exact
and easy to type into a Python prompt.

>>> from hypothesis import find
>>> find(tensors((2,)), lambda t: True).tolist()
[0.0, 0.0]
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def values(limit: float = 2.0, step: float = 0.25) -> st.SearchStrategy[float]:
    """Multiples of ``step`` in [-limit, limit], shrinking towards 0."""
    n = int(limit / step)
    return st.integers(-n, n).map(lambda i: i * step)


def tensors(shape: tuple[int, ...], elements: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[torch.Tensor]:
    """float32 tensors of the given shape."""
    return hnp.arrays(np.float32, shape, elements=values() if elements is None else elements).map(torch.from_numpy)


def masks(shape: tuple[int, ...]) -> st.SearchStrategy[torch.Tensor]:
    """Boolean masks in which every row (last dimension) allows at least one position."""

    def fix(array: np.ndarray) -> torch.Tensor:
        array = array.copy()
        array[..., 0] |= ~array.any(axis=-1)
        return torch.from_numpy(array)

    return hnp.arrays(np.bool_, shape).map(fix)


def orthonormal(n: int) -> st.SearchStrategy[torch.Tensor]:
    """Random orthonormal n x n matrices (columns), float32."""

    def q_of(m: torch.Tensor) -> torch.Tensor:
        q, r = torch.linalg.qr(m.double() + 3 * torch.eye(n, dtype=torch.float64))
        return (q * torch.sign(torch.diagonal(r))).float()

    return tensors((n, n)).map(q_of)
