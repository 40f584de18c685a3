"""Hypothesis strategies shared by the exercises: small tensors of readable numbers.

Values are multiples of 1/4 between -2 and 2, so a shrunk failing input is short, exact
and easy to type into a Python prompt.

>>> from hypothesis import find
>>> find(tensors((2,)), lambda t: True).tolist()
[0.0, 0.0]
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@functools.lru_cache(maxsize=4096)
def tensors(shape: tuple[int, ...], limit: float = 2.0, step: float = 0.25) -> st.SearchStrategy[torch.Tensor]:
    """float32 tensors of the given shape: multiples of ``step`` in [-limit, limit], shrinking towards 0.

    Drawn as integers and scaled once per tensor, which is twice as fast as mapping every
    element and draws the very same values. Strategies are cached: composite strategies ask
    for the same shapes again and again, and a new strategy object is validated anew.
    ``fill=nothing`` keeps every element drawn (hypothesis would otherwise repeat one value
    over most of the tensor).
    """
    n = int(limit / step)
    return hnp.arrays(np.int32, shape, elements=st.integers(-n, n), fill=st.nothing()).map(
        lambda a: torch.from_numpy(np.asarray(a * step, dtype=np.float32)))  # 0-d arrays stay arrays


@functools.lru_cache(maxsize=4096)
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
