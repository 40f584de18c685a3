"""Provided for Exercise 8 - Gradients in input space. You do not need to edit this file.

``make_toy_dataset`` generates the two-class problem in R^2 that you train on;
``plot_data_boundary_and_gradients`` draws the data, the class-1 probability with the
decision boundary p = 0.5, and the gradient field of that probability.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure


def make_toy_dataset(
    n: int = 400, seed: int = 0, noise: float = 0.2
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return two interleaving half-moons with a little noise ("two moons").

    Class 0 is the upper moon, class 1 the lower one, which reaches into the upper moon's
    hollow: no straight line separates them, but a small MLP separates almost all of
    them. The points are shuffled, and the same ``seed`` always gives the same data.

    Args:
        n: the number of points; ``n // 2`` of class 0 and the rest of class 1.
        seed: the seed of the ``torch.Generator`` all randomness is drawn from.
        noise: the standard deviation of the Gaussian noise added to every coordinate; at
            0.2 a few points of each class lie among the other class's points.

    Returns:
        ``X`` of shape ``(n, 2)``, float32: the points ``x^(i) = (x_1^(i), x_2^(i))``, one
        per row, at the default noise roughly inside ``[-1.5, 2.5] x [-1.2, 1.7]``; and
        ``y`` of shape ``(n,)``, int64: the labels, 0 or 1.
    """
    generator = torch.Generator().manual_seed(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = torch.rand(n0, generator=generator) * math.pi
    t1 = torch.rand(n1, generator=generator) * math.pi
    upper = torch.stack([torch.cos(t0), torch.sin(t0)], dim=1)
    lower = torch.stack([1.0 - torch.cos(t1), 0.5 - torch.sin(t1)], dim=1)
    X = torch.cat([upper, lower]) + noise * torch.randn(n, 2, generator=generator)
    y = torch.cat([torch.zeros(n0, dtype=torch.int64), torch.ones(n1, dtype=torch.int64)])
    order = torch.randperm(n, generator=generator)
    return X[order].to(torch.float32), y[order]


def _numpy(a: Any) -> np.ndarray:
    """A tensor (with or without grad) or an array, as a numpy array."""
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def plot_data_boundary_and_gradients(
    X: Any,
    y: Any,
    XX: Any,
    YY: Any,
    P: Any,
    GX: Any,
    GY: Any,
    title: str | None = None,
) -> Figure:
    """Draw the data, p(y = 1 | x) on the grid with its 0.5 contour, and the gradient field.

    Args:
        X, y: the dataset, ``(N, 2)`` points and ``(N,)`` labels.
        XX, YY: the grid coordinates, ``(steps, steps)`` each (either meshgrid indexing).
        P: ``p(y = 1 | x)`` at the grid points, ``(steps, steps)``, aligned with XX and YY.
        GX, GY: the partial derivatives of P with respect to x_1 and x_2 there.
        title: the figure title; a default one when ``None``.

    Tensors and numpy arrays are both accepted.

    Returns:
        The matplotlib figure; it is not shown here, call ``plt.show()`` to see it.
    """
    X, y, XX, YY, P, GX, GY = (_numpy(a) for a in (X, y, XX, YY, P, GX, GY))
    fig, ax = plt.subplots(figsize=(8, 6.5))
    filled = ax.contourf(XX, YY, P, levels=np.linspace(0.0, 1.0, 21), cmap="RdBu_r", alpha=0.8)
    fig.colorbar(filled, ax=ax, label="p(y = 1 | x)")
    ax.contour(XX, YY, P, levels=[0.5], colors="black", linewidths=2.5)

    # At most about 25 arrows per axis: a full-resolution field is an unreadable carpet.
    step = max(1, math.ceil(max(XX.shape) / 25))
    sub = (slice(None, None, step), slice(None, None, step))
    gx, gy = GX[sub], GY[sub]
    # Arrows in data units, the longest one about two arrow spacings long: the gradient
    # of a confident model is tiny almost everywhere and huge at the boundary, and
    # quiver's own autoscaling would let the boundary's arrows cross the whole plot.
    spacing = max(np.ptp(XX), np.ptp(YY)) / 25
    longest = float(np.hypot(gx, gy).max())
    ax.quiver(XX[sub], YY[sub], gx, gy, angles="xy", scale_units="xy",
              scale=longest / (2 * spacing) if longest > 0 else 1.0,
              color="black", alpha=0.7, width=0.003)

    for label, colour in ((0, "tab:blue"), (1, "tab:red")):
        points = X[y == label]
        ax.scatter(points[:, 0], points[:, 1], s=14, c=colour, edgecolors="white",
                   linewidths=0.5, label=f"class {label}")
    ax.set_xlim(XX.min(), XX.max())
    ax.set_ylim(YY.min(), YY.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    ax.set_title(title or "p(y = 1 | x), decision boundary p = 0.5 (black) and its gradient")
    fig.tight_layout()
    return fig
