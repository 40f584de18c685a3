"""Catalogued mistakes for Exercise 8 (``gradients2d``): ``train_classifier``,
``evaluate_on_grid`` and ``compute_input_gradients``.

What the checks need to tell them apart from the reference: a model whose scores are not
symmetric under swapping x_1 and x_2 (``grid_transposed``, ``gradients_transposed``;
any trained or random MLP2d will do) and a grid with more than one step; a model whose
score s_0 is not 0 (``sigmoid_of_score_1``); a model that is not saturated everywhere
(``gradient_of_logit``: the logit's gradient is not small where the model is confident).
The training variants differ in the accuracy they return (about chance, or over 1).
The grid variants use ``indexing="xy"`` like the reference, except the two transposed
ones, which are written the way they come about: an "ij" meshgrid, then a transpose
meant for plotting.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from grader.catalogue import Mistake


def _train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    step: bool,
) -> float:
    """The reference's training loop, with or without the optimizer step; the accuracy."""
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        TensorDataset(X, y), batch_size=batch_size, shuffle=True, generator=generator
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: see the reference
    try:
        for _ in range(epochs):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss_fn(model(xb), yb).backward()
                if step:
                    optimizer.step()
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def _train_no_optimizer_step(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 200,
    lr: float = 1e-2,
    batch_size: int = 64,
    seed: int = 0,
) -> tuple[nn.Module, float]:
    # Gradients are computed and thrown away: the weights never change.
    return model, _train(model, X, y, epochs, lr, batch_size, seed, step=False)


def _train_accuracy_in_percent(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 200,
    lr: float = 1e-2,
    batch_size: int = 64,
    seed: int = 0,
) -> tuple[nn.Module, float]:
    return model, 100.0 * _train(model, X, y, epochs, lr, batch_size, seed, step=True)


