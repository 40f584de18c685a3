"""Exercise 1 - Why "transposed convolutions" (adapted from Bishop's deep learning book).

From the exercise sheet:

    We have seen in class that transposed convolution is a particular way to upsample an
    image. In this exercise we'll see where the term "transposed convolution" from deep
    learning newspeak comes from. Consider a one-dimensional strided convolutional layer
    with an input having four units with activations x = [x[0], x[1], x[2], x[3]]^T,
    which is padded with zeros to give x~ = [0, x[0], x[1], x[2], x[3], 0]^T, and a
    filter with parameters w = [w[0], w[1], w[2]].

    (i)   Write down the one-dimensional activation vector of the output layer assuming a
          stride of 2 (equivalently, of a stride-1 convolution followed by a downsampling
          by a factor of 2).
    (ii)  Express this output in the form of a matrix-vector multiplication A x~ with
          some matrix A.
    (iii) Now consider a layer that takes as input a vector of length 2
          z = [z[0], z[1]]^T and multiplies it by the *transposed* matrix A^T. Compute its
          output.
    (iv)  Compare this with the output of a 1D transposed convolution layer in pytorch
          with the filter w and stride 2. Consult the documentation for
          ``ConvTranspose1d`` for details. In particular, note that since the filter is
          longer (= 3) than the stride (= 2), the overlapping values are simply summed.

    Do read the docstring here:
    https://docs.pytorch.org/docs/stable/generated/torch.nn.ConvTranspose1d.html and
    check out the visualizations here:
    https://github.com/vdumoulin/conv_arithmetic/blob/master/README.md

Work out (i)-(iii) on paper first. Then turn them into code for any filter length, input
length, stride and padding:

* ``conv1d_matrix`` builds the matrix A of part (ii), so that A times the zero-padded
  input is the strided convolution of part (i);
* ``conv_transpose1d`` computes the transposed convolution of parts (iii)-(iv) directly.

Conventions, as in deep-learning frameworks: a "convolution" is a cross-correlation (the
filter is laid over the input as it is, not flipped), ``y[i] = sum_m w[m] x~[stride*i + m]``,
and padding adds zeros on both ends.

Rules: ``conv_transpose1d`` must be computed by hand. Using ``F.conv_transpose1d``,
``nn.ConvTranspose1d``, ``F.conv1d`` or any other torch convolution op inside it is
reported and scores nothing; loops, index arithmetic and ``index_add_`` are fine. Build
the matrix of ``conv1d_matrix`` from the entries of ``w`` as well: seeing where they go is
the point of part (ii). Comparing with PyTorch under ``if __name__ == "__main__":`` is
fine and encouraged: run ``python3 transposed_conv.py``.
"""

import torch
import torch.nn.functional as F


def conv1d_matrix(w: torch.Tensor, n: int, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Return the matrix A of the strided 1-D convolution with filter ``w``.

    A acts on the zero-padded input x~ (length ``n + 2 * padding``), and A x~ is the
    output of the convolutional layer: row i of A holds the filter at the position the
    filter takes for output i.

    Args:
        w: the filter, shape ``(k,)``.
        n: length of the input x before padding; ``n + 2 * padding >= k``.
        stride: step between neighbouring filter positions.
        padding: number of zeros added at each end of x.

    Returns:
        A of shape ``(n_out, n + 2 * padding)`` with
        ``n_out = (n + 2 * padding - k) // stride + 1``, same dtype as ``w``, such that
        ``A @ F.pad(x, (padding, padding))`` equals
        ``F.conv1d(x[None, None], w[None, None], stride=stride, padding=padding).flatten()``.
        For the sheet's case (k = 3, n = 4, stride 2, padding 1) it is the 2x6 matrix of
        part (ii).
    """
    # TODO: an all-zero (n_out, n + 2 * padding) matrix, then put w into each row at the
    # columns the filter covers for that output.
    raise NotImplementedError("conv1d_matrix: fill in the TODO in transposed_conv.py")


def conv_transpose1d(z: torch.Tensor, w: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """Return the 1-D transposed convolution of ``z`` with filter ``w``, by hand.

    Every input value z[i] adds a copy of the filter scaled by z[i] to the output,
    starting at position ``stride * i``; where the copies overlap, they are summed.

    Args:
        z: the input, shape ``(m,)``.
        w: the filter, shape ``(k,)``.
        stride: how far apart the copies of the filter start.

    Returns:
        The output of length ``(m - 1) * stride + k``, dtype of ``z * w``; equal to
        ``F.conv_transpose1d(z[None, None], w[None, None], stride=stride).flatten()``.
    """
    # TODO: start from zeros of the output length and add z[i] * w at positions
    # stride * i, ..., stride * i + k - 1, for every i.
    raise NotImplementedError("conv_transpose1d: fill in the TODO in transposed_conv.py")


if __name__ == "__main__":
    # The sheet's setting: a filter of length 3, an input of length 4, stride 2, padding 1.
    w = torch.tensor([1.0, 2.0, 3.0])
    x = torch.tensor([1.0, -1.0, 2.0, 0.5])
    z = torch.tensor([1.0, 10.0])
    try:
        A = conv1d_matrix(w, n=4, stride=2, padding=1)
    except NotImplementedError:
        print("conv1d_matrix is not implemented yet: fill in the TODO in transposed_conv.py.")
    else:
        print("A for w = [1, 2, 3], n = 4, stride 2, padding 1:")
        print(A)
        print("A @ x~          :", (A @ F.pad(x, (1, 1))).tolist())
        print("F.conv1d        :", F.conv1d(x[None, None], w[None, None], stride=2, padding=1)
              .flatten().tolist())
        print("A^T z (part iii):", (A.T @ z).tolist())
    try:
        yours = conv_transpose1d(z, w, stride=2)
    except NotImplementedError:
        print("conv_transpose1d is not implemented yet: fill in the TODO in transposed_conv.py.")
    else:
        print("conv_transpose1d(z, w, stride=2):", yours.tolist())
        print("F.conv_transpose1d              :",
              F.conv_transpose1d(z[None, None], w[None, None], stride=2).flatten().tolist())
