"""Ex. 9: guided backpropagation on ResNet-50 (and smaller networks).

No weights are ever downloaded: the checks build models with seeded random weights, in the
worker for the student and here for the reference, from the same spec. Public checks cover
loading the model offline, preprocessing (against torchvision's own transforms, with a
tolerance that admits either way of resizing), replacing every ReLU (nested ones, and one
module called several times in a forward pass as in ResNet's blocks), the shape of the
gradient and its image. A ReLU module registered under two names is never drawn: ResNet-50
has none, the sheet does not ask for it, and the usual correct solutions (recursing over
``named_children()``, or ``named_modules()`` with ``setattr`` on the parent) visit such a
module once. Hidden: guided gradients equal the
reference's on small random CNNs and on a random ResNet-50.
"""

from __future__ import annotations

import json
import re
from concurrent import futures
from concurrent.futures import Future

import numpy as np
import torch
from hypothesis import strategies as st

from grader.checks import Built, Call, Context, Remote, check
from grader.checks.background import once
from grader.checks.compare import compare, compare_shape

LOAD, PREPROCESS, REPLACE, GRADIENTS, TO_IMAGE = (
    "load_model", "preprocess", "replace_relus", "guided_gradients", "gradient_to_image")
IMAGE = "dog_and_cat.png"
TARGET = 243

# A small CNN with a ReLU at the top and a nested one.
SMALL_CNN = {"seed": 0, "root": ["Sequential",
                                 ["Conv2d", 3, 4, 3, {"padding": 1}], ["ReLU"],
                                 ["Sequential", ["Conv2d", 4, 4, 3, {"padding": 1}], ["ReLU"]],
                                 ["AdaptiveAvgPool2d", 1], ["Flatten"], ["Linear", 4, 300]]}
RESNET50 = {"seed": 0, "root": ["torchvision", "resnet50"]}
RESNET50_INPUT = (2, 64)  # small_input's seed and side
# ResNet-18's blocks call their one ReLU module twice; on "meta", without weights: the check
# only reads which modules the model holds.
RESNET18_META = {"seed": 0, "device": "meta", "root": ["torchvision", "resnet18"]}


def small_input(seed: int, side: int = 12) -> torch.Tensor:
    return torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(seed))


def replaced(ctx: Context, spec: dict) -> Remote:
    """The student's replace_relus applied to a model built from ``spec`` in the worker."""
    call = Call((Built(spec),), {}, ("model",))
    got = ctx.call(REPLACE, call)
    if not isinstance(got, Remote):
        raise ctx.failure(REPLACE, call, f"replace_relus() returned {type(got).__name__}, expected the model")
    return got


@check("load_model_offline", "load_model(pretrained=False) gives a ResNet-50 with 1000 class scores, without a download")
def load_model_offline(ctx: Context) -> None:
    call = Call((), {"pretrained": False}, ())
    model = ctx.call(LOAD, call)
    if not isinstance(model, Remote) or model.type != "ResNet":
        raise ctx.failure(LOAD, call, f"load_model() returned {getattr(model, 'type', type(model).__name__)}, "
                          "expected torchvision's ResNet")
    scores = model(Call((small_input(0, 32),), {}, ("x",)))
    verdict = compare_shape(scores, (1, 1000))
    if not verdict.ok:
        raise ctx.failure(LOAD, call, f"the model's output for a (1, 3, 32, 32) input: {verdict.summary}")


@check("preprocess_imagenet", "preprocess(img) resizes to 256, centre-crops 224 and normalises like ImageNet training")
def preprocess_imagenet(ctx: Context) -> None:
    from torchvision import transforms

    call = Call((Built({"image": IMAGE}),), {}, ("img",))
    got = ctx.returned_tensor(PREPROCESS, call, (1, 3, 224, 224))
    pipeline = transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    expected = ctx.parent_call(pipeline, call)[None].double()
    # Resizing the PIL image or the tensor (with antialiasing) differ a little at edges;
    # a missing step (no crop, no normalisation) differs by far more on average.
    mean_error = float((got - expected).abs().mean())
    if mean_error > 0.05:
        channel = (got - expected).mean(dim=(0, 2, 3))
        raise ctx.failure(PREPROCESS, call, f"the tensor differs from Resize(256), CenterCrop(224), ToTensor(), "
                          f"Normalize(ImageNet) by {mean_error:.3f} on average (at most 0.05 is expected); mean "
                          f"difference per channel {[round(float(c), 3) for c in channel]}", got=got.float())


@check("replace_relus_everywhere",
       "replace_relus replaces every nn.ReLU by GuidedReLU: nested ones, and ones a block calls twice")
def replace_relus_everywhere(ctx: Context) -> None:
    for spec in (SMALL_CNN, RESNET18_META):
        model = replaced(ctx, spec)
        text = str(model.call("__repr__"))
        remaining = len(re.findall(r"(?<!Guided)ReLU\(", text))
        if remaining or "GuidedReLU" not in text:
            # A variant explains the student's model when the two print the same; the catalogue's
            # copy of the provided class is called _GuidedReLU.
            mistake = ctx.sole_mistake(REPLACE, text, lambda m, spec=spec: repr(
                ctx.parent_call(m.impl, Call((Built(spec),)))).replace("_GuidedReLU(", "GuidedReLU("))
            raise ctx.failure(
                REPLACE, Call((Built(spec),), {}, ("model",)),
                f"after replace_relus() the model still has {remaining} nn.ReLU module(s)"
                if remaining else "replace_relus() put no GuidedReLU into the model",
                tuple(text.splitlines()[:14]), mistake=mistake,
                hint="Walk model.named_modules() (nested modules too) and set the GuidedReLU on each ReLU's "
                     "parent with setattr(parent, name, GuidedReLU()).")


