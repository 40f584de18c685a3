"""Reference solution, Exercise 3 - Convolutional Layers.

By hand, without any torch convolution op: pad with zeros, cut the padded images into
kernel-sized patches with ``Tensor.unfold`` (a strided view, no copy), and contract
the patches with the kernels in one ``einsum``. The sheet's answers are
(a) [[1, 3, -1], [4, 2, 2], [5, 3, 3]], (b) [[1, -1], [5, 3]],
(c) [[1, 1, 0], [2, 2, 0], [2, -1, 1]].
"""

import torch
import torch.nn.functional as F


def conv2d(x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Cross-correlate ``x`` of shape ``(H, W)`` with ``k`` of shape ``(kh, kw)``.

    Zero padding ``padding`` on every side; returns ``(H_out, W_out)`` with
    ``H_out = (H + 2 * padding - kh) // stride + 1`` (likewise W_out), dtype of ``x``.
    """
    return conv2d_layer(x[None, None], k[None, None], stride=stride, padding=padding)[0, 0]


def conv2d_layer(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    """Apply a convolutional layer: ``(B, C_in, H, W)`` and ``(C_out, C_in, kh, kw)``
    to ``(B, C_out, H_out, W_out)``, plus ``bias`` of shape ``(C_out,)`` if given."""
    kh, kw = weight.shape[-2:]
    padded = F.pad(x, (padding, padding, padding, padding))
    # (B, C_in, H_out, W_out, kh, kw): patch [i, j] starts at row i*stride, column j*stride.
    patches = padded.unfold(2, kh, stride).unfold(3, kw, stride)
    out = torch.einsum("bchwij,ocij->bohw", patches, weight)
    if bias is not None:
        out = out + bias[:, None, None]
    return out


if __name__ == "__main__":
    X = torch.tensor(
        [[1.0, 0.0, 1.0, -1.0], [1.0, 0.0, 1.0, 0.0], [0.0, 3.0, 0.0, 1.0], [1.0, -1.0, 0.0, 1.0]]
    )
    K = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    for part, s, p in [("a", 1, 0), ("b", 2, 0), ("c", 2, 1)]:
        print(part, conv2d(X, K, stride=s, padding=p).tolist())
        print(" ", F.conv2d(X[None, None], K[None, None], stride=s, padding=p)[0, 0].tolist())
