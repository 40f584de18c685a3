"""The strategies of ps5's checks draw what their checks rely on."""

from __future__ import annotations

import torch
from hypothesis import given, settings

from grader.exercises.ps5 import guided_backprop, softmax_temperature, transformer_layer
from grader.sandbox.models import build_model

CI = settings(max_examples=40, database=None, deadline=None, derandomize=True)


def _layer_case_is_valid(case: transformer_layer.LayerCase, heads: tuple[int, ...]) -> None:
    assert case.n_heads in heads and case.d_model % case.n_heads == 0 and case.d_ff >= 1
    assert case.x.dtype == torch.float32 and case.x.shape[-1] == case.d_model


@CI
@given(transformer_layer.permuted_cases((2, 4)))
def test_permuted_cases_permute_the_tokens_of_an_unmasked_case(example) -> None:  # type: ignore[no-untyped-def]
    _layer_case_is_valid(example.case, (2, 4))
    assert example.case.mask is None and example.case.x.shape[1] >= 2
    assert sorted(example.perm) == list(range(example.case.x.shape[1]))
    assert example.describe().endswith(f"perm = {example.perm}")


@CI
@given(transformer_layer.reference_cases())
def test_reference_cases_keep_a_key_for_every_masked_row(case) -> None:  # type: ignore[no-untyped-def]
    _layer_case_is_valid(case, (1, 2, 4))
    assert 1 <= case.x.shape[0] <= 3
    if case.mask is not None:
        assert case.mask.shape == case.x.shape[:2] and bool(case.mask.bool().any(dim=-1).all())


@CI
@given(guided_backprop.small_cnn_cases())
def test_small_cnn_cases_build_a_network_scoring_every_target(call) -> None:  # type: ignore[no-untyped-def]
    spec, x, target = call.args
    assert x.shape == (1, 3, 12, 12) and 0 <= target < 300 and 0 <= spec["seed"] <= 50
    with torch.no_grad():
        assert build_model(spec)(x).shape == (1, 300)


@CI
@given(softmax_temperature.tied_calls())
def test_tied_calls_are_coarse_logits_with_a_tiny_temperature(call) -> None:  # type: ignore[no-untyped-def]
    z, t = call.args
    assert t in (1e-4, 1e-3) and 2 <= len(z) <= 6 and bool(((z * 2) == (z * 2).round()).all())


@CI
@given(softmax_temperature.sample_calls())
def test_sample_calls_ask_for_enough_draws(call) -> None:  # type: ignore[no-untyped-def]
    z, t, count = call.args
    assert count == softmax_temperature.DRAWS and t in (0.5, 1.0, 2.0, 1e-4) and 1 <= len(z) <= 5
