"""Ex. 1: why "transposed convolution": the strided convolution as a matrix, and its transpose.

Public checks compare with torch's own ``F.conv1d`` / ``F.conv_transpose1d`` and check the law
the exercise is about: applying ``A^T`` is the transposed convolution (the sixth, zero entry
of the sheet's ``A^T z`` included). The hidden one compares with the reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from grader.checks import Call, Context, check
from grader.checks.compare import compare
from grader.checks.strategies import tensors

MATRIX, TRANSPOSE = "conv1d_matrix", "conv_transpose1d"


@st.composite
def matrix_calls(draw: st.DrawFn, max_n: int = 7, max_k: int = 4) -> Call:
    k, padding, stride = draw(st.integers(1, max_k)), draw(st.integers(0, 2)), draw(st.integers(1, 3))
    n = draw(st.integers(max(1, k - 2 * padding), max_n))
    kwargs = {"stride": stride, "padding": padding}
    return Call((draw(tensors((k,))), n), {key: v for key, v in kwargs.items() if v or draw(st.booleans())},
                ("w", "n"))


@st.composite
def transpose_calls(draw: st.DrawFn, max_len: int = 5, max_k: int = 4) -> Call:
    z, w = draw(tensors((draw(st.integers(1, max_len)),))), draw(tensors((draw(st.integers(1, max_k)),)))
    stride = draw(st.integers(1, 3))
    return Call((z, w), {"stride": stride} if stride != 1 or draw(st.booleans()) else {}, ("z", "w"))


def torch_matrix(w: torch.Tensor, n: int, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Column j of A is the strided convolution of the j-th unit vector of the padded input."""
    eye = torch.eye(n + 2 * padding, dtype=w.dtype)
    return F.conv1d(eye[:, None, :], w[None, None], stride=stride)[:, 0, :].T


def torch_transpose(z: torch.Tensor, w: torch.Tensor, stride: int = 1) -> torch.Tensor:
    return F.conv_transpose1d(z[None, None], w[None, None], stride=stride).flatten()


@check("matrix_matches_conv1d", "A @ pad(x) equals F.conv1d(x, w, stride, padding) for every x")
def matrix_matches_conv1d(ctx: Context) -> None:
    ctx.agree(MATRIX, matrix_calls(), torch_matrix)


@check("sheet_matrix", "for w of length 3, n = 4, stride 2, padding 1, A is the 2 x 6 matrix of part (ii)")
def sheet_matrix(ctx: Context) -> None:
    call = Call((torch.tensor([1.0, 2.0, 3.0]), 4), {"stride": 2, "padding": 1}, ("w", "n"))
    ctx.expect(MATRIX, call, torch.tensor([[1.0, 2, 3, 0, 0, 0], [0, 0, 1, 2, 3, 0]]))


@check("transpose_matches_torch", "conv_transpose1d(z, w, stride) equals F.conv_transpose1d")
def transpose_matches_torch(ctx: Context) -> None:
    ctx.agree(TRANSPOSE, transpose_calls(), torch_transpose)


@check("transpose_is_adjoint", "A^T z equals conv_transpose1d(z, w, stride), zero-padded to the length of the padded input")
def transpose_is_adjoint(ctx: Context) -> None:
    def body(call: Call) -> None:
        w, n = call.args
        stride, padding = call.kwargs.get("stride", 1), call.kwargs.get("padding", 0)
        n_out = (n + 2 * padding - len(w)) // stride + 1
        a = ctx.returned_tensor(MATRIX, call, (n_out, n + 2 * padding))
        z = torch.linspace(-1.0, 1.0, n_out)
        length = (n_out - 1) * stride + len(w)
        transpose_call = Call((z, w), {"stride": stride}, ("z", "w"))
        got = ctx.returned_tensor(TRANSPOSE, transpose_call, (length,))
        expected = a.T @ z.double()
        verdict = compare(F.pad(got, (0, n + 2 * padding - length)), expected, rtol=1e-4, atol=1e-4)
        if not verdict.ok:
            raise ctx.failure(TRANSPOSE, transpose_call,
                              f"conv_transpose1d(z) is not A^T z for your A = conv1d_matrix({call.describe()}): "
                              f"{verdict.summary}", verdict.details)

    ctx.for_all(MATRIX, matrix_calls(), body)


@check("matches_reference", "both functions agree with the reference on longer inputs and kernels")
def matches_reference(ctx: Context) -> None:
    ctx.agree(MATRIX, matrix_calls(max_n=10, max_k=5), ctx.reference.conv1d_matrix)
    ctx.agree(TRANSPOSE, transpose_calls(max_len=8, max_k=5), ctx.reference.conv_transpose1d)
