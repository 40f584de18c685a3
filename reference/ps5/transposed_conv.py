"""Reference solution, Exercise 1 - Why "transposed convolutions".

Output i of the strided convolution is ``sum_m w[m] x~[stride*i + m]``, so row i of A holds
w at columns ``stride*i, ..., stride*i + k - 1`` of the padded input; for the sheet's case
(k = 3, n = 4, stride 2, padding 1)

    A = [[w0, w1, w2, 0,  0,  0],
         [0,  0,  w0, w1, w2, 0]].

A^T z adds z[i] * w at positions ``stride*i, ...``: that is the transposed convolution,
``[w0 z0, w1 z0, w2 z0 + w0 z1, w1 z1, w2 z1, 0]`` for the sheet. PyTorch's
``ConvTranspose1d`` returns the first ``(len(z) - 1) * stride + k`` entries (5 here); the
rest of A^T z, columns no filter position reaches, is zero.
"""

import torch
import torch.nn.functional as F


def _filter_positions(m: int, k: int, stride: int) -> torch.Tensor:
    """Index ``[i, j] = stride * i + j``: where filter tap j lands for output (input) i."""
    return stride * torch.arange(m)[:, None] + torch.arange(k)[None, :]


def conv1d_matrix(w: torch.Tensor, n: int, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Return A of shape ``(n_out, n + 2*padding)``, ``n_out = (n + 2*padding - k) // stride + 1``,
    with ``A @ F.pad(x, (padding, padding)) == F.conv1d(x[None, None], w[None, None],
    stride=stride, padding=padding).flatten()``; dtype of ``w``."""
    k = len(w)
    n_out = (n + 2 * padding - k) // stride + 1
    A = torch.zeros(n_out, n + 2 * padding, dtype=w.dtype)
    rows = torch.arange(n_out)[:, None].expand(n_out, k)
    A[rows, _filter_positions(n_out, k, stride)] = w
    return A


def conv_transpose1d(z: torch.Tensor, w: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """Return the transposed convolution of ``z`` (length m) with ``w`` (length k), length
    ``(m - 1) * stride + k``: copies ``z[i] * w`` placed at ``stride * i``, overlaps summed."""
    m, k = len(z), len(w)
    out = torch.zeros((m - 1) * stride + k, dtype=torch.result_type(z, w))
    # index_add_ sums the contributions that land on the same position, which is exactly
    # what the overlapping copies of the filter need (plain indexed assignment would keep one).
    contributions = (z[:, None] * w[None, :]).flatten()
    return out.index_add_(0, _filter_positions(m, k, stride).flatten(), contributions)


if __name__ == "__main__":
    w = torch.tensor([1.0, 2.0, 3.0])
    x = torch.tensor([1.0, -1.0, 2.0, 0.5])
    z = torch.tensor([1.0, 10.0])
    A = conv1d_matrix(w, 4, stride=2, padding=1)
    print(A)
    print((A @ F.pad(x, (1, 1))).tolist(),
          F.conv1d(x[None, None], w[None, None], stride=2, padding=1).flatten().tolist())
    print((A.T @ z).tolist())
    print(conv_transpose1d(z, w, stride=2).tolist(),
          F.conv_transpose1d(z[None, None], w[None, None], stride=2).flatten().tolist())
