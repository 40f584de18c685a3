"""Exercise 8 - Gradients in input space.

From the exercise sheet:

    In this exercise you will study how a classifier changes with respect to its input by
    visualizing gradients in a two-dimensional input space. You will work with a simple
    synthetic classification problem in R^2 and a small neural network classifier
    implemented in PyTorch. We consider a classifier f_theta : R^2 -> R^2 which maps an
    input x = (x_1, x_2) in R^2 to two real-valued scores f_theta(x) = (s_0(x), s_1(x)).
    From these scores we obtain class probabilities by a softmax:

        p_theta(y = c | x) = exp(s_c(x)) / (exp(s_0(x)) + exp(s_1(x))),   c in {0, 1}.

    We are interested in the gradient of the class probability with respect to the input,
    grad_x p_theta(y = 1 | x) in R^2, and in how this gradient field looks in the input
    plane. You are given a Python skeleton file in ``gradients2d.py`` that contains stubs
    for the functions you need to implement. In ``helper.py``, you can find functions that
    are provided to you and should not be edited by you. One of these functions generates
    the toy dataset used in this exercise and the other function is used for plotting
    later in this exercise.

    Information about the toy dataset generated in ``make_toy_dataset()``: We denote by
    x^(i) = (x_1^(i), x_2^(i)) the i-th point in the dataset and collect all points in a
    matrix X in R^(N x 2), one point per row. This matrix X is returned by the
    ``make_toy_dataset()`` function. Additionally, it returns the class labels y (0 or 1).

    Tasks:

    1. Inspect the toy dataset returned by ``make_toy_dataset()`` (e.g. scatter plot). You
       do not need to implement this function. If you want, you can try out different
       seeds and see how the dataset changes.
    2. Train a small neural network classifier:
       (a) Complete the forward method in ``class MLP2d(nn.Module)``. It should apply
           ``self.net`` to the input.
       (b) Implement a simple training loop in ``train_classifier()``. Please use
           ``torch.utils.data.TensorDataset`` and ``DataLoader``. As learning algorithm,
           please use ``torch.optim.SGD`` or ``torch.optim.Adam``. As a loss function
           please use ``nn.CrossEntropyLoss``. Report the training accuracy at the end.
           Make sure your classifier reaches clearly better than random accuracy on the
           toy dataset.
    3. Evaluate the class probability p_theta(y = 1 | x) on a regular grid in the
       (x_1, x_2) plane (``evaluate_on_grid()``).
    4. Compute gradients of p_theta(y = 1 | x) with respect to the input coordinates
       x = (x_1, x_2) for each point on the grid (``compute_input_gradients()``).
    5. In the ``"__main__"`` block: Pass the required inputs into the provided plotting
       function ``plot_data_boundary_and_gradients()`` that you can find in ``helper.py``.
       You do not need to implement this function yourself. In this exercise, we use the
       standard rule "predict class 1 if p_theta(y = 1 | x) > 0.5", so the decision
       boundary is the set of points where p_theta(y = 1 | x) = 0.5.
    6. Interpretation questions:
       (a) Where in the input plane are the gradients grad_x p_theta(y = 1 | x) largest in
           magnitude? Are they closer to the decision boundary or far away from it?
       (b) In regions where the model is very confident for class 0 or class 1, do the
           gradients tend to be large or small? Why does this make sense?
       (c) Consider a point x that lies close to the decision boundary. If you move a small
           step in the direction of the gradient, does the probability p_theta(y = 1 | x)
           increase or decrease? How is this visible in your plot?

Write your answers to 6 (a)-(c) in ``answers.yaml`` (keys ``ex8_where_large``,
``ex8_confident_regions``, ``ex8_step_along_gradient``); they are read by your tutor.
Run ``python3 gradients2d.py`` to train, evaluate and plot.
"""

import torch
from torch import nn


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
        """Return the scores of the points ``x``.

        Args:
            x: points of shape ``(N, 2)``.

        Returns:
            The scores (logits, before any softmax), shape ``(N, 2)``; column c is s_c.
        """
        # TODO: task 2 (a), apply self.net to the input.
        raise NotImplementedError("MLP2d.forward: fill in the TODO in gradients2d.py")


