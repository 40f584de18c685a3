"""Catalogued mistakes for Exercise 3 (``conv2d``): ``conv2d`` and ``conv2d_layer``.

The single-channel variants are written with loops over the output positions, the way
students usually write them; the layer variants use ``Tensor.unfold`` and ``einsum``.
Most of them agree with the reference on special inputs only (a symmetric kernel,
padding 0, stride 1, one input channel, no bias), so the checks need non-square
kernels, padding >= 1, stride 2, C_in >= 2 and a bias. With stride 1 and padding 1,
``padding_one_side`` and ``output_size_without_plus_one`` give the same output; stride 2
tells them apart. ``pad_width_only`` is ``F.pad(x, (p, p))``: a pad of two numbers pads the
last dimension only, so the rows get no zeros.
"""

import torch
import torch.nn.functional as F

from grader.catalogue import Mistake


def _correlate(
    padded: torch.Tensor, k: torch.Tensor, stride: int, h_out: int, w_out: int
) -> torch.Tensor:
    """Cross-correlate a padded (H, W) image with k at an h_out x w_out grid of positions."""
    kh, kw = k.shape
    out = torch.zeros(h_out, w_out, dtype=padded.dtype)
    for i in range(h_out):
        for j in range(w_out):
            patch = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = (patch * k).sum()
    return out


def _output_size(n: int, kernel: int, stride: int, padding: int) -> int:
    return (n + 2 * padding - kernel) // stride + 1


