"""Catalogued mistakes for Exercise 9 (``guided_backprop``): ``replace_relus``,
``guided_gradients``, ``gradient_to_image`` and ``preprocess``.

What the checks need to tell them apart from the reference: a model with ReLUs below the
top level (``replace_top_level_only``; ResNet-50 has one at the top and the rest in its
blocks); a target class that is
not the model's prediction (``predicted_class_instead_of_target``); and an image that is
not square (``squashed_to_square``; the shipped 320x256 picture will do). The
replacement module here is a copy of the provided ``GuidedReLU``, so that this file
stays self-contained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torchvision import transforms

from grader.catalogue import Mistake

if TYPE_CHECKING:  # only for the annotations: the transforms take the PIL image as it is
    from PIL import Image

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


class _GuidedReLUFunction(torch.autograd.Function):
    """The provided guided ReLU: ReLU forward, gradient only where input and gradient > 0."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_output.clamp(min=0) * (x > 0).to(grad_output.dtype)


class _GuidedReLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _GuidedReLUFunction.apply(x)


def _replace_top_level_only(model: nn.Module) -> nn.Module:
    # No recursion: the ReLUs inside the blocks (model.layer1[0].relu, ...) stay plain.
    for name, child in model.named_children():
        if isinstance(child, nn.ReLU):
            setattr(model, name, _GuidedReLU())
    return model


def _replace_assigns_loop_variable(model: nn.Module) -> nn.Module:
    # Rebinding the loop variable changes nothing in the model: every ReLU stays plain,
    # and the "guided" gradient is the ordinary one, negative parts and all.
    for _, module in model.named_modules():
        if isinstance(module, nn.ReLU):
            module = _GuidedReLU()
    return model


def _leaf(x: torch.Tensor) -> torch.Tensor:
    return x.detach().clone().requires_grad_(True)


def _predicted_class_instead_of_target(
    model: nn.Module, x: torch.Tensor, target_class: int = 243
) -> torch.Tensor:
    x = _leaf(x)
    output = model(x)
    output[0, output[0].argmax()].backward()
    return x.grad


def _gradient_of_probability(
    model: nn.Module, x: torch.Tensor, target_class: int = 243
) -> torch.Tensor:
    x = _leaf(x)
    torch.softmax(model(x), dim=1)[0, target_class].backward()
    return x.grad


def _image_not_normalised(g: torch.Tensor) -> np.ndarray:
    # The raw gradient, channels last: tiny values of both signs, not an image in [0, 1].
    return g.detach().cpu()[0].permute(1, 2, 0).numpy()


def _reshape_instead_of_permute(g: torch.Tensor) -> np.ndarray:
    # The right shape, but reshape keeps the memory order (3, H, W): the pixels are
    # scrambled across rows and channels.
    _, channels, height, width = g.shape
    img = g.detach().cpu()[0].reshape(height, width, channels).numpy()
    return (img - img.min()) / (img.max() - img.min())


def _no_normalisation(img: Image.Image) -> torch.Tensor:
    transform = transforms.Compose(
        [transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()]
    )
    return transform(img.convert("RGB"))[None]


def _squashed_to_square(img: Image.Image) -> torch.Tensor:
    # Resize((224, 224)) forces the size: the aspect ratio is lost and nothing is cropped.
    transform = transforms.Compose(
        [transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize(_MEAN, _STD)]
    )
    return transform(img.convert("RGB"))[None]


def _no_batch_dimension(img: Image.Image) -> torch.Tensor:
    transform = transforms.Compose(
        [
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(_MEAN, _STD),
        ]
    )
    return transform(img.convert("RGB"))


MISTAKES: list[Mistake] = [
    Mistake(
        id="replace_top_level_only",
        function="replace_relus",
        hint=(
            "ReLUs inside submodules are left plain: most of ResNet-50's ReLUs sit in its "
            "blocks (model.layer1[0].relu, ...). Recurse into the children, or go through "
            "model.named_modules() and set the new module on each ReLU's parent."
        ),
        impl=_replace_top_level_only,
    ),
    Mistake(
        id="replace_assigns_loop_variable",
        function="replace_relus",
        hint=(
            "No ReLU is replaced: assigning a GuidedReLU to the loop variable does not change "
            "the model. Set it on the containing module, setattr(parent, name, GuidedReLU())."
        ),
        impl=_replace_assigns_loop_variable,
    ),
    Mistake(
        id="predicted_class_instead_of_target",
        function="guided_gradients",
        hint=(
            "Your gradient is that of the predicted class (the argmax); backpropagate the "
            "score of target_class, output[0, target_class], whatever the model predicts."
        ),
        impl=_predicted_class_instead_of_target,
    ),
    Mistake(
        id="gradient_of_probability",
        function="guided_gradients",
        hint=(
            "Your gradient is that of the softmax probability; the sheet asks for the class "
            "score itself: call backward on the raw output[0, target_class]."
        ),
        impl=_gradient_of_probability,
    ),
    Mistake(
        id="image_not_normalised",
        function="gradient_to_image",
        hint=(
            "Your image is the raw gradient, with values far outside [0, 1]: subtract its "
            "minimum and divide by its range (max - min)."
        ),
        impl=_image_not_normalised,
    ),
    Mistake(
        id="reshape_instead_of_permute",
        function="gradient_to_image",
        hint=(
            "Your image has the right shape but scrambled pixels: reshape(H, W, 3) keeps the "
            "(3, H, W) memory order. Move the channel axis with g[0].permute(1, 2, 0)."
        ),
        impl=_reshape_instead_of_permute,
    ),
    Mistake(
        id="no_normalisation",
        function="preprocess",
        hint=(
            "Your tensor stays in [0, 1]: the ImageNet models expect every channel "
            "normalised with mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), "
            "transforms.Normalize after ToTensor."
        ),
        impl=_no_normalisation,
    ),
    Mistake(
        id="squashed_to_square",
        function="preprocess",
        hint=(
            "Your image is squashed to a square: Resize((224, 224)) ignores the aspect ratio. "
            "Resize(256) scales the shorter side to 256; then CenterCrop(224) cuts the centre."
        ),
        impl=_squashed_to_square,
    ),
    Mistake(
        id="no_batch_dimension",
        function="preprocess",
        hint=(
            "Your tensor has shape (3, 224, 224); the model takes a batch, (1, 3, 224, 224): "
            "add the batch dimension with unsqueeze(0) (or [None])."
        ),
        impl=_no_batch_dimension,
    ),
]
