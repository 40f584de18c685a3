"""Reference solution, Exercises 5 and 6 - Debugging Transformers; counting parameters.

The sheet's five mistakes and the sixth, fixed below:

1. The scores were not scaled: ``q k^T / sqrt(d_head)`` keeps their size independent of
   the head dimension, so the softmax does not saturate.
2. Masked scores were set to 0, which still gets weight exp(0) after the softmax; they
   must be -inf, so that a masked key gets weight exactly 0.
3. The (B, T) key mask was not broadcast: the scores are (B, n_heads, T, T), and the mask
   must become (B, 1, 1, T) to hide a key from every head and every query.
4. ``ff2`` must map back from d_ff to d_model, or ``x + ff`` has mismatched shapes.
5. The LayerNorms normalise x, whose last dimension is d_model, not d_ff.
6. ``.view`` needs memory laid out like the requested shape; after ``permute`` it is not,
   so merging the heads needs ``.reshape`` (or ``.contiguous().view``).

Shapes: q, k, v are (B, n_heads, T, d_head); the weights (B, n_heads, T, T); the attention
output (B, n_heads, T, d_head), merged back to (B, T, d_model) before ``W_o``.

Exercise 6: W_q, W_k, W_v (no bias) 3 D^2; W_o D^2 + D; ff1 D d_ff + d_ff; ff2 d_ff D + D;
two LayerNorms 2 * 2D. In all N = 4 D^2 + 2 D d_ff + d_ff + 6 D, independent of the number
of heads (the heads split the D x D projections, they do not add to them):
N(128, 512) = 65536 + 131072 + 512 + 768 = 197888.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


class TransformerLayer(nn.Module):
    """The corrected post-LN Transformer encoder layer of Exercise 5.

    ``forward(x, mask=None)``: x of shape ``(B, T, d_model)``; mask ``None`` or ``(B, T)``,
    true/1 where a key may be attended. Returns the shape of x.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_head = d_model // n_heads

        self.W_q = nn.Linear(d_model, d_model, bias=False)
        self.W_k = nn.Linear(d_model, d_model, bias=False)
        self.W_v = nn.Linear(d_model, d_model, bias=False)
        self.W_o = nn.Linear(d_model, d_model)

        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)

        self.ln1 = nn.LayerNorm(d_model)
        self.ln2 = nn.LayerNorm(d_model)

    def _split_heads(self, t: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, n_heads, T, d_head)."""
        B, T, _ = t.shape
        return t.view(B, T, self.n_heads, self.d_head).permute(0, 2, 1, 3)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        B, T, D = x.shape
        q = self._split_heads(self.W_q(x))
        k = self._split_heads(self.W_k(x))
        v = self._split_heads(self.W_v(x))

        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)
        if mask is not None:
            # (B, T) -> (B, 1, 1, T): the same keys hidden for every head and every query.
            hidden = (mask == 0)[:, None, None, :]
            scores = scores.masked_fill(hidden, float("-inf"))
        weights = F.softmax(scores, dim=-1)

        # permute leaves the memory in head-major order; reshape copies where view cannot.
        attn = (weights @ v).permute(0, 2, 1, 3).reshape(B, T, D)

        x = self.ln1(x + self.W_o(attn))
        return self.ln2(x + self.ff2(F.relu(self.ff1(x))))


def transformer_layer_params(d_model: int, d_ff: int) -> int:
    """Return ``4 D^2 + 2 D d_ff + d_ff + 6 D`` (D = d_model), the parameter count of
    :class:`TransformerLayer` for any number of heads."""
    D = d_model
    attention = 3 * D * D + (D * D + D)  # W_q, W_k, W_v without bias; W_o with bias
    feed_forward = (D * d_ff + d_ff) + (d_ff * D + D)
    layer_norms = 2 * (2 * D)  # a scale and a shift of size D each
    return attention + feed_forward + layer_norms


if __name__ == "__main__":
    layer = TransformerLayer(128, 8, 512)
    print(transformer_layer_params(128, 512), sum(p.numel() for p in layer.parameters()))
    x = torch.randn(2, 5, 128)
    print(layer(x, torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])).shape)
