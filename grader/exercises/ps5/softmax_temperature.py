"""Ex. 3: the temperature softmax, its laws and limits, and sampling from it.

Public checks: agreement with ``softmax(z / T)`` on moderate logits, then the laws the
sheet derives (normalisation, the ratio law, T -> 0 and T -> inf), stability for large
logits and small temperatures, and sampling: its frequencies, and its use of the generator
it is given (the worker reseeds torch's global generator before every call, so a function
that ignores the argument would otherwise go unnoticed). The hidden one compares with the
reference.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks import Built, Call, Context, check
from grader.checks.strategies import tensors

SOFTMAX, SAMPLE = "softmax_t", "sample_with_temperature"
TEMPERATURES = st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0])


@st.composite
def softmax_calls(draw: st.DrawFn, temperatures: st.SearchStrategy[float] = TEMPERATURES,
                  scale: float = 2.0, max_batch: int = 2) -> Call:
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=max_batch)))
    z = draw(tensors((*batch, draw(st.integers(1, 5))), scale, scale / 8))
    return Call((z, draw(temperatures)), {}, ("z", "T"))


def torch_softmax_t(z: torch.Tensor, T: float) -> torch.Tensor:
    return torch.softmax(z.double() / T, dim=-1).to(z.dtype)


@check("matches_softmax", "softmax_t(z, T) equals softmax(z / T) over the last dimension")
def matches_softmax(ctx: Context) -> None:
    ctx.agree(SOFTMAX, softmax_calls(), torch_softmax_t)


@check("normalised_and_ratio_law", "probabilities sum to 1 and p_i / p_k = exp((z_i - z_k) / T)")
def normalised_and_ratio_law(ctx: Context) -> None:
    def body(call: Call) -> None:
        z, t = call.args
        p = ctx.returned_tensor(SOFTMAX, call, tuple(z.shape))
        ctx.require_close(SOFTMAX, call, p.sum(-1), torch.ones(z.shape[:-1], dtype=torch.float64),
                          "the probabilities do not sum to 1 over the last dimension: sums", rtol=0, atol=1e-5,
                          got=p.float())
        log_ratio = torch.log(p) - torch.log(p[..., :1])
        ctx.require_close(SOFTMAX, call, log_ratio, (z.double() - z[..., :1].double()) / t,
                          "log(p_i / p_1) is not (z_i - z_1) / T:", rtol=1e-3, atol=1e-3, got=p.float())

    ctx.for_all(SOFTMAX, softmax_calls(), body)


@st.composite
def tied_calls(draw: st.DrawFn) -> Call:
    """Logits on a coarse grid, so that several often share the maximum, and a tiny T."""
    z = draw(tensors((draw(st.integers(2, 6)),), 2.0, 0.5))
    return Call((z, draw(st.sampled_from([1e-4, 1e-3]))), {}, ("z", "T"))


@check("limits", "T -> 0 puts the mass evenly on the maximisers; T -> inf tends to uniform")
def limits(ctx: Context) -> None:
    def body(call: Call) -> None:
        z, _t = call.args
        p = ctx.returned_tensor(SOFTMAX, call, tuple(z.shape))
        winners = (z == z.max()).double()
        ctx.require_close(SOFTMAX, call, p, winners / winners.sum(),
                          "for T -> 0 the mass should go evenly to the largest logits:", rtol=0, atol=1e-3,
                          got=p.float())
        hot = Call((z, 1e4), {}, ("z", "T"))
        p = ctx.returned_tensor(SOFTMAX, hot, tuple(z.shape))
        ctx.require_close(SOFTMAX, hot, p, torch.full(z.shape, 1 / len(z), dtype=torch.float64),
                          "for T -> inf the distribution should be nearly uniform:", rtol=0, atol=1e-3,
                          got=p.float())

    ctx.for_all(SOFTMAX, tied_calls(), body)


# Temperatures from tiny to large, for logits up to 1e4: where exp(z / T) overflows.
EXTREME_TEMPERATURES = st.sampled_from([1e-4, 1e-2, 1.0, 10.0])
# Temperatures of the hidden check, beyond the public ones on both sides.
WIDE_TEMPERATURES = st.sampled_from([1e-4, 0.1, 0.5, 1.0, 3.0, 100.0])
DRAWS = 4000  # samples per call: enough to tell frequencies from probabilities within 5 sigma


@check("stable_for_large_logits", "finite and normalised for logits up to 1e4 in size and T down to 1e-4")
def stable_for_large_logits(ctx: Context) -> None:
    ctx.agree(SOFTMAX, softmax_calls(temperatures=EXTREME_TEMPERATURES, scale=1e4, max_batch=1), torch_softmax_t,
              rtol=1e-3, atol=1e-5)


@st.composite
def sample_calls(draw: st.DrawFn) -> Call:
    """Logits, a temperature and DRAWS samples to draw."""
    z = draw(tensors((draw(st.integers(1, 5)),), 2.0, 0.25))
    return Call((z, draw(st.sampled_from([0.5, 1.0, 2.0, 1e-4])), DRAWS), {}, ("z", "T", "num_samples"))


@check("sampling", "samples are int64 indices whose frequencies follow softmax_t(z, T), drawn with the generator given")
def sampling(ctx: Context) -> None:
    def body(call: Call) -> None:
        z, t, _ = call.args
        got = ctx.call(SAMPLE, call)
        if not isinstance(got, torch.Tensor) or got.dtype != torch.int64 or tuple(got.shape) != (DRAWS,):
            kind = f"a tensor of dtype {got.dtype} and shape {tuple(got.shape)}" if isinstance(got, torch.Tensor) \
                else type(got).__name__
            raise ctx.failure(SAMPLE, call, f"{SAMPLE}() returned {kind}, expected an int64 tensor of shape ({DRAWS},)")
        if bool(((got < 0) | (got >= len(z))).any()):
            raise ctx.failure(SAMPLE, call, f"{SAMPLE}() returned indices outside 0..{len(z) - 1}")
        frequencies = torch.bincount(got, minlength=len(z)).double() / DRAWS
        expected = torch.softmax(z.double() / t, -1)
        # Five standard deviations of a frequency estimated from `DRAWS` samples.
        allowed = 5 * torch.sqrt(expected * (1 - expected) / DRAWS) + 1e-9
        worst = int(torch.argmax((frequencies - expected).abs() - allowed))
        if abs(frequencies[worst] - expected[worst]) > allowed[worst]:
            raise ctx.failure(SAMPLE, call, f"index {worst} was drawn {float(frequencies[worst]):.3f} of the time, "
                              f"but softmax_t gives it probability {float(expected[worst]):.3f}")

    ctx.for_all(SAMPLE, sample_calls(), body, max_examples=10)
    uses_the_generator(ctx)


def uses_the_generator(ctx: Context) -> None:
    """Generators of one seed give the same samples, of two seeds different ones."""
    z = torch.tensor([0.5, -0.25, 1.0, 0.0])

    def sample(seed: int, instance: int) -> tuple[Call, object]:
        call = Call((z, 1.0, 200), {"generator": Built({"generator": seed, "instance": instance})},
                    ("z", "T", "num_samples"))
        return call, ctx.call(SAMPLE, call)

    first_call, first = sample(1, 0)
    again_call, again = sample(1, 1)
    other_call, other = sample(2, 0)
    if not (isinstance(first, torch.Tensor) and isinstance(again, torch.Tensor) and isinstance(other, torch.Tensor)):
        raise ctx.failure(SAMPLE, first_call, f"{SAMPLE}() did not return a tensor")
    if first.shape != again.shape or not bool((first == again).all()):
        raise ctx.failure(SAMPLE, again_call, "two generators seeded alike gave different samples: draw every "
                          "random number from the generator argument, so that a seed makes the samples reproducible")
    if first.shape == other.shape and bool((first == other).all()):
        raise ctx.failure(SAMPLE, other_call, f"generators seeded with 1 and with 2 gave the very same {len(first)} "
                          "samples: the generator argument is not used", mistake="sample_ignores_generator")




@check("matches_reference", "softmax_t agrees with the reference, large logits and small temperatures included")
def matches_reference(ctx: Context) -> None:
    ctx.agree(SOFTMAX, softmax_calls(temperatures=WIDE_TEMPERATURES, scale=100.0), ctx.reference.softmax_t,
              rtol=1e-3, atol=1e-5)


