"""Ex. 8: gradients in input space of a small 2-D classifier.

The student's ``MLP2d`` lives in the worker. Its weights cross as a state dict, so the
grader can rebuild the provided network (``self.net``) and compute, from the student's
own weights, what the grid, the probabilities and their gradients must be (gradients by
central finite differences in float64). Either meshgrid indexing is accepted. Training
runs the student's loop on the provided toy data and must clearly beat chance, judged on
the returned model itself; the provided plot is drawn from the student's results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from grader.checks import Call, Context, Remote, check
from grader.checks.background import figure_once
from grader.checks.compare import compare, compare_shape

CLASS, TRAIN, GRID, GRADIENTS = "MLP2d", "train_classifier", "evaluate_on_grid", "compute_input_gradients"
BOX = (-2.0, 3.0, -1.5, 2.0)
STEPS = 9
ACCURACY = 0.8


def student_model(ctx: Context, hidden: int = 8) -> tuple[Remote, nn.Module]:
    """The student's MLP2d in the worker, and a float64 copy of its network here."""
    handle = ctx.call(CLASS, Call((hidden,), {}, ("hidden",)))
    if not isinstance(handle, Remote):
        raise ctx.failure(CLASS, Call((hidden,), {}, ("hidden",)), f"MLP2d(...) gave {type(handle).__name__}")
    state = handle.call("state_dict")
    net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))
    net.load_state_dict({k.removeprefix("net."): v for k, v in state.items()})
    return handle, net.double()


