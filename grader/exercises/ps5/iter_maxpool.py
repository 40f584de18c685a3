"""Ex. 7: iterated max pooling against iterated Gaussian blur.

Public checks: max pooling and the blur agree with torch's own ops (as the sheet asks the
student to use them), the laws of max pooling (never lowers a pixel, monotone in ``iters``,
``a + b`` iterations are ``a`` then ``b``), the Gaussian kernel (normalised, symmetric,
peaked in the centre), loading the image and converting back. The figure of the provided
``run_experiment`` is drawn from the student's functions in the sandbox and shown beside the
reference's. Hidden: every function against the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from grader.checks import Call, Context, check
from grader.checks.background import figure_once
from grader.checks.compare import compare
from grader.checks.strategies import tensors

MAXPOOL, KERNEL, BLUR = "maxpool_iter", "gauss_kernel_2d", "gaussian_blur_iter"
LOAD, TO_NUMPY = "load_image_as_tensor", "tensor_to_numpy_image"
IMAGE = "sample_image.png"


@st.composite
def images(draw: st.DrawFn, max_side: int = 7) -> torch.Tensor:
    b, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    return draw(tensors((b, c, h, w), 1.0, 0.125))


@st.composite
def maxpool_calls(draw: st.DrawFn) -> Call:
    return Call((draw(images()),), {"k": draw(st.sampled_from([1, 3, 5])), "iters": draw(st.integers(1, 4))}, ("x",))


def torch_maxpool(x: torch.Tensor, k: int = 3, iters: int = 1) -> torch.Tensor:
    for _ in range(iters):
        x = F.max_pool2d(x, k, stride=1, padding=k // 2)
    return x


def torch_kernel(k: int, sigma: float) -> torch.Tensor:
    r = torch.arange(k, dtype=torch.float64) - (k - 1) / 2
    g = torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))
    return (g / g.sum()).float()


@st.composite
def kernel_calls(draw: st.DrawFn) -> Call:
    return Call((draw(st.sampled_from([1, 3, 5, 7])), draw(st.sampled_from([0.5, 1.0, 1.5, 3.0]))), {}, ("k", "sigma"))


@st.composite
def blur_calls(draw: st.DrawFn) -> Call:
    kwargs = {"k": draw(st.sampled_from([1, 3, 5])), "sigma": draw(st.sampled_from([0.5, 1.0, 2.0])),
              "iters": draw(st.integers(1, 3))}
    return Call((draw(images()),), kwargs, ("x",))


def torch_blur(x: torch.Tensor, k: int = 5, sigma: float = 1.0, iters: int = 1) -> torch.Tensor:
    channels = x.shape[1]
    weight = torch_kernel(k, sigma)[None, None].expand(channels, 1, k, k)
    for _ in range(iters):
        x = F.conv2d(x, weight, padding=k // 2, groups=channels)
    return x


@check("maxpool_matches_torch", "maxpool_iter(x, k, iters) is F.max_pool2d(k, stride 1, padding k//2), iters times")
def maxpool_matches_torch(ctx: Context) -> None:
    ctx.agree(MAXPOOL, maxpool_calls(), torch_maxpool)


@check("maxpool_laws", "max pooling never lowers a pixel, is monotone in iters, and iters=a+b is a then b")
def maxpool_laws(ctx: Context) -> None:
    def body(call: Call) -> None:
        x, k, n = call.args[0], call.kwargs["k"], call.kwargs["iters"]
        once = ctx.returned_tensor(MAXPOOL, call, tuple(x.shape))
        if bool((~(once >= x.double() - 1e-6)).any()):  # NaN fails too
            raise ctx.failure(MAXPOOL, call, "max pooling lowered a pixel: every output must be >= the input there",
                              got=once.float())
        more = Call((x,), {"k": k, "iters": n + 1}, ("x",))
        twice = ctx.returned_tensor(MAXPOOL, more, tuple(x.shape))
        if bool((~(twice >= once - 1e-6)).any()):
            raise ctx.failure(MAXPOOL, more, f"iters={n + 1} gave smaller values than iters={n}")
        chained = Call((once.float(),), {"k": k, "iters": 1}, ("x",))
        verdict = compare(ctx.returned_tensor(MAXPOOL, chained, tuple(x.shape)), twice)
        if not verdict.ok:
            raise ctx.failure(MAXPOOL, chained, f"one more iteration on the result of iters={n} is not iters={n + 1}: "
                              f"{verdict.summary}", verdict.details)

    ctx.for_all(MAXPOOL, maxpool_calls(), body)


@check("gaussian_kernel", "gauss_kernel_2d(k, sigma) is the normalised k x k Gaussian: sums to 1, symmetric, peak in the centre")
def gaussian_kernel(ctx: Context) -> None:
    def body(call: Call) -> None:
        k = call.args[0]
        g = ctx.returned_tensor(KERNEL, call, (k, k))
        problems = []
        if abs(float(g.sum()) - 1) > 1e-4:
            problems.append(f"its entries sum to {float(g.sum()):.4g}, not 1")
        if not (torch.allclose(g, g.T, atol=1e-6) and torch.allclose(g, g.flip(0), atol=1e-6)):
            problems.append("it is not symmetric")
        if float(g[k // 2, k // 2]) < float(g.max()) - 1e-9:
            problems.append("its largest entry is not in the centre")
        if problems:
            raise ctx.failure(KERNEL, call, "the kernel is not a normalised Gaussian: " + "; ".join(problems),
                              got=g.float())
        ctx.expect(KERNEL, call, torch_kernel(*call.args), rtol=1e-4, atol=1e-6,
                   what="gauss_kernel_2d() is not exp(-(i^2 + j^2) / (2 sigma^2)), normalised:")

    ctx.for_all(KERNEL, kernel_calls(), body)


@check("blur_matches_conv2d", "gaussian_blur_iter blurs each channel on its own with zero padding k//2, iters times")
def blur_matches_conv2d(ctx: Context) -> None:
    ctx.agree(BLUR, blur_calls(), torch_blur, rtol=1e-4, atol=1e-5)


def _expected_image(ctx: Context) -> torch.Tensor:
    from PIL import Image

    with Image.open(ctx.provided_file(IMAGE)) as image:
        gray = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    return torch.from_numpy(gray)[None, None]


@check("image_round_trip", "load_image_as_tensor gives (1, 1, H, W) in [0, 1]; tensor_to_numpy_image gives it back as (H, W)")
def image_round_trip(ctx: Context) -> None:
    expected = _expected_image(ctx)
    # Any standard luma weighting of a colour image is accepted: 0.02 covers their spread.
    loaded = ctx.expect(LOAD, Call((IMAGE,), {}, ("path",)), expected, rtol=0, atol=0.02)
    array = ctx.call(TO_NUMPY, Call((torch.as_tensor(loaded).float(),), {}, ("t",)))
    if not isinstance(array, np.ndarray):
        raise ctx.failure(TO_NUMPY, Call((expected,), {}, ("t",)),
                          f"tensor_to_numpy_image() returned {type(array).__name__}, expected a numpy array")
    verdict = compare(array, np.asarray(torch.as_tensor(loaded).float()[0, 0]), rtol=0, atol=1e-6)
    if not verdict.ok:
        raise ctx.failure(TO_NUMPY, Call((expected,), {}, ("t",)), f"tensor_to_numpy_image() {verdict.summary}",
                          verdict.details)


def reference_figure(ctx: Context) -> Callable[[], bytes] | None:
    """The reference's figure (None where none is shown: without the reference, as in ``grader
    check``, or for results.json alone): it depends on nothing of the submission, so it is
    drawn once per process, on a thread that runs while the worker draws the student's."""
    if not ctx.shows_reference_figures:
        return None
    ref, helper, image = ctx.reference, ctx.provided_module("helper_maxpool"), ctx.provided_file(IMAGE)
    return figure_once(("iter_maxpool", ref.__file__, helper.__file__, str(image)),
                       lambda: helper.run_experiment(image, functions=ref))


@check("experiment_figure", "run_experiment() draws the 2 x 5 grid from your functions (shown beside the reference)")
def experiment_figure(ctx: Context) -> None:
    reference = reference_figure(ctx)
    _, pngs = ctx.call_with_figures("run_experiment", Call((), {}, ()), module="helper_maxpool")
    ctx.add_figure("iterated max pooling (top) and Gaussian blur (bottom)", pngs[0] if pngs else None, reference)
    if not pngs:
        raise ctx.failure("run_experiment", None, "run_experiment() drew no figure")


@check("matches_reference", "every function agrees with the reference on more sizes, kernels and iteration counts")
def matches_reference(ctx: Context) -> None:
    ctx.agree(MAXPOOL, maxpool_calls(), ctx.reference.maxpool_iter)
    ctx.agree(KERNEL, kernel_calls(), ctx.reference.gauss_kernel_2d, rtol=1e-4, atol=1e-6)
    ctx.agree(BLUR, blur_calls(), ctx.reference.gaussian_blur_iter, rtol=1e-4, atol=1e-5)


