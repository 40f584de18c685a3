"""Exercise 4 - Scaled Dot-Product Attention.

From the exercise sheet:

    Consider the matrices Q, K, V given by

        Q = [[1, 3],      K = [[1, 1],      V = [[1, 0, -2],
             [0, 1]]           [1, 2],           [2, 1,  2],
                               [0, 1]]           [0, 3, -1]]

    Compute the context matrix C using the scaled dot product attention.

Compute C by hand and write it in ``answers.yaml`` (key ``attention_context_C``). Take
the Q, K, V printed above: the code snippet in the sheet's solution uses different
matrices. Then implement the attention below; the ``__main__`` block compares it with
PyTorch's version (``python3 attention.py``).

Rules: the graded function must compute the attention by hand. Using
``F.scaled_dot_product_attention`` inside it is reported and scores nothing; using it
under ``if __name__ == "__main__":`` to compare is fine and encouraged.
"""


import torch
import torch.nn.functional as F


def scaled_dot_product_attention(
    Q: torch.Tensor,
    K: torch.Tensor,
    V: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return the context ``softmax(Q K^T / sqrt(d_k)) V``.

    Every query (row of Q) gets a weighted average of the rows of V; the weights are
    the softmax, over the keys, of the query's scaled dot products with the keys.

    Args:
        Q: queries, shape ``(..., n_q, d_k)``.
        K: keys, shape ``(..., n_k, d_k)``.
        V: values, shape ``(..., n_k, d_v)``; d_v may differ from d_k.
        mask: ``None`` (every query may attend to every key) or a boolean tensor
            broadcastable to ``(..., n_q, n_k)``: ``True`` where query i may attend to
            key j, ``False`` where key j must get no weight at all. This is the
            convention of ``F.scaled_dot_product_attention``'s boolean ``attn_mask``.
            Every query keeps at least one allowed key.

    The leading dimensions ``...`` (any number, also none) are batch dimensions.

    Returns:
        The context, shape ``(..., n_q, d_v)``, same dtype as Q; equal to
        ``F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)``.
    """
    # TODO: scores, mask, softmax, weighted sum of the values.
    raise NotImplementedError("scaled_dot_product_attention: fill in the TODO in attention.py")


if __name__ == "__main__":
    Q = torch.tensor([[1.0, 3.0], [0.0, 1.0]])
    K = torch.tensor([[1.0, 1.0], [1.0, 2.0], [0.0, 1.0]])
    V = torch.tensor([[1.0, 0.0, -2.0], [2.0, 1.0, 2.0], [0.0, 3.0, -1.0]])
    try:
        C = scaled_dot_product_attention(Q, K, V)
    except NotImplementedError:
        print(
            "scaled_dot_product_attention is not implemented yet: "
            "fill in the TODO in attention.py."
        )
    else:
        print("yours:", C.tolist())
        print("torch:", F.scaled_dot_product_attention(Q, K, V).tolist())

        # A batch with a mask: each query may attend to the keys up to its own position.
        torch.manual_seed(0)
        Q, K, V = torch.randn(2, 4, 3), torch.randn(2, 4, 3), torch.randn(2, 4, 5)
        mask = torch.ones(4, 4, dtype=torch.bool).tril()
        yours = scaled_dot_product_attention(Q, K, V, mask)
        expected = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
        print("a batch with a causal mask (d_k = 3, d_v = 5):")
        print(f"  max abs difference to torch: {(yours - expected).abs().max().item():.2e}")
