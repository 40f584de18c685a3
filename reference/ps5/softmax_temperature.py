"""Reference solution, Exercise 3 - Temperature in softmax.

p_i(T) / p_k(T) = exp((z_i - z_k) / T): lowering T sharpens the distribution, raising it
flattens it. Writing p_i(T) = exp((z_i - M) / T) / sum_j exp((z_j - M) / T) with
M = max_j z_j, every term with z_i < M tends to 0 as T -> 0 and every maximiser keeps
exp(0) = 1, so the mass ends evenly on the maximisers (a point mass on the argmax when it
is unique). As T -> infinity, every exp(z_i / T) -> 1 and p_i -> 1/n, the uniform
distribution.

The same rewriting with M is what makes the computation safe: every exponent is <= 0, so
exp never overflows, and the maximiser's term is exactly 1, so the sum is never 0.
"""

import torch


def softmax_t(z: torch.Tensor, T: float) -> torch.Tensor:
    """Return ``softmax(z / T)`` over the last dimension, finite for any finite z and T > 0."""
    # Subtracting the maximum before dividing by T keeps the exponents <= 0 however small T
    # is; dividing first could overflow z / T itself before the maximum is taken off.
    shifted = (z - z.amax(dim=-1, keepdim=True)) / T
    e = torch.exp(shifted)
    return e / e.sum(dim=-1, keepdim=True)


def sample_with_temperature(
    z: torch.Tensor, T: float, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Return ``num_samples`` int64 indices drawn with replacement from ``softmax_t(z, T)``."""
    return torch.multinomial(softmax_t(z, T), num_samples, replacement=True, generator=generator)


if __name__ == "__main__":
    z = torch.tensor([2.0, 1.0, 0.5, 2.0, -1.0])
    for T in [100.0, 1.0, 0.1, 1e-4]:
        print(T, softmax_t(z, T).tolist())
    print(softmax_t(torch.tensor([1e4, -1e4, 0.0]), 1e-4).tolist())
    print(sample_with_temperature(z, 1.0, 10, torch.Generator().manual_seed(0)).tolist())
