"""Exercise 3 - Temperature in softmax.

From the exercise sheet:

    In all modern generative language models there is a tunable temperature parameter
    which affects the softmax which "predict the next word" (or: gives a distribution that
    we sample from to get the next token). Suppose that the logits (pre-softmax
    activations) produced by the model are given by the vector z = [z_1, z_2, ..., z_n].
    The temperature-scaled softmax is defined as:

        [softmax_T(z)]_i = exp(z_i / T) / sum_{j=1}^n exp(z_j / T)   for i = 1, 2, ..., n.

    Argue mathematically how varying the temperature T affects the output probabilities.
    In particular, show that as the temperature gets low (T -> 0), we will sample fewer
    and fewer distinct outputs, ultimately simply selecting the most probable token, while
    as the temperature gets high (T -> infinity), we will tend to sample all tokens with
    approximately the same probability.

Write the argument on paper. Then implement the temperature softmax and the sampling
below, and watch the limits happen: ``python3 softmax_temperature.py`` prints the
distribution and a few samples for several temperatures.

Numerical care: with z_i / T computed as it stands, exp overflows to inf as soon as
z_i / T exceeds about 88 in float32 (for instance z_i = 10 and T = 0.1), and inf / inf is
nan. Your ``softmax_t`` must stay finite and correct for logits up to 1e4 in size and
temperatures down to 1e-4. The formula has a freedom that makes this possible: which
constant can you subtract from every logit without changing the result?
"""

import torch


def softmax_t(z: torch.Tensor, T: float) -> torch.Tensor:
    """Return the temperature-scaled softmax of ``z`` over its last dimension.

    Args:
        z: logits, shape ``(..., n)``; every slice ``z[..., :]`` is one distribution's
            logits (a 1-D z is a single distribution).
        T: the temperature, ``T > 0``.

    Returns:
        Probabilities of the same shape and dtype as z, summing to 1 over the last
        dimension, finite for ``|z| <= 1e4`` and ``T >= 1e-4``. Where several logits tie
        for the maximum and T is tiny, they share the mass equally.
    """
    # TODO: exp(z_i / T) normalised over the last dimension, computed without overflow.
    raise NotImplementedError("softmax_t: fill in the TODO in softmax_temperature.py")


def sample_with_temperature(
    z: torch.Tensor, T: float, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw token indices from the temperature-scaled softmax of the logits ``z``.

    Args:
        z: logits, shape ``(n,)``.
        T: the temperature, ``T > 0``.
        num_samples: how many indices to draw; they are drawn independently, with
            replacement, so the same token can come up many times.
        generator: the random number generator to draw with (``None``: torch's global
            one); pass it on so that a seeded generator gives reproducible samples.

    Returns:
        An int64 tensor of shape ``(num_samples,)`` with values in ``0, ..., n-1``, drawn
        from ``softmax_t(z, T)`` with ``torch.multinomial``.
    """
    # TODO: the probabilities from softmax_t, then torch.multinomial with the generator.
    raise NotImplementedError("sample_with_temperature: fill in the TODO in softmax_temperature.py")


if __name__ == "__main__":
    z = torch.tensor([2.0, 1.0, 0.5, 2.0, -1.0])
    print("logits z =", z.tolist(), "(a tie for the maximum at indices 0 and 3)")
    generator = torch.Generator().manual_seed(0)
    try:
        for T in [100.0, 10.0, 1.0, 0.5, 0.1, 0.01, 1e-4]:
            p = softmax_t(z, T)
            print(f"T = {T:<7g} p = {[round(v, 4) for v in p.tolist()]}")
    except NotImplementedError:
        print("softmax_t is not implemented yet: fill in the TODO in softmax_temperature.py.")
    else:
        big = torch.tensor([1e4, -1e4, 0.0])
        print("stability: softmax_t([1e4, -1e4, 0], 1e-4) =", softmax_t(big, 1e-4).tolist())
        try:
            for T in [10.0, 1.0, 0.1]:
                samples = sample_with_temperature(z, T, 20, generator=generator)
                print(f"20 samples at T = {T:<4g}: {samples.tolist()}")
        except NotImplementedError:
            print(
                "sample_with_temperature is not implemented yet: "
                "fill in the TODO in softmax_temperature.py."
            )
