"""Ex. 4: scaled dot-product attention by hand, with an optional boolean mask.

Public checks compare with ``F.scaled_dot_product_attention``, on small scores and on scores
of several hundred (where ``exp`` overflows unless each row's maximum is subtracted, as
``torch.softmax`` and ``F.scaled_dot_product_attention`` do), and check that every output
row is a convex combination of the rows of V; the hidden one compares with the reference.
Calling ``F.scaled_dot_product_attention`` in the student's function scores nothing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from grader.checks import Call, Context, check
from grader.checks.strategies import masks, tensors

FUNCTION = "scaled_dot_product_attention"


@st.composite
def attention_calls(draw: st.DrawFn, masked: bool | None = None, max_n: int = 4, max_d: int = 4,
                    large: bool = False) -> Call:
    """Q, K, V with 0-2 leading batch dimensions; a mask when ``masked`` (either if None).

    ``large`` draws Q and K as multiples of 4 up to 40, so that scores run to several
    hundred; d_k is then 1 or 4, whose square roots are exact, so that the scaled scores
    are exact in float32 and a correct solution cannot differ by rounding.
    """
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    n_q, n_k, d_k, d_v = (draw(st.integers(1, n)) for n in (max_n, max_n, max_d, max_d))
    limit, step = 2.0, 0.25
    if large:
        d_k, limit, step = draw(st.sampled_from([1, 4])), 40.0, 4.0
    q = draw(tensors((*batch, n_q, d_k), limit, step))
    k = draw(tensors((*batch, n_k, d_k), limit, step))
    v = draw(tensors((*batch, n_k, d_v)))
    if masked is None:
        masked = draw(st.booleans())
    if not masked:
        return Call((q, k, v), {}, ("Q", "K", "V"))
    # The mask may broadcast: drop some leading dimensions or make the query axis 1.
    full = (*batch, n_q, n_k)
    keep = draw(st.integers(2, len(full)))
    shape = list(full[len(full) - keep :])
    if draw(st.booleans()):
        shape[-2] = 1
    return Call((q, k, v), {"mask": draw(masks(tuple(shape)))}, ("Q", "K", "V"))


def torch_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


@check("matches_torch", "without a mask, agrees with F.scaled_dot_product_attention")
def matches_torch(ctx: Context) -> None:
    ctx.agree(FUNCTION, attention_calls(masked=False), torch_attention)


@check("masked_matches_torch", "with a boolean mask (True = may attend), agrees with F.scaled_dot_product_attention")
def masked_matches_torch(ctx: Context) -> None:
    ctx.agree(FUNCTION, attention_calls(masked=True), torch_attention)


def exact_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Attention computed in float64: the float32 answer a stable softmax gives, to rounding."""
    return torch_attention(q.double(), k.double(), v.double(), mask).float()


@check("stable_for_large_scores", "stays finite and agrees with F.scaled_dot_product_attention for scores of several hundred")
def stable_for_large_scores(ctx: Context) -> None:
    ctx.agree(FUNCTION, attention_calls(large=True), exact_attention)


@check("convex_combination", "each output row is a weighted average of the rows of V (weights >= 0, summing to 1)")
def convex_combination(ctx: Context) -> None:
    def body(call: Call) -> None:
        v = call.args[2]
        out = ctx.returned_tensor(FUNCTION, call, (*v.shape[:-2], call.args[0].shape[-2], v.shape[-1]))
        low = v.double().amin(dim=-2, keepdim=True) - 1e-4
        high = v.double().amax(dim=-2, keepdim=True) + 1e-4
        # Written as 'not inside' so that NaN, which compares false with everything, is outside.
        outside = ~((out >= low) & (out <= high))
        if bool(outside.any()):
            index = [int(i) for i in torch.nonzero(outside)[0]]
            raise ctx.failure(
                FUNCTION, call,
                f"output {index} is {float(out[tuple(index)]):.4g}, outside the range of V's column "
                f"[{float(low.expand_as(out)[tuple(index)]) + 1e-4:.4g}, {float(high.expand_as(out)[tuple(index)]) - 1e-4:.4g}]: "
                "the attention weights of a row must be >= 0 and sum to 1",
                got=out.float(),
            )

    ctx.for_all(FUNCTION, attention_calls(), body)


@check("matches_reference", "agrees with the reference on larger inputs, with and without masks")
def matches_reference(ctx: Context) -> None:
    ctx.agree(FUNCTION, attention_calls(max_n=6, max_d=6), ctx.reference.scaled_dot_product_attention,
              max_examples=ctx.max_examples * 2)
