"""Ex. 2: single-head self-attention and its permutation equivariance.

The public checks compare with the formula the exercise states, check the permutation
matrix, and check the law the sheet proves, ``self_attention(P X) == P self_attention(X)``,
on the student's own code. The hidden one compares with the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from grader.checks import Call, Context, check
from grader.checks.compare import compare
from grader.checks.strategies import tensors

ATTENTION, PERMUTATION = "self_attention", "permutation_matrix"


@st.composite
def attention_calls(draw: st.DrawFn, max_n: int = 5, max_d: int = 4) -> Call:
    batch = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
    n, d, d_k, d_v = (draw(st.integers(1, m)) for m in (max_n, max_d, max_d, max_d))
    x = draw(tensors((*batch, n, d)))
    weights = (draw(tensors((d, d_k))), draw(tensors((d, d_k))), draw(tensors((d, d_v))))
    return Call((x, *weights), {}, ("X", "W_q", "W_k", "W_v"))


def formula(x: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor, w_v: torch.Tensor) -> torch.Tensor:
    """softmax(X W_q (X W_k)^T / sqrt(d_k)) X W_v, as the exercise states it."""
    scores = (x @ w_q) @ (x @ w_k).transpose(-1, -2) / math.sqrt(w_k.shape[1])
    return torch.softmax(scores, dim=-1) @ (x @ w_v)


def permutations(max_n: int = 6) -> st.SearchStrategy[list[int]]:
    return st.integers(1, max_n).flatmap(lambda n: st.permutations(list(range(n))))


@check("matches_formula", "self_attention agrees with softmax(X W_q (X W_k)^T / sqrt(d_k)) X W_v")
def matches_formula(ctx: Context) -> None:
    ctx.agree(ATTENTION, attention_calls(), formula)


@check("permutation_matrix", "(P @ X)[i] == X[perm[i]] for the matrix of every permutation")
def permutation_matrix(ctx: Context) -> None:
    def body(call: Call) -> None:
        perm = call.args[0]
        n = len(perm)
        p = ctx.returned_tensor(PERMUTATION, call, (n, n))
        x = torch.arange(float(n * 2)).reshape(n, 2)
        verdict = compare(p @ x.double(), x[torch.tensor(perm)].double())
        if not verdict.ok:
            raise ctx.failure(PERMUTATION, call, f"(P @ X)[i] is not X[perm[i]] for X = arange(2n).reshape(n, 2): "
                              f"{verdict.summary}", verdict.details, got=p.float())

    ctx.for_all(PERMUTATION, permutations().map(lambda perm: Call((perm,), {}, ("perm",))), body)


@dataclass(frozen=True)
class Permuted:
    """An attention call and a permutation of its tokens, described together in feedback."""

    call: Call
    perm: list[int]

    def describe(self) -> str:
        return f"{self.call.describe()}, perm = {self.perm}"


@st.composite
def permuted_calls(draw: st.DrawFn) -> Permuted:
    call = draw(attention_calls())
    return Permuted(call, draw(st.permutations(list(range(call.args[0].shape[-2])))))


@check("permutation_equivariant", "self_attention(P X) == P self_attention(X): permuting the tokens permutes the output")
def permutation_equivariant(ctx: Context) -> None:
    def body(example: Permuted) -> None:
        x, *weights = example.call.args
        out = ctx.returned_tensor(ATTENTION, example.call, (*x.shape[:-1], weights[2].shape[1]))
        moved = Call((x[..., example.perm, :], *weights), {}, example.call.labels)
        ctx.require_close(ATTENTION, moved, ctx.call(ATTENTION, moved), out[..., example.perm, :],
                          f"self_attention(P X) != P self_attention(X) for perm = {example.perm}:", rtol=1e-4, atol=1e-5)

    ctx.for_all(ATTENTION, permuted_calls(), body)


@check("matches_reference", "self_attention agrees with the reference on larger inputs")
def matches_reference(ctx: Context) -> None:
    ctx.agree(ATTENTION, attention_calls(max_n=8, max_d=6), ctx.reference.self_attention)
