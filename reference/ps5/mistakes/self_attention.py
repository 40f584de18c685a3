"""Catalogued mistakes for Exercise 2 (``self_attention``): ``self_attention`` and
``permutation_matrix``.

Some variants agree with the reference on special inputs only, so the checks need
d != d_k (``scaled_by_sqrt_d``), d_k >= 2 (``divided_by_d_k``), batched inputs
``(B, n, d)`` (``batch_reversed_by_dot_T`` is right on 2-D inputs; on 3-D ones it raises,
or returns garbage when the sizes happen to fit) and permutations that are not their own
inverse, for instance a 3-cycle (``permutation_matrix_transposed`` is right for swaps).
The ``self_attention`` variants that run are all permutation equivariant, like the
reference: only the comparison with the reference's values catches them.
"""

import math

import torch

from grader.catalogue import Mistake


def _no_scaling(
    X: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor
) -> torch.Tensor:
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    return torch.softmax(Q @ K.transpose(-2, -1), dim=-1) @ V


def _scaled_by_sqrt_d(
    X: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor
) -> torch.Tensor:
    # The embedding dimension of X instead of the key dimension.
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    return torch.softmax(Q @ K.transpose(-2, -1) / math.sqrt(X.shape[-1]), dim=-1) @ V


def _divided_by_d_k(
    X: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor
) -> torch.Tensor:
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    return torch.softmax(Q @ K.transpose(-2, -1) / W_k.shape[1], dim=-1) @ V


def _softmax_over_queries(
    X: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor
) -> torch.Tensor:
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    return torch.softmax(Q @ K.transpose(-2, -1) / math.sqrt(W_k.shape[1]), dim=-2) @ V


def _scores_transposed(
    X: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor
) -> torch.Tensor:
    # K Q^T: row i holds every query's score with key i instead of query i's scores.
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    return torch.softmax(K @ Q.transpose(-2, -1) / math.sqrt(W_k.shape[1]), dim=-1) @ V


def _batch_reversed_by_dot_T(
    X: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor
) -> torch.Tensor:
    # K.T reverses all dimensions of a (B, n, d_k) tensor, not just the last two.
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    return torch.softmax(Q @ K.T / math.sqrt(W_k.shape[1]), dim=-1) @ V


def _permutation_matrix_transposed(perm: torch.Tensor | list[int]) -> torch.Tensor:
    # Column i of the identity in place of row i: P[perm[i], i] = 1, which is P^T = P^-1.
    perm = torch.as_tensor(perm, dtype=torch.long)
    return torch.eye(len(perm))[:, perm]


MISTAKES: list[Mistake] = [
    Mistake(
        id="no_scaling",
        function="self_attention",
        hint=(
            "Your output matches attention without the scaling: divide the scores "
            "X W_q (X W_k)^T by sqrt(d_k) before the softmax."
        ),
        impl=_no_scaling,
    ),
    Mistake(
        id="scaled_by_sqrt_d",
        function="self_attention",
        hint=(
            "Your scores are divided by sqrt(d), the width of X; the scale is sqrt(d_k), the "
            "dimension of the queries and keys, d_k = W_k.shape[1]."
        ),
        impl=_scaled_by_sqrt_d,
    ),
    Mistake(
        id="divided_by_d_k",
        function="self_attention",
        hint=(
            "Your scores are divided by d_k; the scaling factor is its square root, "
            "1/sqrt(d_k)."
        ),
        impl=_divided_by_d_k,
    ),
    Mistake(
        id="softmax_over_queries",
        function="self_attention",
        hint=(
            "Your softmax runs down the columns of the score matrix (dim=-2); softmax_row "
            "normalises each row, so every token's weights over the keys sum to 1: use dim=-1."
        ),
        impl=_softmax_over_queries,
    ),
    Mistake(
        id="scores_transposed",
        function="self_attention",
        hint=(
            "Your scores are K Q^T, the transpose of the score matrix; row i must hold the "
            "scores of query i with every key, S = Q K^T / sqrt(d_k)."
        ),
        impl=_scores_transposed,
    ),
    Mistake(
        id="batch_reversed_by_dot_T",
        function="self_attention",
        hint=(
            "Your function works on (n, d) inputs but not on batches (B, n, d): K.T reverses "
            "every dimension of a 3-D tensor; K.transpose(-2, -1) (or K.mT) swaps only the last "
            "two."
        ),
        impl=_batch_reversed_by_dot_T,
    ),
    Mistake(
        id="permutation_matrix_transposed",
        function="permutation_matrix",
        hint=(
            "Your matrix is the transpose (the inverse) of the one asked for: (P @ X)[i] comes "
            "out as the row j with perm[j] == i. For (P @ X)[i] == X[perm[i]], row i of P has "
            "its 1 in column perm[i]."
        ),
        impl=_permutation_matrix_transposed,
    ),
]
