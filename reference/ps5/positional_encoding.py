"""Reference solution, Exercise 4 - Positional encodings and relative distances.

(i) ||pe_w(p)||^2 = sin^2(w p) + cos^2(w p) = 1: pe_w(p) lies on the unit circle and
turns around it at angular speed w as p grows, with period 2 pi / w.
(ii) pe_w(p)^T pe_w(q) = cos(w p) cos(w q) + sin(w p) sin(w q) = cos(w (p - q)).
(iii) Summing (ii) over the frequency pairs, <PE(p), PE(q)> = sum_k cos(w_k (p - q)): a
function of the offset p - q alone, so dot products of encodings, the building block of
attention scores, carry relative position.
(iv) With tokens x_p = PE(p), the score is x_p^T (W_q W_k^T) x_q / sqrt(d_k), a bilinear
form in the encodings; per frequency pair it contains cos(w (p - q)) and sin(w (p - q))
terms (only those, when W_q W_k^T is a scaled rotation on the pair), and the softmax
carries them into the attention weights.
"""

import torch


def frequencies(d: int, base: float = 10000.0) -> torch.Tensor:
    """Return float32 ``omega_k = base ** (-2 (k - 1) / d)`` for k = 1, ..., d/2."""
    # k - 1 runs over 0, ..., d/2 - 1; float64 so that the rounding happens once, at the cast.
    exponents = -2.0 * torch.arange(d // 2, dtype=torch.float64) / d
    return torch.pow(base, exponents).to(torch.float32)


def positional_encoding(p: torch.Tensor, omegas: torch.Tensor) -> torch.Tensor:
    """Return the interleaved ``(sin w1 p, cos w1 p, sin w2 p, cos w2 p, ...)`` for every
    position, shape ``p.shape + (2 * len(omegas),)``."""
    angles = torch.as_tensor(p)[..., None] * omegas
    # Stacking on a new last axis and flattening it with the frequency axis interleaves:
    # (..., m, 2) -> (..., 2m) puts sin and cos of the same frequency next to each other.
    return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(-2)


def relative_score(p: torch.Tensor, q: torch.Tensor, omegas: torch.Tensor) -> torch.Tensor:
    """Return ``sum_k cos(omega_k (p - q))`` for p and q broadcast against each other."""
    offset = torch.as_tensor(p) - torch.as_tensor(q)
    return torch.cos(offset[..., None] * omegas).sum(dim=-1)


if __name__ == "__main__":
    omegas = frequencies(8)
    p = torch.arange(6.0)
    pe = positional_encoding(p, omegas)
    print(omegas.tolist())
    print(torch.allclose(pe @ pe.T, relative_score(p[:, None], p[None, :], omegas), atol=1e-5))
