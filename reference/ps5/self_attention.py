"""Reference solution, Exercise 2 - Transformer equivariance.

With X~ = P X: Q~ = P Q, K~ = P K, V~ = P V, so S(X~) = P S(X) P^T; the row-wise softmax
commutes with permuting rows and columns, A(X~) = P A(X) P^T, and
Att(X~) = P A(X) P^T P V = P Att(X) because P^T P = I. The same holds head by head in
multi-head attention, and row-wise maps (the output projection, the feed-forward network,
LayerNorm) and residual connections commute with P, so a transformer layer without
positional encodings is permutation equivariant.
"""

import math

import torch


def self_attention(
    X: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor
) -> torch.Tensor:
    """Return ``softmax_row(X W_q (X W_k)^T / sqrt(d_k)) X W_v`` with ``d_k = W_k.shape[1]``,
    for X of shape ``(n, d)`` or ``(B, n, d)``."""
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    # transpose(-2, -1), not .T: .T would also reverse the batch dimension of a (B, n, d_k) K.
    scores = Q @ K.transpose(-2, -1) / math.sqrt(W_k.shape[1])
    return torch.softmax(scores, dim=-1) @ V


def permutation_matrix(perm: torch.Tensor | list[int]) -> torch.Tensor:
    """Return the float32 ``(n, n)`` matrix P with ``(P @ X)[i] == X[perm[i]]``."""
    perm = torch.as_tensor(perm, dtype=torch.long)
    n = len(perm)
    P = torch.zeros(n, n)
    # (P X)[i] = sum_j P[i, j] X[j] picks X[perm[i]] when row i has its 1 in column perm[i].
    P[torch.arange(n), perm] = 1.0
    return P


if __name__ == "__main__":
    torch.manual_seed(0)
    X = torch.randn(5, 4)
    W_q, W_k, W_v = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 2)
    P = permutation_matrix(torch.randperm(5))
    print(torch.allclose(self_attention(P @ X, W_q, W_k, W_v), P @ self_attention(X, W_q, W_k, W_v)))
