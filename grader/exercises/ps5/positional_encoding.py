"""Ex. 4: sinusoidal positional encodings and relative distances.

Public checks: the frequencies and the interleaved layout as the sheet defines them, then
the laws it proves: each (sin, cos) pair has unit norm, <PE(p), PE(q)> equals the relative
score, and the score is invariant to shifting p and q together. Hidden: the reference.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks import Call, Context, check
from grader.checks.strategies import tensors

FREQUENCIES, ENCODING, SCORE = "frequencies", "positional_encoding", "relative_score"


@st.composite
def frequency_calls(draw: st.DrawFn, max_half: int = 8) -> Call:
    d = 2 * draw(st.integers(1, max_half))
    base = draw(st.sampled_from([10000.0, 100.0, 2.0]))
    return Call((d,), {"base": base} if base != 10000.0 or draw(st.booleans()) else {}, ("d",))


def torch_frequencies(d: int, base: float = 10000.0) -> torch.Tensor:
    k = torch.arange(1, d // 2 + 1, dtype=torch.float64)
    return (base ** (-2 * (k - 1) / d)).float()


@st.composite
def encoding_calls(draw: st.DrawFn) -> Call:
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    p = draw(tensors(shape, 20.0, 0.5))
    return Call((p, torch_frequencies(2 * draw(st.integers(1, 4)))), {}, ("p", "omegas"))


def torch_encoding(p: torch.Tensor, omegas: torch.Tensor) -> torch.Tensor:
    angles = p[..., None].double() * omegas.double()
    return torch.stack((torch.sin(angles), torch.cos(angles)), dim=-1).flatten(-2).float()


@st.composite
def score_calls(draw: st.DrawFn) -> Call:
    n = draw(st.integers(1, 4))
    p, q = draw(tensors((n,), 20.0, 0.5)), draw(tensors((n,), 20.0, 0.5))
    return Call((p, q, torch_frequencies(2 * draw(st.integers(1, 4)))), {}, ("p", "q", "omegas"))


@check("frequencies_formula", "frequencies(d, base) has d/2 entries omega_k = base ** (-2(k-1)/d)")
def frequencies_formula(ctx: Context) -> None:
    ctx.agree(FREQUENCIES, frequency_calls(), torch_frequencies)


@check("interleaved_layout", "positional_encoding(p, omegas) is (sin w1 p, cos w1 p, sin w2 p, cos w2 p, ...)")
def interleaved_layout(ctx: Context) -> None:
    ctx.agree(ENCODING, encoding_calls(), torch_encoding, rtol=1e-4, atol=1e-4)


@check("unit_norm_pairs", "each (sin, cos) pair of the encoding has unit norm")
def unit_norm_pairs(ctx: Context) -> None:
    def body(call: Call) -> None:
        p, omegas = call.args
        pe = ctx.returned_tensor(ENCODING, call, (*p.shape, 2 * len(omegas)))
        norms = pe.reshape(*p.shape, len(omegas), 2).square().sum(-1)
        ctx.require_close(ENCODING, call, norms, torch.ones_like(norms),
                          "a (sin, cos) pair does not have unit norm: squared norms", rtol=0, atol=1e-4,
                          got=pe.float())

    ctx.for_all(ENCODING, encoding_calls(), body)


@check("dot_product_is_relative_score", "<PE(p), PE(q)> equals relative_score(p, q) = sum_k cos(omega_k (p - q))")
def dot_product_is_relative_score(ctx: Context) -> None:
    def body(call: Call) -> None:
        p, q, omegas = call.args
        width = 2 * len(omegas)
        pe_p = ctx.returned_tensor(ENCODING, Call((p, omegas), {}, ("p", "omegas")), (*p.shape, width))
        pe_q = ctx.returned_tensor(ENCODING, Call((q, omegas), {}, ("p", "omegas")), (*q.shape, width))
        score = ctx.returned_tensor(SCORE, call, tuple(p.shape))
        ctx.require_close(SCORE, call, score, (pe_p * pe_q).sum(-1),
                          "relative_score(p, q) is not <PE(p), PE(q)>:", rtol=1e-3, atol=1e-3, got=score.float())

    ctx.for_all(SCORE, score_calls(), body)


@check("shift_invariant", "relative_score(p + s, q + s) == relative_score(p, q): only p - q matters")
def shift_invariant(ctx: Context) -> None:
    def body(call: Call) -> None:
        p, q, omegas = call.args
        score = ctx.returned_tensor(SCORE, call, tuple(p.shape))
        shifted = Call((p + 3.5, q + 3.5, omegas), {}, call.labels)
        moved = ctx.returned_tensor(SCORE, shifted, tuple(p.shape))
        ctx.require_close(SCORE, shifted, moved, score,
                          "shifting p and q by 3.5 changed the score:", rtol=1e-3, atol=1e-3, got=moved.float())

    ctx.for_all(SCORE, score_calls(), body)


@check("matches_reference", "all three functions agree with the reference")
def matches_reference(ctx: Context) -> None:
    ctx.agree(FREQUENCIES, frequency_calls(max_half=32), ctx.reference.frequencies)
    ctx.agree(ENCODING, encoding_calls(), ctx.reference.positional_encoding, rtol=1e-4, atol=1e-4)
    ctx.agree(SCORE, score_calls(), ctx.reference.relative_score, rtol=1e-4, atol=1e-4)
