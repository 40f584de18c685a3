"""Catalogued mistakes for Exercise 7 (``iter_maxpool``): ``maxpool_iter``,
``gauss_kernel_2d``, ``gaussian_blur_iter`` and ``load_image_as_tensor``.

What the checks need to tell them apart from the reference: ``iters >= 2``
(``maxpool_pools_input_each_time``, ``blur_blurs_input_each_time`` equal one iteration);
``k >= 3`` (with k = 1 no padding and stride k are both harmless); more than one channel
(``blur_channels_mixed``); any sigma but 0.5 for ``wrong_exponent`` (exp(-r^2 / sigma)
equals exp(-r^2 / (2 sigma^2)) there); an image file with values other than 0 and 255 is
enough for ``image_not_scaled``, which reads the file with PIL as the sheet asks.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from grader.catalogue import Mistake


def _maxpool_no_padding(x: torch.Tensor, k: int = 3, iters: int = 1) -> torch.Tensor:
    # Without padding every pooling loses k - 1 rows and columns.
    for _ in range(iters):
        x = F.max_pool2d(x, kernel_size=k, stride=1)
    return x


def _maxpool_default_stride(x: torch.Tensor, k: int = 3, iters: int = 1) -> torch.Tensor:
    # F.max_pool2d's stride defaults to the kernel size: each pooling downsamples by k.
    for _ in range(iters):
        x = F.max_pool2d(x, kernel_size=k, padding=k // 2)
    return x


def _maxpool_pools_input_each_time(x: torch.Tensor, k: int = 3, iters: int = 1) -> torch.Tensor:
    out = x
    for _ in range(iters):
        out = F.max_pool2d(x, kernel_size=k, stride=1, padding=k // 2)
    return out


def _offsets(k: int) -> torch.Tensor:
    """The offsets of a kernel's entries from its centre, float32."""
    return torch.arange(k, dtype=torch.float32) - (k - 1) / 2


def _kernel_not_normalised(k: int, sigma: float) -> torch.Tensor:
    g = torch.exp(-(_offsets(k) ** 2) / (2 * sigma**2))
    return torch.outer(g, g)


def _wrong_exponent(k: int, sigma: float) -> torch.Tensor:
    g = torch.exp(-(_offsets(k) ** 2) / sigma)
    kernel = torch.outer(g, g)
    return kernel / kernel.sum()


def _kernel_not_centred(k: int, sigma: float) -> torch.Tensor:
    # Offsets 0, 1, ..., k-1 measured from the corner: the peak sits at [0, 0].
    r = torch.arange(k, dtype=torch.float32)
    g = torch.exp(-(r**2) / (2 * sigma**2))
    kernel = torch.outer(g, g)
    return kernel / kernel.sum()


def _gauss(k: int, sigma: float) -> torch.Tensor:
    """The correct normalised kernel, for the blur variants."""
    g = torch.exp(-(_offsets(k) ** 2) / (2 * sigma**2))
    kernel = torch.outer(g, g)
    return kernel / kernel.sum()


