"""Catalogued mistakes for Exercise 4 (``attention``): ``scaled_dot_product_attention``.

Some variants agree with the reference on special inputs only (d_k = 1, d_v = d_k, no
mask), so the checks need d_k >= 2, d_v != d_k and boolean masks with at least one
``False``.
"""

import math

import torch

from grader.catalogue import Mistake


def _no_scaling(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    scores = Q @ K.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ V


def _divided_by_d_k(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    scores = Q @ K.transpose(-2, -1) / Q.shape[-1]
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ V


def _scaled_by_sqrt_d_v(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    scores = Q @ K.transpose(-2, -1) / math.sqrt(V.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ V


def _softmax_over_queries(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-2) @ V


def _inverted_mask(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ V


def _mask_after_softmax(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    weights = torch.softmax(Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1]), dim=-1)
    if mask is not None:
        weights = weights * mask
    return weights @ V


def _masked_with_zero(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    return torch.softmax(scores, dim=-1) @ V


MISTAKES: list[Mistake] = [
    Mistake(
        id="no_scaling",
        function="scaled_dot_product_attention",
        hint=(
            "Your output matches attention without the scaling: divide the scores Q K^T by "
            "sqrt(d_k) before the softmax."
        ),
        impl=_no_scaling,
    ),
    Mistake(
        id="divided_by_d_k",
        function="scaled_dot_product_attention",
        hint=(
            "Your output matches scores divided by d_k; the scaling factor is the square root, "
            "1/sqrt(d_k)."
        ),
        impl=_divided_by_d_k,
    ),
    Mistake(
        id="scaled_by_sqrt_d_v",
        function="scaled_dot_product_attention",
        hint=(
            "Your output matches scores divided by sqrt(d_v); the scale comes from the dimension "
            "of the queries and keys, d_k = Q.shape[-1], which can differ from V's."
        ),
        impl=_scaled_by_sqrt_d_v,
    ),
    Mistake(
        id="softmax_over_queries",
        function="scaled_dot_product_attention",
        hint=(
            "Your softmax runs over the queries (dim=-2); each query's weights over the keys "
            "must sum to 1, so normalise along the last dimension of the scores."
        ),
        impl=_softmax_over_queries,
    ),
    Mistake(
        id="inverted_mask",
        function="scaled_dot_product_attention",
        hint=(
            "Your mask works the wrong way round: True marks a key the query may attend to, "
            "so the scores to hide are the ones where the mask is False."
        ),
        impl=_inverted_mask,
    ),
    Mistake(
        id="mask_after_softmax",
        function="scaled_dot_product_attention",
        hint=(
            "You zero the masked weights after the softmax, so the remaining weights no longer "
            "sum to 1; hide the masked scores before the softmax (with -inf) instead."
        ),
        impl=_mask_after_softmax,
    ),
    Mistake(
        id="masked_with_zero",
        function="scaled_dot_product_attention",
        hint=(
            "Masked scores set to 0 still get weight exp(0) > 0 in the softmax; use -inf so "
            "that a masked key gets no weight at all."
        ),
        impl=_masked_with_zero,
    ),
]
