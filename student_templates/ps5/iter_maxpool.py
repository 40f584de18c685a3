"""Exercise 7 - Iterating max pooling.

From the exercise sheet:

    In this exercise we study what happens if we repeatedly apply max pooling *without*
    downsampling. You will compare this to iterated Gaussian blurring. We work with a
    sample image ``sample_image.png`` represented as a tensor of shape [1, 1, H, W]
    (batch size 1, one channel). A skeleton Python file ``iter_maxpool.py`` is provided.
    You only need to fill in the parts marked ``# TODO``. In ``helper_maxpool.py``, you can
    find functions that are provided to you and do not need to be edited by you.

    1. Implement a function ``maxpool_iter(x, k=3, iters=1)`` in PyTorch that
       - takes an input tensor ``x`` of shape [B, C, H, W],
       - applies 2D max pooling with kernel size k, stride 1 and padding k/2 (use
         ``torch.nn.functional.max_pool2d``) (note that because stride is 1, this
         operation simply replaces each pixel by the maximum value in its k x k
         neighbourhood, but it does not downsample the image),
       - repeats this operation ``iters`` times,
       - and returns a tensor of the same shape as ``x``.
    2. Implement a small 2D Gaussian blur and an iterator
       ``gaussian_blur_iter(x, k=5, sigma=1.0, iters=1)``:
       - First write a helper ``gauss_kernel_2d(k, sigma)`` that builds a k x k Gaussian
         kernel with standard deviation ``sigma`` and normalises it so that the entries
         sum to 1. More details can be found in the skeleton code.
       - Then implement ``gaussian_blur_iter`` that applies this kernel ``iters`` times
         using ``torch.nn.functional.conv2d`` with appropriate padding. More details can
         be found in the skeleton code.
    3. Load a grayscale image from disk, normalise it to [0, 1], convert it to a tensor of
       shape [1, 1, H, W] in ``load_image_as_tensor()``.
    4. In ``tensor_to_numpy_image()``, convert a tensor of shape [1, 1, H, W] to a 2D numpy
       image of shape [H, W].
    5. We provided a ``run_experiment()`` function that you can find in
       ``helper_maxpool.py``. It plots the results in a 2x5 grid: the first row shows max
       pooling for different iteration counts, and the second row shows Gaussian blur for
       the same iteration counts. Run the ``main`` block and inspect the results. Briefly
       answer:
       - What happens to fine details and textures as you increase the number of max
         pooling iterations?
       - What kind of filter does this correspond to?
       - How does the result differ from iterated Gaussian blur (for example at edges and
         in bright regions)?
       - Are both filters linear?

Write your answers to the four questions in ``answers.yaml`` (keys ``ex7_fine_details``,
``ex7_filter_kind``, ``ex7_vs_gaussian``, ``ex7_linearity``); they are read by your tutor.
Run ``python3 iter_maxpool.py`` to see the 2x5 grid. The kernel sizes are odd (3, 5, ...),
so padding ``k // 2`` keeps the image size.
"""

from pathlib import Path

import numpy as np
import torch


def maxpool_iter(x: torch.Tensor, k: int = 3, iters: int = 1) -> torch.Tensor:
    """Apply ``k x k`` max pooling with stride 1 and padding ``k // 2``, ``iters`` times.

    Args:
        x: input of shape ``(B, C, H, W)``.
        k: the (odd) kernel size.
        iters: how many times to apply the pooling; each iteration pools the result of the
            previous one. ``iters=0`` returns ``x`` unchanged.

    Returns:
        A tensor of the same shape as ``x``: every pixel replaced ``iters`` times by the
        maximum of its ``k x k`` neighbourhood (use ``F.max_pool2d``; mind its default
        stride).
    """
    # TODO: F.max_pool2d with kernel size k, stride 1 and padding k // 2, repeated iters times.
    raise NotImplementedError("maxpool_iter: fill in the TODO in iter_maxpool.py")


def gauss_kernel_2d(k: int, sigma: float) -> torch.Tensor:
    """Build a ``k x k`` Gaussian kernel with standard deviation ``sigma``.

    Entry ``(i, j)`` is proportional to ``exp(-(u_i^2 + v_j^2) / (2 sigma^2))``, where
    ``u_i`` and ``v_j`` are the row and column offsets from the kernel's centre (for k = 5:
    -2, -1, 0, 1, 2). The kernel is then normalised so that its entries sum to 1, so that
    blurring a constant image leaves it unchanged (away from the border).

    Args:
        k: the (odd) kernel size.
        sigma: the standard deviation, in pixels.

    Returns:
        A float32 tensor of shape ``(k, k)``: symmetric, largest in the centre, summing to 1.
    """
    # TODO: the offsets from the centre, the Gaussian of their squared distance, normalised.
    raise NotImplementedError("gauss_kernel_2d: fill in the TODO in iter_maxpool.py")


def gaussian_blur_iter(
    x: torch.Tensor, k: int = 5, sigma: float = 1.0, iters: int = 1
) -> torch.Tensor:
    """Blur ``x`` with the ``gauss_kernel_2d(k, sigma)`` kernel, ``iters`` times.

    Use ``F.conv2d`` with zero padding ``k // 2`` so that the image keeps its size. Every
    channel is blurred on its own, with the same kernel: a ``(B, C, H, W)`` input needs a
    weight of shape ``(C, 1, k, k)`` (one copy of the kernel per channel) and
    ``groups=C``. A weight of shape ``(C, C, k, k)`` without groups would add up the
    blurred channels instead.

    Args:
        x: input of shape ``(B, C, H, W)``.
        k: the (odd) kernel size.
        sigma: the Gaussian's standard deviation.
        iters: how many times to blur; each iteration blurs the result of the previous one.

    Returns:
        A tensor of the same shape and dtype as ``x``.
    """
    # TODO: build the kernel, shape it into a conv2d weight, apply F.conv2d iters times.
    raise NotImplementedError("gaussian_blur_iter: fill in the TODO in iter_maxpool.py")


def load_image_as_tensor(path: str | Path) -> torch.Tensor:
    """Load the image at ``path`` as a grayscale tensor.

    Open it with PIL and convert it to grayscale with ``.convert("L")`` (8-bit values
    0..255), then make it a float32 tensor with values in [0, 1].

    Args:
        path: the image file, for example ``"sample_image.png"``.

    Returns:
        A float32 tensor of shape ``(1, 1, H, W)`` with values in [0, 1].
    """
    # TODO: PIL's Image.open(...).convert("L"), to float32 in [0, 1], shape (1, 1, H, W).
    raise NotImplementedError("load_image_as_tensor: fill in the TODO in iter_maxpool.py")


def tensor_to_numpy_image(t: torch.Tensor) -> np.ndarray:
    """Convert a ``(1, 1, H, W)`` tensor to a 2-D numpy image of shape ``(H, W)``.

    The tensor may require grad; matplotlib's ``imshow`` needs a plain numpy array.
    """
    # TODO: take the single image out of the batch and channel dimensions, as numpy.
    raise NotImplementedError("tensor_to_numpy_image: fill in the TODO in iter_maxpool.py")


if __name__ == "__main__":
    import matplotlib.pyplot as plt
    from helper_maxpool import run_experiment

    try:
        run_experiment()
    except NotImplementedError as error:
        print(f"Not finished yet ({error}); run_experiment() needs all five functions.")
    else:
        plt.show()