@check("gradient_shape_and_image",
       "guided_gradients is shaped like x; gradient_to_image shows it as an (H, W, 3) image in [0, 1]")
def gradient_shape_and_image(ctx: Context) -> None:
    model = replaced(ctx, SMALL_CNN)
    x = small_input(1)
    call = Call((model, x), {"target_class": 7}, ("model", "x"))
    g = ctx.returned_tensor(GRADIENTS, call, tuple(x.shape))
    if not bool(torch.isfinite(g).all()) or not bool(g.abs().sum() > 0):
        raise ctx.failure(GRADIENTS, call, "the gradient is all zero or not finite", got=g.float())
    image_call = Call((g.float(),), {}, ("g",))
    image = ctx.call(TO_IMAGE, image_call)
    if not isinstance(image, np.ndarray) or image.shape != (12, 12, 3):
        shape = getattr(image, "shape", type(image).__name__)
        raise ctx.failure(TO_IMAGE, image_call, f"gradient_to_image() returned {shape}, expected a numpy array (12, 12, 3)")
    if not (image.min() >= 0 and image.max() <= 1):  # NaN fails too
        raise ctx.failure(TO_IMAGE, image_call, f"the image's values run from {image.min():.3g} to {image.max():.3g}, "
                          "outside [0, 1]", got=image)
    # An image that shows nothing is no picture of the gradient, however it is normalised.
    for c in range(3):
        if float(g[0, c].max() - g[0, c].min()) > 0 and not float(image[..., c].max() - image[..., c].min()) > 0:
            raise ctx.failure(TO_IMAGE, image_call, f"channel {c} of the image is the constant "
                              f"{float(image[..., c].flat[0]):.3g}, though g[0, {c}] is not: the image must show "
                              "the gradient, rescaled into [0, 1]", got=image)
    # Pixel (i, j) of channel c must come from g[0, c, i, j]: whatever the normalisation, the
    # order of the values within each channel is kept (a reshape instead of a permute is not).
    for c in range(3):
        order = np.argsort(g[0, c].numpy().ravel(), kind="stable")
        if bool((~(np.diff(image[..., c].ravel()[order]) >= -1e-6)).any()):
            raise ctx.failure(TO_IMAGE, image_call, f"channel {c} of the image is not g[0, {c}] rescaled: pixel "
                              "(i, j, c) must show g[0, c, i, j]", got=image)


def agrees_with_reference(ctx: Context, spec: dict, x: torch.Tensor, target: int,
                          pending: Future[torch.Tensor] | None = None) -> None:
    """The student's guided gradients on a model built from ``spec`` equal the reference's,
    computed here, or on a thread when ``pending``: then nothing but waiting for the worker
    runs here until that thread is done, as it seeds torch's global generator."""
    ref = ctx.reference
    try:
        model = replaced(ctx, spec)
        call = Call((model, x), {"target_class": target}, ("model", "x"))
        got = ctx.call(GRADIENTS, call)
    finally:
        if pending is not None:
            futures.wait([pending])

    def reference_gradients(built: torch.nn.Module, inputs: torch.Tensor, target_class: int) -> torch.Tensor:
        return ref.guided_gradients(ref.replace_relus(built), inputs, target_class)

    expected = ctx.parent_call(pending.result, Call(())) if pending is not None else ctx.parent_call(
        reference_gradients, Call((Built(spec), x, target)))
    verdict = compare(got, expected, rtol=1e-3, atol=1e-6)
    if not verdict.ok:
        # The variants get the model as the student's gradients did: with its ReLUs replaced.
        mistake = ctx.sole_mistake(GRADIENTS, got, lambda m: ctx.parent_call(
            lambda built, inputs, t: m.impl(ref.replace_relus(built), inputs, t), Call((Built(spec), x, target))))
        raise ctx.failure(GRADIENTS, Call((Built(spec), x), {"target_class": target}, ("model", "x")),
                          f"the guided gradients differ from the reference's: {verdict.summary}", verdict.details,
                          mistake=mistake)


@st.composite
def small_cnn_cases(draw: st.DrawFn) -> Call:
    """A seeded random SMALL_CNN, a seeded random input and a target class: arguments of
    :func:`agrees_with_reference`."""
    spec = {**SMALL_CNN, "seed": draw(st.integers(0, 50))}
    return Call((spec, small_input(draw(st.integers(0, 50))), draw(st.integers(0, 299))), {}, ("spec", "x", "target"))


@check("matches_reference_small_cnns", "guided gradients equal the reference's on small random CNNs for any target class")
def matches_reference_small_cnns(ctx: Context) -> None:
    ctx.for_all(GRADIENTS, small_cnn_cases(), lambda c: agrees_with_reference(ctx, *c.args), max_examples=6)


@check("matches_reference_resnet50", f"guided gradients equal the reference's on a seeded random ResNet-50 (class {TARGET})")
def matches_reference_resnet50(ctx: Context) -> None:
    ref = ctx.reference
    # The reference's gradients depend on nothing of the submission: computed once per
    # process, on a thread that builds its ResNet-50 and runs it while the worker does the same.
    pending = once(("guided_backprop", ref.__file__, json.dumps(RESNET50), RESNET50_INPUT, TARGET),
                   lambda: ref.guided_gradients(ref.replace_relus(ctx.build(RESNET50)),
                                                small_input(*RESNET50_INPUT), TARGET))
    agrees_with_reference(ctx, RESNET50, small_input(*RESNET50_INPUT), TARGET, pending)
