"""The shared strategies: readable values, every shape (scalars included), valid masks."""

from __future__ import annotations

import torch
from hypothesis import given, settings

from grader.checks.strategies import masks, tensors


@settings(max_examples=30, database=None)
@given(tensors(()), tensors((2, 3)), tensors((4,), 20.0, 0.5))
def test_tensors_are_float32_multiples_of_the_step_within_the_limit(scalar, matrix, wide) -> None:  # type: ignore[no-untyped-def]
    assert scalar.shape == () and matrix.shape == (2, 3) and wide.shape == (4,)
    for tensor, limit, step in ((scalar, 2.0, 0.25), (matrix, 2.0, 0.25), (wide, 20.0, 0.5)):
        assert tensor.dtype == torch.float32
        assert bool((tensor.abs() <= limit).all()) and bool(((tensor / step) == (tensor / step).round()).all())


@settings(max_examples=30, database=None)
@given(masks((3, 4)))
def test_every_row_of_a_mask_allows_a_position(mask) -> None:  # type: ignore[no-untyped-def]
    assert mask.dtype == torch.bool and bool(mask.any(dim=-1).all())