def _axes(
    xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.linspace(xmin, xmax, steps), torch.linspace(ymin, ymax, steps)


def _xy_grid(
    xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A correct "xy" grid: XX, YY and the (steps * steps, 2) points in their flat order."""
    XX, YY = torch.meshgrid(*_axes(xmin, xmax, ymin, ymax, steps), indexing="xy")
    return XX, YY, torch.stack([XX.reshape(-1), YY.reshape(-1)], dim=1)


def _grid_transposed(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # An "ij" meshgrid, then P transposed "for plotting", as if it had been "xy": P no
    # longer lines up with XX and YY.
    XX, YY = torch.meshgrid(*_axes(xmin, xmax, ymin, ymax, steps), indexing="ij")
    grid = torch.stack([XX.reshape(-1), YY.reshape(-1)], dim=1)
    with torch.no_grad():
        p1 = torch.softmax(model(grid), dim=1)[:, 1]
    return XX, YY, p1.reshape(steps, steps).T


def _probability_of_class_0(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    XX, YY, grid = _xy_grid(xmin, xmax, ymin, ymax, steps)
    with torch.no_grad():
        p0 = torch.softmax(model(grid), dim=1)[:, 0]
    return XX, YY, p0.reshape(steps, steps)


def _softmax_over_points(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    XX, YY, grid = _xy_grid(xmin, xmax, ymin, ymax, steps)
    with torch.no_grad():
        p1 = torch.softmax(model(grid), dim=0)[:, 1]
    return XX, YY, p1.reshape(steps, steps)


def _sigmoid_of_score_1(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # sigmoid(s_1) ignores s_0; the two-class softmax is sigmoid(s_1 - s_0).
    XX, YY, grid = _xy_grid(xmin, xmax, ymin, ymax, steps)
    with torch.no_grad():
        p1 = torch.sigmoid(model(grid)[:, 1])
    return XX, YY, p1.reshape(steps, steps)


def _gradient_of(
    model: nn.Module, grid: torch.Tensor, quantity: str
) -> torch.Tensor:
    """The (steps * steps, 2) gradient of p_1, p_0 or the score s_1 at every point."""
    grid = grid.clone().requires_grad_(True)
    scores = model(grid)
    if quantity == "p1":
        value = torch.softmax(scores, dim=1)[:, 1]
    elif quantity == "p0":
        value = torch.softmax(scores, dim=1)[:, 0]
    else:
        value = scores[:, 1]
    model.zero_grad()
    value.sum().backward()
    return grid.grad


def _gradient_of_logit(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    XX, YY, grid = _xy_grid(xmin, xmax, ymin, ymax, steps)
    grads = _gradient_of(model, grid, "s1")
    return XX, YY, grads[:, 0].reshape(steps, steps), grads[:, 1].reshape(steps, steps)


def _gradient_of_class_0(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    XX, YY, grid = _xy_grid(xmin, xmax, ymin, ymax, steps)
    grads = _gradient_of(model, grid, "p0")
    return XX, YY, grads[:, 0].reshape(steps, steps), grads[:, 1].reshape(steps, steps)


def _gradients_swapped(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    XX, YY, grid = _xy_grid(xmin, xmax, ymin, ymax, steps)
    grads = _gradient_of(model, grid, "p1")
    return XX, YY, grads[:, 1].reshape(steps, steps), grads[:, 0].reshape(steps, steps)


def _gradients_transposed(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    XX, YY = torch.meshgrid(*_axes(xmin, xmax, ymin, ymax, steps), indexing="ij")
    grads = _gradient_of(model, torch.stack([XX.reshape(-1), YY.reshape(-1)], dim=1), "p1")
    return XX, YY, grads[:, 0].reshape(steps, steps).T, grads[:, 1].reshape(steps, steps).T


MISTAKES: list[Mistake] = [
    Mistake(
        id="train_no_optimizer_step",
        function="train_classifier",
        hint=(
            "Your model does not learn (accuracy about chance): after loss.backward() call "
            "optimizer.step(), which is what changes the weights (and optimizer.zero_grad() "
            "before the next backward)."
        ),
        impl=_train_no_optimizer_step,
    ),
    Mistake(
        id="train_accuracy_in_percent",
        function="train_classifier",
        hint=(
            "Your accuracy is a percentage; return the fraction of correctly classified "
            "points, a float in [0, 1]."
        ),
        impl=_train_accuracy_in_percent,
    ),
    Mistake(
        id="grid_transposed",
        function="evaluate_on_grid",
        hint=(
            "Your P is transposed relative to XX and YY: P[i, j] must be the probability at "
            "the point (XX[i, j], YY[i, j]). Reshape p1 back in the order you flattened XX "
            "and YY, and transpose nothing (or transpose all three together)."
        ),
        impl=_grid_transposed,
    ),
    Mistake(
        id="probability_of_class_0",
        function="evaluate_on_grid",
        hint=(
            "Your P is p(y = 0 | x), which is 1 - p(y = 1 | x): take column 1 of the "
            "probabilities, probs[:, 1]."
        ),
        impl=_probability_of_class_0,
    ),
    Mistake(
        id="softmax_over_points",
        function="evaluate_on_grid",
        hint=(
            "Your softmax normalises over the grid points (dim=0), so P sums to 1 over the "
            "grid; the class probabilities of one point sum to 1, softmax over dim=1."
        ),
        impl=_softmax_over_points,
    ),
    Mistake(
        id="sigmoid_of_score_1",
        function="evaluate_on_grid",
        hint=(
            "Your P matches sigmoid(s_1), which ignores s_0; p(y = 1 | x) is the softmax of "
            "both scores, exp(s_1) / (exp(s_0) + exp(s_1)) = sigmoid(s_1 - s_0)."
        ),
        impl=_sigmoid_of_score_1,
    ),
    Mistake(
        id="gradient_of_logit",
        function="compute_input_gradients",
        hint=(
            "Your gradients are those of the score s_1, not of the probability: apply the "
            "softmax and backpropagate p(y = 1 | x), which is flat where the model is "
            "confident."
        ),
        impl=_gradient_of_logit,
    ),
    Mistake(
        id="gradient_of_class_0",
        function="compute_input_gradients",
        hint=(
            "Your gradients point the wrong way: they are those of p(y = 0 | x) = "
            "1 - p(y = 1 | x). Backpropagate the class-1 probability, probs[:, 1]."
        ),
        impl=_gradient_of_class_0,
    ),
    Mistake(
        id="gradients_swapped",
        function="compute_input_gradients",
        hint=(
            "Your GX and GY are swapped: GX is the derivative with respect to x_1, the first "
            "column of grid.grad, GY the second."
        ),
        impl=_gradients_swapped,
    ),
    Mistake(
        id="gradients_transposed",
        function="compute_input_gradients",
        hint=(
            "Your GX and GY are transposed relative to XX and YY: GX[i, j] must be the "
            "derivative at the point (XX[i, j], YY[i, j]). Reshape in the order you "
            "flattened XX and YY."
        ),
        impl=_gradients_transposed,
    ),
]
