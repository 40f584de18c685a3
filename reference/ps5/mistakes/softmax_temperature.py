"""Catalogued mistakes for Exercise 3 (``softmax_temperature``): ``softmax_t`` and
``sample_with_temperature``.

What the checks need to tell them apart from the reference: T != 1 (``t_multiplies``,
``sample_ignores_temperature``); logits with |z| / T beyond about 88, where float32 exp
overflows (``no_max_subtraction`` returns nan there and is right below); 2-D logits
(``softmax_over_first_dim`` is right on 1-D ones), and 2-D logits whose rows lie far apart
relative to T (``max_over_whole_tensor`` underflows a whole row to 0 / 0 = nan there,
for example rows around +1e4 and -1e4 at T = 1); a temperature at which the distribution
is not a point mass (``sample_greedy``); and more samples than categories with non-zero
probability (``sample_without_replacement`` raises then, and never repeats an index).
The sampling variants that draw do so with ``torch.multinomial`` and the given
generator, like the reference.
"""

import torch

from grader.catalogue import Mistake


def _stable_softmax(s: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax of s along dim, with the maximum subtracted."""
    e = torch.exp(s - s.amax(dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)


def _t_multiplies(z: torch.Tensor, T: float) -> torch.Tensor:
    return _stable_softmax(z * T)


def _no_max_subtraction(z: torch.Tensor, T: float) -> torch.Tensor:
    # The formula as printed: exp(z_i / T) overflows to inf, and inf / inf is nan.
    e = torch.exp(z / T)
    return e / e.sum(dim=-1, keepdim=True)


def _softmax_over_first_dim(z: torch.Tensor, T: float) -> torch.Tensor:
    # torch.softmax(z / T, dim=0): the same as dim=-1 for a single distribution only.
    return _stable_softmax(z / T, dim=0)


def _max_over_whole_tensor(z: torch.Tensor, T: float) -> torch.Tensor:
    # One maximum for all rows: a row far below it has every exp underflow to 0.
    e = torch.exp((z - z.max()) / T)
    return e / e.sum(dim=-1, keepdim=True)


def _probabilities(z: torch.Tensor, T: float) -> torch.Tensor:
    """The correct softmax_T over the last dimension, for the sampling variants."""
    return _stable_softmax(z / T)


def _sample_greedy(
    z: torch.Tensor, T: float, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    # The T -> 0 limit at every temperature: always the most probable token.
    return torch.argmax(z).repeat(num_samples)


def _sample_without_replacement(
    z: torch.Tensor, T: float, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    return torch.multinomial(_probabilities(z, T), num_samples, generator=generator)


def _sample_ignores_temperature(
    z: torch.Tensor, T: float, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    return torch.multinomial(_probabilities(z, 1.0), num_samples, replacement=True,
                             generator=generator)


def _sample_ignores_generator(
    z: torch.Tensor, T: float, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    # Right distribution, but drawn from torch's global generator whatever is passed.
    return torch.multinomial(_probabilities(z, T), num_samples, replacement=True)


MISTAKES: list[Mistake] = [
    Mistake(
        id="t_multiplies",
        function="softmax_t",
        hint=(
            "Your probabilities match softmax(z * T): the logits are divided by the "
            "temperature, exp(z_i / T), so a small T sharpens the distribution."
        ),
        impl=_t_multiplies,
    ),
    Mistake(
        id="no_max_subtraction",
        function="softmax_t",
        hint=(
            "exp(z_i / T) overflows to inf for large logits or small T, and inf / inf is nan; "
            "subtract max_j z_j from every logit first: the result is the same and every "
            "exponent is <= 0."
        ),
        impl=_no_max_subtraction,
    ),
    Mistake(
        id="softmax_over_first_dim",
        function="softmax_t",
        hint=(
            "For a 2-D z your probabilities sum to 1 down the columns (dim=0); each row "
            "z[i, :] is one distribution, so normalise over the last dimension, dim=-1."
        ),
        impl=_softmax_over_first_dim,
    ),
    Mistake(
        id="max_over_whole_tensor",
        function="softmax_t",
        hint=(
            "You subtract one maximum for the whole tensor; a row whose logits lie far below it "
            "underflows to 0 / 0 = nan. Subtract each row's own maximum "
            "(z.amax(dim=-1, keepdim=True))."
        ),
        impl=_max_over_whole_tensor,
    ),
    Mistake(
        id="sample_greedy",
        function="sample_with_temperature",
        hint=(
            "Your samples are always the argmax, which is only the T -> 0 limit; draw from the "
            "distribution softmax_t(z, T) with torch.multinomial."
        ),
        impl=_sample_greedy,
    ),
    Mistake(
        id="sample_without_replacement",
        function="sample_with_temperature",
        hint=(
            "Your samples never repeat an index (torch.multinomial draws without replacement "
            "by default); successive tokens are independent draws, so pass replacement=True."
        ),
        impl=_sample_without_replacement,
    ),
    Mistake(
        id="sample_ignores_temperature",
        function="sample_with_temperature",
        hint=(
            "Your samples follow softmax(z) whatever T is; draw from softmax_t(z, T), the "
            "temperature-scaled distribution."
        ),
        impl=_sample_ignores_temperature,
    ),
    Mistake(
        id="sample_ignores_generator",
        function="sample_with_temperature",
        hint=(
            "Pass the generator on: torch.multinomial(p, num_samples, replacement=True, "
            "generator=generator); without it, torch's global generator is used."
        ),
        impl=_sample_ignores_generator,
    ),
]