def train_classifier(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 200,
    lr: float = 1e-2,
    batch_size: int = 64,
    seed: int = 0,
) -> tuple[nn.Module, float]:
    """Train ``model`` on ``(X, y)`` and return it with its training accuracy.

    Task 2 (b): put X and y in a ``TensorDataset``, draw shuffled mini-batches of
    ``batch_size`` from a ``DataLoader``, and for ``epochs`` passes over the data minimise
    ``nn.CrossEntropyLoss`` (it takes the scores, not probabilities) with
    ``torch.optim.SGD`` or ``torch.optim.Adam`` at learning rate ``lr``. Use ``seed`` to
    make the shuffling reproducible, e.g. with ``torch.Generator().manual_seed(seed)``
    passed to the DataLoader.

    Args:
        model: the classifier, e.g. an ``MLP2d``; it is trained in place.
        X: the points, ``(N, 2)``, float32.
        y: the labels, ``(N,)``, int64, each 0 or 1.
        epochs: the number of passes over the data.
        lr: the learning rate.
        batch_size: the mini-batch size.
        seed: the seed for the order of the mini-batches.

    Returns:
        ``(model, train_accuracy)``: the trained model and the fraction of points of X it
        classifies correctly after training (predicted class: the larger score), as a
        Python float in [0, 1].
    """
    # TODO: dataset, loader, optimizer, loss; the training loop; the final accuracy on X.
    raise NotImplementedError("train_classifier: fill in the TODO in gradients2d.py")


def evaluate_on_grid(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Evaluate p(y = 1 | x) on a regular ``steps x steps`` grid (task 3).

    From the sheet:

        (a) Create two one dimensional tensors ``xs`` and ``ys`` with ``steps`` equally
            spaced values between the given min and max.
        (b) Create a meshgrid of coordinates ``(XX, YY)`` of shape [steps, steps].
        (c) Stack the grid into a tensor ``grid`` of shape [steps * steps, 2] to feed into
            the model.
        (d) Compute the class scores for all grid points (``logits``), apply softmax in the
            class dimension (``probs``), and extract the probability for class 1 (``p1``).
        (e) Reshape the results back to a two dimensional array ``P`` of shape
            [steps, steps] that aligns with ``XX`` and ``YY``.

    Either meshgrid indexing ("xy" or "ij") is fine, as long as ``P[i, j]`` is the
    probability at the point ``(XX[i, j], YY[i, j])``: build ``grid`` from ``XX`` and
    ``YY`` themselves so that the flat order matches.

    Returns:
        ``(XX, YY, P)``, each of shape ``(steps, steps)``.
    """
    # TODO: (a)-(e) above. No gradients are needed here (torch.no_grad()).
    raise NotImplementedError("evaluate_on_grid: fill in the TODO in gradients2d.py")


def compute_input_gradients(
    model: nn.Module, xmin: float, xmax: float, ymin: float, ymax: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Compute the gradient of p(y = 1 | x) with respect to x at every grid point (task 4).

    From the sheet:

        (a) Create a meshgrid XX, YY as before (shape [steps, steps]) and stack into a
            tensor grid of shape [steps * steps, 2].
        (b) Enable gradient tracking for grid by calling ``grid.requires_grad_(True)``.
        (c) Pass grid through the model to obtain scores of shape [steps * steps, 2].
        (d) Apply softmax to obtain probabilities. Extract the probability for class 1 as
            a tensor p of shape [steps * steps] or [steps * steps, 1].
        (e) Compute the gradient of the sum of these probabilities with respect to grid:
            i. Call ``model.zero_grad()``.
            ii. Call ``p1.sum().backward()``.
            iii. The tensor ``grads`` has shape [steps * steps, 2] and contains
                 grad_x p_theta(y = 1 | x) at each grid point. Define the first column of
                 ``grads`` as G_X of shape [steps, steps] and the second column as G_Y of
                 shape [steps, steps].

    Returns:
        ``(XX, YY, GX, GY)``, each of shape ``(steps, steps)``, with ``GX[i, j]`` and
        ``GY[i, j]`` the partial derivatives of p(y = 1 | x) with respect to x_1 and x_2
        at the point ``(XX[i, j], YY[i, j])``.
    """
    # TODO: (a)-(e) above. The gradients are in grid.grad after the backward call.
    raise NotImplementedError("compute_input_gradients: fill in the TODO in gradients2d.py")


if __name__ == "__main__":
    import matplotlib.pyplot as plt
    from helper import make_toy_dataset, plot_data_boundary_and_gradients

    X, y = make_toy_dataset(n=400, seed=0)
    torch.manual_seed(0)  # the same initial weights on every run
    try:
        model, accuracy = train_classifier(MLP2d(hidden=32), X, y)
        print(f"training accuracy: {accuracy:.3f}")
        # A frame around the data, so the plot shows the boundary beyond the points too.
        low, high = X.min(dim=0).values - 0.5, X.max(dim=0).values + 0.5
        bounds = (low[0].item(), high[0].item(), low[1].item(), high[1].item())
        XX, YY, P = evaluate_on_grid(model, *bounds, steps=100)
        _, _, GX, GY = compute_input_gradients(model, *bounds, steps=100)
    except NotImplementedError as error:
        print(f"Not finished yet ({error}).")
    else:
        # Task 5: the data, the grid, P and the gradients go to the provided plot.
        plot_data_boundary_and_gradients(X, y, XX, YY, P, GX, GY)
        plt.show()