def _flipped_kernel(
    x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    # The textbook convolution: the kernel is rotated by 180 degrees first.
    padded = F.pad(x, (padding, padding, padding, padding))
    h_out = _output_size(x.shape[0], k.shape[0], stride, padding)
    w_out = _output_size(x.shape[1], k.shape[1], stride, padding)
    return _correlate(padded, k.flip(0, 1), stride, h_out, w_out)


def _padding_one_side(
    x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    # Zeros only above and to the left of the image.
    H, W = x.shape
    kh, kw = k.shape
    padded = torch.zeros(H + padding, W + padding, dtype=x.dtype)
    padded[padding:, padding:] = x
    h_out = (H + padding - kh) // stride + 1
    w_out = (W + padding - kw) // stride + 1
    return _correlate(padded, k, stride, h_out, w_out)


def _output_size_without_plus_one(
    x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    padded = F.pad(x, (padding, padding, padding, padding))
    h_out = (x.shape[0] + 2 * padding - k.shape[0]) // stride
    w_out = (x.shape[1] + 2 * padding - k.shape[1]) // stride
    return _correlate(padded, k, stride, h_out, w_out)


def _stride_ignored(
    x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    padded = F.pad(x, (padding, padding, padding, padding))
    h_out = _output_size(x.shape[0], k.shape[0], 1, padding)
    w_out = _output_size(x.shape[1], k.shape[1], 1, padding)
    return _correlate(padded, k, 1, h_out, w_out)


def _stride_only_in_output_size(
    x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    # The right output size, but the patches still start at (i, j) instead of
    # (i * stride, j * stride).
    padded = F.pad(x, (padding, padding, padding, padding))
    h_out = _output_size(x.shape[0], k.shape[0], stride, padding)
    w_out = _output_size(x.shape[1], k.shape[1], stride, padding)
    kh, kw = k.shape
    out = torch.zeros(h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = (padded[i : i + kh, j : j + kw] * k).sum()
    return out


def _pad_width_only(
    x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    # F.pad's pairs run from the last dimension backwards: (p, p) pads the columns only.
    padded = F.pad(x, (padding, padding))
    h_out = (padded.shape[0] - k.shape[0]) // stride + 1
    w_out = (padded.shape[1] - k.shape[1]) // stride + 1
    return _correlate(padded, k, stride, h_out, w_out)


def _layer(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int, padding: int
) -> torch.Tensor:
    """A correct convolutional layer (unfold + einsum), for the variants to build on."""
    kh, kw = weight.shape[-2:]
    padded = F.pad(x, (padding, padding, padding, padding))
    patches = padded.unfold(2, kh, stride).unfold(3, kw, stride)
    out = torch.einsum("bchwij,ocij->bohw", patches, weight)
    if bias is not None:
        out = out + bias[:, None, None]
    return out


def _layer_pad_width_only(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    kh, kw = weight.shape[-2:]
    padded = F.pad(x, (padding, padding))  # the columns only, as in conv2d's pad_width_only
    patches = padded.unfold(2, kh, stride).unfold(3, kw, stride)
    out = torch.einsum("bchwij,ocij->bohw", patches, weight)
    return out if bias is None else out + bias[:, None, None]


def _layer_bias_omitted(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    return _layer(x, weight, None, stride, padding)


def _layer_first_input_channel_only(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    # Written for the single-channel case and never summed over the input channels.
    return _layer(x[:, :1], weight[:, :1], bias, stride, padding)


def _layer_flipped_kernel(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    return _layer(x, weight.flip(-2, -1), bias, stride, padding)


def _layer_bias_per_input_channel(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    # The bias added inside the loop over input channels, so C_in times.
    out = _layer(x, weight, None, stride, padding)
    if bias is not None:
        out = out + x.shape[1] * bias[:, None, None]
    return out


MISTAKES: list[Mistake] = [
    Mistake(
        id="flipped_kernel",
        function="conv2d",
        hint=(
            "Your output matches a convolution with the kernel rotated by 180 degrees (the "
            "textbook definition); deep-learning 'convolution' is a cross-correlation: lay k "
            "over the patch as it is, k[0, 0] on the patch's top-left entry."
        ),
        impl=_flipped_kernel,
    ),
    Mistake(
        id="padding_one_side",
        function="conv2d",
        hint=(
            "Your output matches padding added only above and to the left of the image; "
            "padding p adds p rows of zeros at the top and at the bottom and p columns on the "
            "left and on the right."
        ),
        impl=_padding_one_side,
        about="the padding",
    ),
    Mistake(
        id="pad_width_only",
        function="conv2d",
        hint=(
            "Your output has no padding above and below the image: F.pad(x, (p, p)) pads only "
            "the last dimension (the columns), because its pairs run from the last dimension "
            "backwards. Pad the rows too: F.pad(x, (p, p, p, p))."
        ),
        impl=_pad_width_only,
        about="the padding",
    ),
    Mistake(
        id="output_size_without_plus_one",
        function="conv2d",
        hint=(
            "Your output is missing its last row and column: the number of kernel positions "
            "along an axis is (H + 2p - kh) // stride + 1, because the first position counts too."
        ),
        impl=_output_size_without_plus_one,
    ),
    Mistake(
        id="stride_ignored",
        function="conv2d",
        hint=(
            "Your output is the one for stride 1 whatever the stride: with stride s the kernel "
            "moves s pixels between neighbouring positions, so fewer positions fit."
        ),
        impl=_stride_ignored,
        about="the stride",
    ),
    Mistake(
        id="stride_only_in_output_size",
        function="conv2d",
        hint=(
            "Your output has the right shape, but its patches still move one pixel at a time: "
            "output position (i, j) starts at row i * stride and column j * stride of the "
            "padded input."
        ),
        impl=_stride_only_in_output_size,
        about="the stride",
    ),
    Mistake(
        id="layer_pad_width_only",
        function="conv2d_layer",
        hint=(
            "Your output has no padding above and below the image: F.pad(x, (p, p)) pads only "
            "the last dimension (the columns), because its pairs run from the last dimension "
            "backwards. Pad the rows too: F.pad(x, (p, p, p, p))."
        ),
        impl=_layer_pad_width_only,
        about="the padding",
    ),
    Mistake(
        id="layer_bias_omitted",
        function="conv2d_layer",
        hint=(
            "The bias is missing from your output: when a bias is given, add bias[o] to every "
            "entry of output channel o."
        ),
        impl=_layer_bias_omitted,
    ),
    Mistake(
        id="layer_first_input_channel_only",
        function="conv2d_layer",
        hint=(
            "Your output uses only the first input channel: output channel o is the sum over "
            "all input channels c of x[:, c] convolved with weight[o, c]."
        ),
        impl=_layer_first_input_channel_only,
    ),
    Mistake(
        id="layer_flipped_kernel",
        function="conv2d_layer",
        hint=(
            "Your output matches a convolution with every kernel rotated by 180 degrees; "
            "F.conv2d computes a cross-correlation, with the kernels used as they are."
        ),
        impl=_layer_flipped_kernel,
    ),
    Mistake(
        id="layer_bias_per_input_channel",
        function="conv2d_layer",
        hint=(
            "Your bias is added once per input channel; it belongs to the output channel and "
            "is added once, after summing over the input channels."
        ),
        impl=_layer_bias_per_input_channel,
    ),
]