def p1(net: nn.Module, points: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.softmax(net(points.double()), dim=-1)[..., 1]


def grid_call(model: Remote | nn.Module) -> Call:
    """The grid functions' call on the student's model (a handle), or on the network rebuilt
    here from its weights (for the catalogue's variants to replay the same call)."""
    return Call((model, *BOX, STEPS), {}, ("model", "xmin", "xmax", "ymin", "ymax", "steps"))


def unpack(ctx: Context, function: str, call: Call, got: Any, count: int) -> list[torch.Tensor]:
    """The tuple a grid function returns, each entry checked to be a (steps, steps) tensor."""
    if not isinstance(got, (tuple, list)) or len(got) != count:
        raise ctx.failure(function, call, f"{function}() returned {type(got).__name__}, expected a tuple of {count} tensors")
    for i, part in enumerate(got):
        verdict = compare_shape(part, (STEPS, STEPS))
        if not verdict.ok:
            raise ctx.failure(function, call, f"{function}() entry {i}: {verdict.summary}")
    return [torch.as_tensor(part).double() for part in got]


def check_grid(ctx: Context, function: str, call: Call, xx: torch.Tensor, yy: torch.Tensor) -> None:
    """XX, YY must be a meshgrid of linspace over the box, in either indexing."""
    xs = torch.linspace(BOX[0], BOX[1], STEPS, dtype=torch.float64)
    ys = torch.linspace(BOX[2], BOX[3], STEPS, dtype=torch.float64)
    for indexing in ("xy", "ij"):
        ex, ey = torch.meshgrid(xs, ys, indexing=indexing)
        if torch.allclose(xx, ex, atol=1e-5) and torch.allclose(yy, ey, atol=1e-5):
            return
    raise ctx.failure(function, call, f"XX, YY are not a meshgrid of {STEPS} equally spaced values over "
                      f"[{BOX[0]}, {BOX[1]}] x [{BOX[2]}, {BOX[3]}] (either indexing is fine)")


@check("forward_applies_net", "MLP2d.forward(x) returns self.net(x): the scores of both classes")
def forward_applies_net(ctx: Context) -> None:
    handle, net = student_model(ctx)
    x = torch.linspace(-2, 2, 14).reshape(7, 2)
    got = handle(Call((x,), {}, ("x",)))
    with torch.no_grad():
        expected = net(x.double()).float()
    verdict = compare(got, expected, rtol=1e-4, atol=1e-5)
    if not verdict.ok:
        raise ctx.failure("MLP2d.forward", Call((x,), {}, ("x",)), f"forward(x) is not self.net(x): {verdict.summary}",
                          verdict.details)


@check("grid_probabilities", "evaluate_on_grid gives a meshgrid XX, YY and P[i, j] = p(y=1 | XX[i, j], YY[i, j])")
def grid_probabilities(ctx: Context) -> None:
    handle, net = student_model(ctx)
    call = grid_call(handle)
    xx, yy, p = unpack(ctx, GRID, call, ctx.call(GRID, call), 3)
    check_grid(ctx, GRID, call, xx, yy)
    verdict = compare(p, p1(net, torch.stack((xx, yy), dim=-1)), rtol=1e-4, atol=1e-5)
    if not verdict.ok:
        raise ctx.failure(GRID, call, f"P is not the probability of class 1 at (XX, YY): {verdict.summary}",
                          verdict.details, got=tuple(t.float() for t in (xx, yy, p)), replay=grid_call(net.float()))


@check("input_gradients", "compute_input_gradients gives GX, GY = the partial derivatives of P (finite differences agree)")
def input_gradients(ctx: Context) -> None:
    handle, net = student_model(ctx)
    call = grid_call(handle)
    xx, yy, gx, gy = unpack(ctx, GRADIENTS, call, ctx.call(GRADIENTS, call), 4)
    check_grid(ctx, GRADIENTS, call, xx, yy)
    h = 1e-5
    points = torch.stack((xx, yy), dim=-1)
    step_x, step_y = torch.tensor([h, 0.0], dtype=torch.float64), torch.tensor([0.0, h], dtype=torch.float64)
    for name, got, step in (("GX", gx, step_x), ("GY", gy, step_y)):
        expected = (p1(net, points + step) - p1(net, points - step)) / (2 * h)
        verdict = compare(got, expected, rtol=1e-3, atol=1e-4)
        if not verdict.ok:
            raise ctx.failure(GRADIENTS, call, f"{name} is not the derivative of p(y=1 | x) along "
                              f"{'x' if name == 'GX' else 'y'}: {verdict.summary}", verdict.details,
                              got=tuple(t.float() for t in (xx, yy, gx, gy)), replay=grid_call(net.float()))


def toy_data(ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
    """The provided toy data set the student's loop is trained on."""
    return ctx.provided_module("helper").make_toy_dataset(400, 0)


def reference_figure(ctx: Context) -> Callable[[], bytes] | None:
    """The reference's figure (None where none is shown: without the reference, as in ``grader
    check``, or for results.json alone).

    It depends on nothing of the submission, so it is drawn once per process, and on a
    thread started just before the student's training: training the reference's model is
    most of its cost, and the parent would otherwise wait idle while the worker trains.
    The model is made here, seeded: the thread must leave torch's global generator alone.
    """
    if not ctx.shows_reference_figures:
        return None
    ref, helper = ctx.reference, ctx.provided_module("helper")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ref.MLP2d()
    x, y = toy_data(ctx)

    def draw() -> Any:
        net, _ = ref.train_classifier(model, x, y)
        xx, yy, p = ref.evaluate_on_grid(net, *BOX, 25)
        _, _, gx, gy = ref.compute_input_gradients(net, *BOX, 25)
        return helper.plot_data_boundary_and_gradients(x, y, xx, yy, p, gx, gy)

    return figure_once(("gradients2d", ref.__file__, helper.__file__), draw)


def trained(ctx: Context) -> tuple[Remote, float, torch.Tensor, torch.Tensor]:
    """Train the student's model with the student's loop on the toy data (once per worker)."""
    if "trained" not in ctx.memo:
        x, y = toy_data(ctx)
        handle = ctx.call(CLASS, Call((), {}, ()))
        ctx.memo["initial"] = handle.call("state_dict")
        call = Call((handle, x, y), {}, ("model", "X", "y"))
        reference_figure(ctx)  # drawn meanwhile
        got = ctx.call(TRAIN, call)
        if not (isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[0], Remote)
                and isinstance(got[1], (int, float)) and not isinstance(got[1], bool)):
            raise ctx.failure(TRAIN, call, "train_classifier() should return (model, train_accuracy), "
                              f"got {type(got).__name__}")
        ctx.memo["trained"] = (got[0], float(got[1]), x, y)
    return ctx.memo["trained"]


def same_weights(after: Any, before: Any) -> bool:
    """Whether two state dicts from the worker hold the very same tensors (training changed nothing)."""
    return (isinstance(after, dict) and isinstance(before, dict) and after.keys() == before.keys()
            and all(isinstance(after[k], torch.Tensor) and isinstance(before[k], torch.Tensor)
                    and after[k].shape == before[k].shape and bool(torch.equal(after[k], before[k])) for k in after))


@check("training_beats_chance", f"train_classifier reaches a training accuracy of at least {ACCURACY:.0%} "
       "on the toy data, and reports it truthfully")
def training_beats_chance(ctx: Context) -> None:
    model, reported, x, y = trained(ctx)
    logits = model(Call((x,), {}, ("X",)))
    verdict = compare_shape(logits, (len(x), 2))
    if not verdict.ok:
        raise ctx.failure(TRAIN, None, f"the trained model's scores: {verdict.summary}")
    accuracy = float((torch.as_tensor(logits).argmax(-1) == y).double().mean())
    where = "make_toy_dataset(400, 0), default epochs, lr and batch size"
    if accuracy < ACCURACY:
        unchanged = same_weights(model.call("state_dict"), ctx.memo["initial"])
        raise ctx.failure(
            TRAIN, where, f"the trained model classifies {accuracy:.1%} of the training points correctly, below "
            f"{ACCURACY:.0%} (chance is 50%)" + ("; its weights are the ones it started with" if unchanged else ""),
            mistake="train_no_optimizer_step" if unchanged else None,
            hint="Check that every epoch loops over the DataLoader, calls zero_grad(), backward() and step(), "
                 "and that the loss takes the raw scores.")
    if abs(accuracy - reported) > 0.02:
        raise ctx.failure(TRAIN, where, f"train_classifier() reported accuracy {reported:.3f}, but the model it "
                          f"returned classifies {accuracy:.3f} of the training points correctly",
                          mistake="train_accuracy_in_percent" if abs(accuracy * 100 - reported) <= 2 else None)


@check("gradient_figure", "the provided plot, drawn from your trained model's grid and gradients (beside the reference)")
def gradient_figure(ctx: Context) -> None:
    model, _, x, y = trained(ctx)
    call = Call((model, *BOX, 25), {}, ("model", "xmin", "xmax", "ymin", "ymax", "steps"))
    grid = ctx.call(GRID, call)
    grads = ctx.call(GRADIENTS, call)
    if not (isinstance(grid, (tuple, list)) and len(grid) == 3 and isinstance(grads, (tuple, list)) and len(grads) == 4):
        raise ctx.failure(GRID, call, "evaluate_on_grid() and compute_input_gradients() must return 3 and 4 tensors")
    args = (x, y, grid[0], grid[1], grid[2], grads[2], grads[3])
    _, pngs = ctx.call_with_figures("plot_data_boundary_and_gradients", Call(args), module="helper")
    ctx.add_figure("data, decision boundary and input gradients", pngs[0] if pngs else None, reference_figure(ctx))
    if not pngs:
        raise ctx.failure("plot_data_boundary_and_gradients", None, "the plot could not be drawn from your results")


@check("matches_reference", "with your model's weights, the grid and the gradients equal the reference's")
def matches_reference(ctx: Context) -> None:
    handle, net = student_model(ctx)
    reference = ctx.reference.MLP2d(8)
    reference.net.load_state_dict(net.float().state_dict())
    call = grid_call(handle)
    got = unpack(ctx, GRADIENTS, call, ctx.call(GRADIENTS, call), 4)
    xx, yy, gx, gy = (t.double() for t in ctx.reference.compute_input_gradients(reference, *BOX, STEPS))
    if not torch.allclose(got[0], xx, atol=1e-5):  # the other meshgrid indexing: compare transposed
        xx, yy, gx, gy = xx.T, yy.T, gx.T, gy.T
    for name, mine, theirs in (("GX", got[2], gx), ("GY", got[3], gy)):
        verdict = compare(mine, theirs, rtol=1e-3, atol=1e-5)
        if not verdict.ok:
            raise ctx.failure(GRADIENTS, call, f"{name} differs from the reference's: {verdict.summary}",
                              verdict.details)
