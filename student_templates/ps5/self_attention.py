"""Exercise 2 - Transformer equivariance.

From the exercise sheet:

    Show formally that transformers which use self-attention layers without positional
    encodings are equivariant to permutations of the input tokens.

    Let the input sequence consist of n tokens with embeddings collected in a matrix
    X in R^{n x d}, where each row corresponds to one token. A permutation of the input
    tokens is represented by a permutation matrix P in R^{n x n}. Permutation
    equivariance of a map T means

        T(PX) = P T(X)   for all permutation matrices P.

    Self-attention: Consider a single-head self-attention layer without positional
    encodings:

        Q = X W_Q,   K = X W_K,   V = X W_V,

    where W_Q, W_K, W_V in R^{d x d_k} are shared across all tokens. The attention
    scores are

        S(X) = (1 / sqrt(d_k)) Q K^T,

    the attention weights A(X) = softmax_row(S(X)), and the attention output is
    Att(X) = A(X) V.

Write the proof on paper. Then implement the layer and the permutation matrices below, and
check the property numerically: ``python3 self_attention.py`` compares
``self_attention(P @ X)`` with ``P @ self_attention(X)`` for a random permutation.
"""

import torch


def self_attention(
    X: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor
) -> torch.Tensor:
    """Return the single-head self-attention ``softmax_row(X W_q (X W_k)^T / sqrt(d_k)) X W_v``.

    Args:
        X: the token embeddings, one token per row: shape ``(n, d)``, or ``(B, n, d)`` for
            a batch of B sequences (each sequence attends only to itself).
        W_q: query projection, shape ``(d, d_k)``.
        W_k: key projection, shape ``(d, d_k)``; ``d_k = W_k.shape[1]``.
        W_v: value projection, shape ``(d, d_v)``; d_v may differ from d_k.

    Returns:
        Att(X) of shape ``(n, d_v)`` (or ``(B, n, d_v)``), same dtype as X. Row i is the
        average of the rows of V weighted by the softmax, over the keys j, of token i's
        scaled scores with every token j.
    """
    # TODO: Q, K, V; the scores scaled by 1/sqrt(d_k); a softmax over the keys; weights
    # times V. Make it work for both (n, d) and (B, n, d).
    raise NotImplementedError("self_attention: fill in the TODO in self_attention.py")


def permutation_matrix(perm: torch.Tensor | list[int]) -> torch.Tensor:
    """Return the permutation matrix P that reorders the rows of X by ``perm``.

    Args:
        perm: a permutation of ``0, ..., n-1``, as a 1-D LongTensor or a list of ints.

    Returns:
        P of shape ``(n, n)``, float32, with one 1 per row and per column, such that
        ``(P @ X)[i] == X[perm[i]]`` for every i: row i of P X is row ``perm[i]`` of X.
    """
    # TODO: which entry of row i must be 1 so that (P @ X)[i] is X[perm[i]]?
    raise NotImplementedError("permutation_matrix: fill in the TODO in self_attention.py")


if __name__ == "__main__":
    torch.manual_seed(0)
    n, d, d_k, d_v = 5, 4, 3, 2
    X = torch.randn(n, d)
    W_q, W_k, W_v = torch.randn(d, d_k), torch.randn(d, d_k), torch.randn(d, d_v)
    perm = torch.randperm(n)
    try:
        P = permutation_matrix(perm)
    except NotImplementedError:
        print("permutation_matrix is not implemented yet: fill in the TODO in self_attention.py.")
    else:
        print("perm =", perm.tolist())
        print("P =")
        print(P)
        print("(P @ X)[i] == X[perm[i]] for every i:", torch.equal(P @ X, X[perm]))
        try:
            left = self_attention(P @ X, W_q, W_k, W_v)
            right = P @ self_attention(X, W_q, W_k, W_v)
        except NotImplementedError:
            print("self_attention is not implemented yet: fill in the TODO in self_attention.py.")
        else:
            print("Att(P X) == P Att(X):", torch.allclose(left, right, atol=1e-6))
            print(f"  max abs difference: {(left - right).abs().max().item():.2e}")
