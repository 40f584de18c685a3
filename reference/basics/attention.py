"""Reference solution, Exercise 4 - Scaled Dot-Product Attention.

C = softmax(Q K^T / sqrt(d_k)) V, the softmax over the keys. For the Q, K, V of the
exercise text, C = [[1.798, 0.999, 1.443], [1.255, 1.248, 0.262]].
"""

import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(
    Q: torch.Tensor,
    K: torch.Tensor,
    V: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return ``softmax(Q K^T / sqrt(d_k)) V`` for ``(..., n_q, d_k)``,
    ``(..., n_k, d_k)``, ``(..., n_k, d_v)`` inputs, shape ``(..., n_q, d_v)``.

    ``mask`` is boolean, broadcastable to ``(..., n_q, n_k)``, True where attending is
    allowed; disallowed keys get weight exactly 0.
    """
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        # exp(-inf) = 0: a disallowed key gets no weight and the rest still sum to 1.
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ V


if __name__ == "__main__":
    Q = torch.tensor([[1.0, 3.0], [0.0, 1.0]])
    K = torch.tensor([[1.0, 1.0], [1.0, 2.0], [0.0, 1.0]])
    V = torch.tensor([[1.0, 0.0, -2.0], [2.0, 1.0, 2.0], [0.0, 3.0, -1.0]])
    print(scaled_dot_product_attention(Q, K, V))
    print(F.scaled_dot_product_attention(Q, K, V))
