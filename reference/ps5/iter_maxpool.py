"""Reference solution, Exercise 7 - Iterating max pooling.

Max pooling with stride 1 and padding k//2 replaces every pixel by the maximum of its k x k
neighbourhood and keeps the image size; after n iterations a pixel is the maximum over a
(n(k-1) + 1)-wide square of the original (a grayscale dilation). Fine textures and dark
details narrower than that square vanish and bright regions grow: a non-linear low-pass
filter (max(a + b) != max(a) + max(b)). The Gaussian blur is linear: it averages bright
and dark alike, so edges soften symmetrically and bright spots fade instead of growing.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def maxpool_iter(x: torch.Tensor, k: int = 3, iters: int = 1) -> torch.Tensor:
    """Apply stride-1 ``k x k`` max pooling with padding ``k // 2`` ``iters`` times.

    ``x`` has shape ``(B, C, H, W)``; for odd k the result has the same shape.
    """
    out = x
    for _ in range(iters):
        # max_pool2d pads with -inf, so the border never takes a padded value.
        out = F.max_pool2d(out, kernel_size=k, stride=1, padding=k // 2)
    return out


def gauss_kernel_2d(k: int, sigma: float) -> torch.Tensor:
    """Return the ``(k, k)`` Gaussian kernel with standard deviation ``sigma``, summing to 1."""
    # Offsets from the kernel's centre, so the peak sits in the middle entry (odd k).
    r = torch.arange(k, dtype=torch.float32) - (k - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    # The 2-D Gaussian is separable: exp(-(u^2 + v^2) / 2s^2) = g(u) g(v).
    kernel = torch.outer(g, g)
    return kernel / kernel.sum()


def gaussian_blur_iter(
    x: torch.Tensor, k: int = 5, sigma: float = 1.0, iters: int = 1
) -> torch.Tensor:
    """Blur every channel of ``x`` (``(B, C, H, W)``) ``iters`` times with a Gaussian kernel.

    Zero padding ``k // 2`` keeps the size for odd k; each channel is blurred on its own.
    """
    channels = x.shape[1]
    # One copy of the kernel per channel and groups=C: channel c is convolved only with
    # its own copy, so channels are never mixed.
    weight = gauss_kernel_2d(k, sigma).to(x.dtype).expand(channels, 1, k, k)
    out = x
    for _ in range(iters):
        out = F.conv2d(out, weight, padding=k // 2, groups=channels)
    return out


def load_image_as_tensor(path: str | Path) -> torch.Tensor:
    """Load an image as grayscale, ``(1, 1, H, W)`` float32 with values in [0, 1]."""
    img = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0
    return torch.from_numpy(img)[None, None]


def tensor_to_numpy_image(t: torch.Tensor) -> np.ndarray:
    """Return the single image of a ``(1, 1, H, W)`` tensor as an ``(H, W)`` numpy array."""
    return t.detach().cpu()[0, 0].numpy()


if __name__ == "__main__":
    import sys

    import matplotlib.pyplot as plt

    # The helper and the image ship with the skeletons, not with the reference.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "student_templates" / "ps5"))
    from helper_maxpool import run_experiment

    run_experiment(functions=sys.modules[__name__])
    plt.show()
