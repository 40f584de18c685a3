"""Reference solution, Exercise 8 - Gradients in input space.

(a) grad_x p(y = 1 | x) is largest near the decision boundary, where p changes quickly
from about 0 to about 1; far from it p is flat and the gradient small. (b) Where the
model is confident, p is close to 0 or 1 and the softmax saturates: dp/ds = p (1 - p) is
close to 0, so the gradients are small. (c) A small step along the gradient increases
p(y = 1 | x), the gradient being the direction of steepest ascent: the arrows near the
boundary point from the class-0 side to the class-1 side.

The grid uses ``indexing="xy"``: ``XX[i, j] = xs[j]`` and ``YY[i, j] = ys[i]``, so row i
of every array is one horizontal line of the plane, the layout of an image and of
``plt.contourf``.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class MLP2d(nn.Module):
    """A small MLP mapping points of R^2 to two class scores (s_0, s_1)."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the scores, ``(N, 2)``, for the points ``x``, ``(N, 2)``."""
        return self.net(x)


def train_classifier(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 200,
    lr: float = 1e-2,
    batch_size: int = 64,
    seed: int = 0,
) -> tuple[nn.Module, float]:
    """Train ``model`` with Adam and cross-entropy; return it and its training accuracy.

    ``seed`` fixes the order of the mini-batches; the accuracy is over all of X, after
    training, as a Python float in [0, 1].
    """
    # A private generator: reproducible shuffling without touching the global RNG.
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        TensorDataset(X, y), batch_size=batch_size, shuffle=True, generator=generator
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    # Tensors this small gain nothing from several threads, and waking them for each of
    # the ~1400 steps costs a lot: on a busy 2-core machine 40 s instead of 2 s.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model.train()
        for _ in range(epochs):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    with torch.no_grad():
        accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
    return model, accuracy


def _grid(
    xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``(steps, steps)`` coordinates XX, YY and the ``(steps * steps, 2)`` points."""
    xs = torch.linspace(xmin, xmax, steps)
    ys = torch.linspace(ymin, ymax, steps)
    XX, YY = torch.meshgrid(xs, ys, indexing="xy")
    # Row k of grid is the point (XX, YY) at flat index k, so reshaping anything computed
    # per point back to (steps, steps) lines it up with XX and YY.
    grid = torch.stack([XX.reshape(-1), YY.reshape(-1)], dim=1)
    return XX, YY, grid


def evaluate_on_grid(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return ``XX, YY, P``, each ``(steps, steps)``, with ``P = p(y = 1 | (XX, YY))``."""
    XX, YY, grid = _grid(xmin, xmax, ymin, ymax, steps)
    with torch.no_grad():
        logits = model(grid)
        probs = torch.softmax(logits, dim=1)  # over the classes, not over the points
        p1 = probs[:, 1]
    return XX, YY, p1.reshape(steps, steps)


def compute_input_gradients(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return ``XX, YY, GX, GY``, each ``(steps, steps)``: the grid and the partial
    derivatives of ``p(y = 1 | x)`` with respect to x_1 (GX) and x_2 (GY) on it."""
    XX, YY, grid = _grid(xmin, xmax, ymin, ymax, steps)
    grid.requires_grad_(True)
    p1 = torch.softmax(model(grid), dim=1)[:, 1]
    model.zero_grad()
    # p1[k] depends on grid[k] only, so the gradient of the sum holds, in row k, the
    # gradient of p1[k] with respect to its own point.
    p1.sum().backward()
    grads = grid.grad
    return XX, YY, grads[:, 0].reshape(steps, steps), grads[:, 1].reshape(steps, steps)


if __name__ == "__main__":
    import sys
    import time
    from pathlib import Path

    import matplotlib.pyplot as plt

    # The helper ships with the skeletons, not with the reference.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "student_templates" / "ps5"))
    from helper import make_toy_dataset, plot_data_boundary_and_gradients

    X, y = make_toy_dataset(n=400, seed=0)
    torch.manual_seed(0)
    start = time.perf_counter()
    model, accuracy = train_classifier(MLP2d(), X, y)
    print(f"training accuracy {accuracy:.3f} in {time.perf_counter() - start:.1f} s")
    bounds = (-1.5, 2.5, -1.0, 1.5)
    XX, YY, P = evaluate_on_grid(model, *bounds, steps=200)
    _, _, GX, GY = compute_input_gradients(model, *bounds, steps=200)
    plot_data_boundary_and_gradients(X, y, XX, YY, P, GX, GY)
    plt.show()