def _blur_channels_mixed(
    x: torch.Tensor, k: int = 5, sigma: float = 1.0, iters: int = 1
) -> torch.Tensor:
    # A (C, C, k, k) weight without groups: every output channel is the sum of all the
    # input channels, each blurred.
    channels = x.shape[1]
    weight = _gauss(k, sigma).to(x.dtype).expand(channels, channels, k, k)
    for _ in range(iters):
        x = F.conv2d(x, weight, padding=k // 2)
    return x


def _blur_no_padding(
    x: torch.Tensor, k: int = 5, sigma: float = 1.0, iters: int = 1
) -> torch.Tensor:
    channels = x.shape[1]
    weight = _gauss(k, sigma).to(x.dtype).expand(channels, 1, k, k)
    for _ in range(iters):
        x = F.conv2d(x, weight, groups=channels)
    return x


def _blur_blurs_input_each_time(
    x: torch.Tensor, k: int = 5, sigma: float = 1.0, iters: int = 1
) -> torch.Tensor:
    channels = x.shape[1]
    weight = _gauss(k, sigma).to(x.dtype).expand(channels, 1, k, k)
    out = x
    for _ in range(iters):
        out = F.conv2d(x, weight, padding=k // 2, groups=channels)
    return out


def _image_not_scaled(path: str | Path) -> torch.Tensor:
    # Grayscale values 0..255 as floats, never divided by 255.
    with Image.open(path) as image:
        gray = np.asarray(image.convert("L"), dtype=np.float32)
    return torch.from_numpy(gray)[None, None]


MISTAKES: list[Mistake] = [
    Mistake(
        id="maxpool_no_padding",
        function="maxpool_iter",
        hint=(
            "Your output shrinks by k - 1 pixels in each direction per iteration: pass "
            "padding=k // 2 to F.max_pool2d so that the image keeps its size."
        ),
        impl=_maxpool_no_padding,
    ),
    Mistake(
        id="maxpool_default_stride",
        function="maxpool_iter",
        hint=(
            "Your output is downsampled: F.max_pool2d's stride defaults to the kernel size. "
            "Pass stride=1 so that every pixel becomes the maximum of its own neighbourhood."
        ),
        impl=_maxpool_default_stride,
    ),
    Mistake(
        id="maxpool_pools_input_each_time",
        function="maxpool_iter",
        hint=(
            "Your result is the same for every iters >= 1: each iteration pools the original "
            "x again. Pool the result of the previous iteration (out = F.max_pool2d(out, ...))."
        ),
        impl=_maxpool_pools_input_each_time,
    ),
    Mistake(
        id="kernel_not_normalised",
        function="gauss_kernel_2d",
        hint=(
            "Your kernel does not sum to 1, so blurring changes the image's overall "
            "brightness: divide the kernel by its sum."
        ),
        impl=_kernel_not_normalised,
    ),
    Mistake(
        id="wrong_exponent",
        function="gauss_kernel_2d",
        hint=(
            "Your kernel matches exp(-r^2 / sigma); a Gaussian with standard deviation sigma "
            "is exp(-r^2 / (2 sigma^2)), with r the distance from the centre."
        ),
        impl=_wrong_exponent,
    ),
    Mistake(
        id="kernel_not_centred",
        function="gauss_kernel_2d",
        hint=(
            "Your kernel peaks in its corner: measure the offsets from the centre, "
            "arange(k) - (k - 1) / 2 (for k = 5: -2, -1, 0, 1, 2), not from 0."
        ),
        impl=_kernel_not_centred,
    ),
    Mistake(
        id="blur_channels_mixed",
        function="gaussian_blur_iter",
        hint=(
            "Your output channels mix the input channels: a (C, C, k, k) weight sums the "
            "blurred channels. Use a (C, 1, k, k) weight with groups=C so that each channel "
            "is blurred on its own."
        ),
        impl=_blur_channels_mixed,
    ),
    Mistake(
        id="blur_no_padding",
        function="gaussian_blur_iter",
        hint=(
            "Your output shrinks by k - 1 pixels in each direction per iteration: pass "
            "padding=k // 2 to F.conv2d (zero padding) so that the image keeps its size."
        ),
        impl=_blur_no_padding,
    ),
    Mistake(
        id="blur_blurs_input_each_time",
        function="gaussian_blur_iter",
        hint=(
            "Your result is the same for every iters >= 1: each iteration blurs the original "
            "x again. Blur the result of the previous iteration."
        ),
        impl=_blur_blurs_input_each_time,
    ),
    Mistake(
        id="image_not_scaled",
        function="load_image_as_tensor",
        hint=(
            "Your values go up to 255: PIL's grayscale image holds 8-bit values 0..255; "
            "divide by 255 to get values in [0, 1]."
        ),
        impl=_image_not_scaled,
    ),
]
