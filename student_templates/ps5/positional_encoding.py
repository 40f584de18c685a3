"""Exercise 4 - Positional encodings and relative distances.

From the exercise sheet:

    Consider a simplified sinusoidal positional encoding with a single frequency omega (a
    simplified version of the one used in the original Transformer paper [1]). The
    positional encoding of a position p in R is defined as

        pe_omega(p) = [sin(omega p), cos(omega p)]^T,

    and the full encoding with frequencies omega_1, ..., omega_{d/2}:

        PE(p) = (sin(omega_1 p), cos(omega_1 p), ..., sin(omega_{d/2} p), cos(omega_{d/2} p)).

    (i)   Show that for any p, ||pe_omega(p)||_2^2 = 1. Interpret geometrically what
          happens to pe_omega(p) as p varies.
    (ii)  Compute the dot product of encodings of two positions for a single frequency,

              pe_omega(p)^T pe_omega(q) = sin(omega p) sin(omega q) + cos(omega p) cos(omega q),

          and use the identity cos(A - B) = cos A cos B + sin A sin B to show that the dot
          product only depends on the distance between p and q, but not on the absolute
          positions.
    (iii) Show that the dot product of the full encodings can be written as

              <PE(p), PE(q)> = sum_{k=1}^{d/2} cos(omega_k (p - q)).

          Explain why this means that sinusoidal positional encodings implicitly encode
          *relative* position information (the offset p - q), even though they are
          defined using absolute positions p and q. Think about how the attention
          mechanism can learn to prefer certain relative distance patterns (e.g. attend
          more to tokens 1-3 steps back, or attend to tokens that a multiple of 4 away).
    (iv)  Show that this dependence on the relative distance also "enters" the attention
          weights. Assume for simplicity that tokens are equal to the positional encodings
          (the part that depends on the input is zero) and compute the attention weight
          using the usual formula, for some query and key matrices W_q, W_k in R^{d x d}.

    [1] Vaswani et al. Attention is all you need. NeurIPS 30, 2017.

Answer (i)-(iv) on paper. Then implement the encoding below; ``python3
positional_encoding.py`` checks (i) and (iii) numerically. The frequencies are those of
the Transformer paper: for an encoding of even dimension d,

    omega_k = base ** (-2 (k - 1) / d),   k = 1, ..., d/2,   base = 10000,

so omega_1 = 1 and the frequencies fall geometrically towards 1/base.
"""

import torch


def frequencies(d: int, base: float = 10000.0) -> torch.Tensor:
    """Return the d/2 frequencies ``omega_k = base ** (-2 (k - 1) / d)``, k = 1, ..., d/2.

    Args:
        d: the (even) dimension of the encoding.
        base: the base of the geometric progression.

    Returns:
        A float32 tensor of shape ``(d // 2,)``; its first entry is omega_1 = 1.
    """
    # TODO: careful with the index: the sheet counts k from 1 and omega_1 = base ** 0 = 1.
    raise NotImplementedError("frequencies: fill in the TODO in positional_encoding.py")


def positional_encoding(p: torch.Tensor, omegas: torch.Tensor) -> torch.Tensor:
    """Return PE(p) for every position in ``p``.

    Args:
        p: positions, a tensor of any shape (integer or floating point).
        omegas: the frequencies omega_1, ..., omega_m, shape ``(m,)``.

    Returns:
        A floating-point tensor of shape ``p.shape + (2 * m,)``: the last dimension of
        entry ``[idx]`` is the interleaved encoding of position ``p[idx]``,
        ``(sin(omega_1 p), cos(omega_1 p), sin(omega_2 p), cos(omega_2 p), ...)``.
    """
    # TODO: the angles omega_k * p for every position and frequency, then sin and cos
    # interleaved along the last dimension (sin first in each pair).
    raise NotImplementedError("positional_encoding: fill in the TODO in positional_encoding.py")


def relative_score(p: torch.Tensor, q: torch.Tensor, omegas: torch.Tensor) -> torch.Tensor:
    """Return ``sum_k cos(omega_k (p - q))``, the formula of part (iii).

    Args:
        p: positions; any shape that broadcasts with ``q``.
        q: positions; any shape that broadcasts with ``p``.
        omegas: the frequencies, shape ``(m,)``.

    Returns:
        A floating-point tensor of the broadcast shape of p and q; by part (iii) it equals
        the dot product of ``positional_encoding(p, omegas)`` and
        ``positional_encoding(q, omegas)`` over the last dimension.
    """
    # TODO: part (iii)'s formula, computed from p - q only (not from the encodings).
    raise NotImplementedError("relative_score: fill in the TODO in positional_encoding.py")


if __name__ == "__main__":
    try:
        omegas = frequencies(8)
    except NotImplementedError:
        print("frequencies is not implemented yet: fill in the TODO in positional_encoding.py.")
    else:
        print("frequencies(8) =", omegas.tolist())
        try:
            p = torch.arange(6.0)
            pe = positional_encoding(p, omegas)
        except NotImplementedError:
            print(
                "positional_encoding is not implemented yet: "
                "fill in the TODO in positional_encoding.py."
            )
        else:
            print("PE(0) =", pe[0].tolist())
            print("PE(1) =", pe[1].tolist())
            pairs = pe.reshape(len(p), -1, 2)
            print("(i) every (sin, cos) pair has norm 1:",
                  torch.allclose(pairs.norm(dim=-1), torch.ones(len(p), len(omegas))))
            try:
                scores = relative_score(p[:, None], p[None, :], omegas)
            except NotImplementedError:
                print(
                    "relative_score is not implemented yet: "
                    "fill in the TODO in positional_encoding.py."
                )
            else:
                print("(iii) <PE(p), PE(q)> == relative_score(p, q) for p, q = 0..5:",
                      torch.allclose(pe @ pe.T, scores, atol=1e-5))
                print("      the score matrix depends only on p - q (constant diagonals):")
                print(scores)
