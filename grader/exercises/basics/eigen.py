"""Ex. 1: a matrix from its eigen-decomposition, ``A = Q diag(lambda) Q^T``.

The public checks are the laws the exercise is about (each column of Q is an eigenvector
with its eigenvalue; A is symmetric); the hidden one compares with the reference.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks import Call, Context, check
from grader.checks.strategies import orthonormal, tensors

FUNCTION = "matrix_from_eigendecomposition"


@st.composite
def eigen_calls(draw: st.DrawFn, max_n: int = 4) -> Call:
    n = draw(st.integers(1, max_n))
    return Call((draw(tensors((n,))), draw(orthonormal(n))), labels=("eigenvalues", "eigenvectors"))


@check("eigenpairs", "each column v_i of the eigenvectors satisfies A v_i = lambda_i v_i")
def eigenpairs(ctx: Context) -> None:
    def body(call: Call) -> None:
        lam, q = (a.double() for a in call.args)
        a = ctx.returned_tensor(FUNCTION, call, (len(call.args[0]),) * 2)
        ctx.require_close(FUNCTION, call, a @ q, q * lam,
                          "A v_i != lambda_i v_i: A @ eigenvectors", rtol=1e-4, atol=1e-4, got=a.float())

    ctx.for_all(FUNCTION, eigen_calls(), body)


@check("symmetric_with_trace", "the matrix is symmetric (A == A^T) and its trace is the sum of the eigenvalues")
def symmetric_with_trace(ctx: Context) -> None:
    def body(call: Call) -> None:
        a = ctx.returned_tensor(FUNCTION, call, (len(call.args[0]),) * 2)
        ctx.require_close(FUNCTION, call, a, a.T,
                          "A is not symmetric: A vs A^T", rtol=1e-4, atol=1e-5, got=a.float())
        trace, total = float(torch.trace(a)), float(call.args[0].double().sum())
        if abs(trace - total) > 1e-4 * max(1.0, abs(total)):
            raise ctx.failure(FUNCTION, call, f"trace(A) is {trace:.4g}, but the eigenvalues sum to {total:.4g}",
                              got=a.float())

    ctx.for_all(FUNCTION, eigen_calls(), body)


@check("matches_reference", "agrees with the reference solution on matrices up to 6 x 6")
def matches_reference(ctx: Context) -> None:
    ctx.agree(FUNCTION, eigen_calls(max_n=6), ctx.reference.matrix_from_eigendecomposition)
