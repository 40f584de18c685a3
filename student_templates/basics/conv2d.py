"""Exercise 3 - Convolutional Layers.

From the exercise sheet:

    Consider the following 4 x 4 x 1 input X and a 2 x 2 x 1 convolutional kernel K
    with no bias term

        X = [[1,  0, 1, -1],        K = [[1, 2],
             [1,  0, 1,  0],             [0, 1]]
             [0,  3, 0,  1],
             [1, -1, 0,  1]]

    (a) What is the output of the convolutional layer for the case of stride 1 and no
        padding?
    (b) What if we have stride 2 and no padding?
    (c) What if we have stride 2 and zero-padding of size 1?

Work out (a)-(c) by hand and write them in ``answers.yaml`` (keys
``conv2d_a_stride1_pad0``, ``conv2d_b_stride2_pad0``, ``conv2d_c_stride2_pad1``). Then
implement the convolution yourself in the two functions below.

Conventions, as in deep-learning frameworks: a "convolution" is a cross-correlation
(the kernel is laid over the input as it is, not flipped), padding adds zeros on all
four sides, and stride and padding are the same in both directions.

Rules: the two graded functions must compute the convolution by hand. Using
``F.conv2d``, ``torch.conv2d``, ``nn.Conv2d``, ``torch.convolution`` or any other torch
convolution op inside them is reported and scores nothing. Building the patches with
``F.unfold`` or ``Tensor.unfold`` and combining them with a matrix product (or
``einsum``) is allowed, and so are plain Python loops. Comparing your results with
``F.conv2d`` under ``if __name__ == "__main__":`` is fine and encouraged: run
``python3 conv2d.py``.
"""

import torch
import torch.nn.functional as F


def conv2d(x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Convolve a single-channel image with a single kernel, without bias.

    Args:
        x: input of shape ``(H, W)``.
        k: kernel of shape ``(kh, kw)``; it need not be square.
        stride: step between neighbouring kernel positions, in both directions.
        padding: number of zero rows and columns added on each side of ``x``.

    Returns:
        The output of shape ``(H_out, W_out)`` with
        ``H_out = (H + 2 * padding - kh) // stride + 1`` and
        ``W_out = (W + 2 * padding - kw) // stride + 1``, same dtype as ``x``;
        equal to ``F.conv2d(x[None, None], k[None, None], stride=stride,
        padding=padding)[0, 0]``.
    """
    # TODO: pad x with zeros, then slide k over it with the given stride.
    raise NotImplementedError("conv2d: fill in the TODO in conv2d.py")


def conv2d_layer(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    """Apply a convolutional layer to a batch of multi-channel images.

    Output channel ``o`` is the sum over all input channels ``c`` of the single-channel
    convolution of ``x[:, c]`` with ``weight[o, c]``, plus ``bias[o]``.

    Args:
        x: input of shape ``(B, C_in, H, W)``.
        weight: kernels of shape ``(C_out, C_in, kh, kw)``.
        bias: ``None`` (no bias) or a tensor of shape ``(C_out,)``.
        stride: step between neighbouring kernel positions, in both directions.
        padding: number of zero rows and columns added on each side of every image.

    Returns:
        The output of shape ``(B, C_out, H_out, W_out)`` (sizes as in ``conv2d``), same
        dtype as ``x``; equal to ``F.conv2d(x, weight, bias, stride=stride,
        padding=padding)``.
    """
    # TODO: the same idea as conv2d, for every image, output channel and input channel.
    raise NotImplementedError("conv2d_layer: fill in the TODO in conv2d.py")


if __name__ == "__main__":
    X = torch.tensor(
        [[1.0, 0.0, 1.0, -1.0], [1.0, 0.0, 1.0, 0.0], [0.0, 3.0, 0.0, 1.0], [1.0, -1.0, 0.0, 1.0]]
    )
    K = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    try:
        for part, stride, padding in [("a", 1, 0), ("b", 2, 0), ("c", 2, 1)]:
            yours = conv2d(X, K, stride=stride, padding=padding)
            torchs = F.conv2d(X[None, None], K[None, None], stride=stride, padding=padding)[0, 0]
            print(f"({part}) stride {stride}, padding {padding}:")
            print("  yours:", yours.tolist())
            print("  torch:", torchs.tolist())
    except NotImplementedError:
        print("conv2d is not implemented yet: fill in the TODO in conv2d.py.")

    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 6)
    weight = torch.randn(4, 3, 3, 2)
    bias = torch.randn(4)
    try:
        yours = conv2d_layer(x, weight, bias, stride=2, padding=1)
    except NotImplementedError:
        print("conv2d_layer is not implemented yet: fill in the TODO in conv2d.py.")
    else:
        expected = F.conv2d(x, weight, bias, stride=2, padding=1)
        print("conv2d_layer on a random batch (stride 2, padding 1):")
        print("  shape", tuple(yours.shape), "expected", tuple(expected.shape))
        if yours.shape == expected.shape:
            print("  max abs difference to F.conv2d:", (yours - expected).abs().max().item())
