"""Provided for Exercise 7 - Iterating max pooling. You do not need to edit this file.

``run_experiment()`` loads ``sample_image.png`` with your ``load_image_as_tensor``, applies
your ``maxpool_iter`` and ``gaussian_blur_iter`` for several iteration counts and draws the
results in a 2x5 grid: max pooling in the first row, Gaussian blur in the second. Call it
from the ``__main__`` block of ``iter_maxpool.py`` and show the figure with ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def _find(path: str | Path) -> Path:
    """``path`` itself, or else the file of that name next to this helper.

    So that ``run_experiment()`` finds the image shipped beside it even when Python is
    started from another folder.
    """
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    beside = Path(__file__).resolve().parent / path
    return beside if beside.exists() else path


def run_experiment(
    path: str | Path = "sample_image.png",
    iters: Sequence[int] = (1, 2, 4, 8, 16),
    k: int = 3,
    blur_k: int = 5,
    sigma: float = 1.0,
    functions: Any = None,
) -> Figure:
    """Draw iterated max pooling (row 1) and iterated Gaussian blur (row 2) of an image.

    Args:
        path: the grayscale image to load.
        iters: the iteration counts, one column each.
        k: the max pooling kernel size.
        blur_k: the Gaussian kernel size.
        sigma: the Gaussian's standard deviation.
        functions: a module (or any object) providing ``load_image_as_tensor``,
            ``maxpool_iter``, ``gaussian_blur_iter`` and ``tensor_to_numpy_image``;
            ``None`` uses the ones in ``iter_maxpool.py``.

    Returns:
        The matplotlib figure; it is not shown here, call ``plt.show()`` to see it.
    """
    if functions is None:
        import iter_maxpool as functions  # imported here: iter_maxpool imports this helper

    x = functions.load_image_as_tensor(_find(path))
    fig, axes = plt.subplots(2, len(iters), figsize=(3 * len(iters), 6.4), squeeze=False)
    for col, n in enumerate(iters):
        rows = [
            (f"maxpool x{n}", functions.maxpool_iter(x, k=k, iters=n)),
            (f"gauss x{n}", functions.gaussian_blur_iter(x, k=blur_k, sigma=sigma, iters=n)),
        ]
        for row, (title, result) in enumerate(rows):
            ax = axes[row, col]
            # A fixed gray scale for every panel: with per-panel scaling the blur's loss of
            # contrast would be stretched away and the two rows could not be compared.
            ax.imshow(functions.tensor_to_numpy_image(result), cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_title(title)
            ax.axis("off")
    fig.suptitle(
        f"Iterated max pooling (k={k}, stride 1) vs. iterated Gaussian blur "
        f"(k={blur_k}, sigma={sigma:g})"
    )
    fig.tight_layout()
    return fig
