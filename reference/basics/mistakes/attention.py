"""Catalogued mistakes for Exercise 4 (``attention``): ``scaled_dot_product_attention``.

Some variants agree with the reference on special inputs only (d_k = 1, d_v = d_k, no
mask), so the checks need d_k >= 2, d_v != d_k and boolean masks with at least one
``False``; the two softmax mistakes show only for scores large enough for ``exp`` to
overflow (beyond 88 in float32), with rows whose maxima lie far apart.
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


def _softmax_without_max(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    # The sheet's own snippet: exp(s) / sum(exp(s)), which overflows to inf / inf = nan.
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    e = torch.exp(scores)
    return e / e.sum(dim=-1, keepdim=True) @ V


def _softmax_minus_global_max(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    # One maximum for the whole tensor: a row far below it underflows to 0 / 0 = nan.
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    e = torch.exp(scores - scores.max())
    return e / e.sum(dim=-1, keepdim=True) @ V


def _k_dot_T(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    # K.T reverses every dimension of a batched K, (B, n_k, d_k) -> (d_k, n_k, B).
    scores = Q @ K.permute(*range(K.ndim - 1, -1, -1)) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
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
    Mistake(
        id="softmax_without_max",
        function="scaled_dot_product_attention",
        hint=(
            "exp() of a score above about 88 is inf in float32, and inf / inf is nan: subtract "
            "each row's maximum, scores - scores.amax(dim=-1, keepdim=True), before exp (the "
            "weights stay the same), or use torch.softmax(scores, dim=-1), which does it for you."
        ),
        impl=_softmax_without_max,
    ),
    Mistake(
        id="softmax_minus_global_max",
        function="scaled_dot_product_attention",
        hint=(
            "You subtract one maximum over the whole tensor: a row whose scores all lie far below "
            "it underflows to 0 / 0 = nan. Subtract each row's own maximum, "
            "scores.amax(dim=-1, keepdim=True)."
        ),
        impl=_softmax_minus_global_max,
    ),
    Mistake(
        id="k_dot_T",
        function="scaled_dot_product_attention",
        hint=(
            "K.T reverses every dimension of a batched K, (B, n_k, d_k) -> (d_k, n_k, B), not just "
            "the last two: use K.transpose(-2, -1) (or K.mT) to transpose each matrix of the batch."
        ),
        impl=_k_dot_T,
    ),
]
