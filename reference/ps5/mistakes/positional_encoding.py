"""Catalogued mistakes for Exercise 4 (``positional_encoding``): ``frequencies``,
``positional_encoding`` and ``relative_score``.

The checks need d >= 4 (``frequencies_missing_factor_two`` is right for d = 2, where the
only frequency is 1) and at least two frequencies for the encoding
(``encoding_blocks_concatenated`` is right for one). Two variants keep the properties of
the sheet and are caught only by comparison with the reference: the swapped encoding
still has unit-norm pairs and the same dot products, and ``relative_score_averaged`` still
depends on p - q alone. ``relative_score_of_sum`` and ``relative_score_with_sin`` break
``<PE(p), PE(q)> == relative_score(p, q)`` for p != q (and the former also the shift
invariance). Note that cos is even, so a sign slip in p - q is not a mistake.
"""

import torch

from grader.catalogue import Mistake


def _frequencies_exponent_from_one(d: int, base: float = 10000.0) -> torch.Tensor:
    # -2k/d with k = 1, ..., d/2: the first frequency is base^(-2/d) instead of 1.
    k = torch.arange(1, d // 2 + 1, dtype=torch.float64)
    return torch.pow(base, -2.0 * k / d).to(torch.float32)


def _frequencies_missing_factor_two(d: int, base: float = 10000.0) -> torch.Tensor:
    k = torch.arange(d // 2, dtype=torch.float64)
    return torch.pow(base, -k / d).to(torch.float32)


def _angles(p: torch.Tensor, omegas: torch.Tensor) -> torch.Tensor:
    """omega_k * p for every position and frequency, shape p.shape + (m,)."""
    return torch.as_tensor(p)[..., None] * omegas


def _encoding_blocks_concatenated(p: torch.Tensor, omegas: torch.Tensor) -> torch.Tensor:
    # (sin w1 p, ..., sin wm p, cos w1 p, ..., cos wm p): all sines first, then all cosines.
    angles = _angles(p, omegas)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


def _encoding_sin_cos_swapped(p: torch.Tensor, omegas: torch.Tensor) -> torch.Tensor:
    angles = _angles(p, omegas)
    return torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1).flatten(-2)


def _relative_score_with_sin(
    p: torch.Tensor, q: torch.Tensor, omegas: torch.Tensor
) -> torch.Tensor:
    offset = torch.as_tensor(p) - torch.as_tensor(q)
    return torch.sin(offset[..., None] * omegas).sum(dim=-1)


def _relative_score_of_sum(
    p: torch.Tensor, q: torch.Tensor, omegas: torch.Tensor
) -> torch.Tensor:
    # cos(A + B) = cos A cos B - sin A sin B, the identity with the other sign.
    total = torch.as_tensor(p) + torch.as_tensor(q)
    return torch.cos(total[..., None] * omegas).sum(dim=-1)


def _relative_score_averaged(
    p: torch.Tensor, q: torch.Tensor, omegas: torch.Tensor
) -> torch.Tensor:
    offset = torch.as_tensor(p) - torch.as_tensor(q)
    return torch.cos(offset[..., None] * omegas).mean(dim=-1)


MISTAKES: list[Mistake] = [
    Mistake(
        id="frequencies_exponent_from_one",
        function="frequencies",
        hint=(
            "Your frequencies are shifted by one index: omega_k = base^(-2(k-1)/d) for "
            "k = 1, ..., d/2, so the first one is base^0 = 1 (in 0-based code, base^(-2i/d) "
            "for i = 0, ..., d/2 - 1)."
        ),
        impl=_frequencies_exponent_from_one,
    ),
    Mistake(
        id="frequencies_missing_factor_two",
        function="frequencies",
        hint=(
            "Your exponents are -(k-1)/d; they are -2(k-1)/d, so that the frequencies fall "
            "from 1 down to about 1/base across the d/2 pairs."
        ),
        impl=_frequencies_missing_factor_two,
    ),
    Mistake(
        id="encoding_blocks_concatenated",
        function="positional_encoding",
        hint=(
            "Your encoding puts all the sines first and then all the cosines; the sheet "
            "interleaves them pair by pair: (sin w1 p, cos w1 p, sin w2 p, cos w2 p, ...)."
        ),
        impl=_encoding_blocks_concatenated,
    ),
    Mistake(
        id="encoding_sin_cos_swapped",
        function="positional_encoding",
        hint=(
            "Each of your pairs is (cos, sin); the sheet's pe_omega(p) is (sin(omega p), "
            "cos(omega p)), sine first."
        ),
        impl=_encoding_sin_cos_swapped,
    ),
    Mistake(
        id="relative_score_with_sin",
        function="relative_score",
        hint=(
            "Your score sums sin(omega_k (p - q)); the identity "
            "sin A sin B + cos A cos B = cos(A - B) turns each pair's dot product into "
            "cos(omega_k (p - q))."
        ),
        impl=_relative_score_with_sin,
    ),
    Mistake(
        id="relative_score_of_sum",
        function="relative_score",
        hint=(
            "Your score uses p + q; the dot product of two encodings depends on the offset: "
            "sin A sin B + cos A cos B = cos(A - B), not cos(A + B)."
        ),
        impl=_relative_score_of_sum,
    ),
    Mistake(
        id="relative_score_averaged",
        function="relative_score",
        hint=(
            "Your score is the mean over the frequencies; the dot product <PE(p), PE(q)> is "
            "the sum over the d/2 pairs, sum_k cos(omega_k (p - q)), so it equals d/2 at p = q."
        ),
        impl=_relative_score_averaged,
    ),
]
