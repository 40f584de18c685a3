"""Reference solution, Exercise 9 - Explainability of deep networks (guided backpropagation).

Guided backpropagation (Springenberg et al., 2014) changes only the backward pass of every
ReLU: the gradient goes through where the ReLU's input was positive (as in ordinary
backpropagation) *and* where the gradient arriving from above is positive. Only evidence
*for* the class survives, which removes most of the noise of the plain input gradient and
leaves sharp images of the edges and textures the class score responds to (for the bull
mastiff: the dog's face, ears and outline, rather than the cat or the background).
"""

import os
from typing import Any

import numpy as np
import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision import transforms

# The ImageNet statistics the torchvision models were trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class GuidedReLUFunction(torch.autograd.Function):
    """ReLU forward; backward passes the gradient only where input > 0 and gradient > 0."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_output.clamp(min=0) * (x > 0).to(grad_output.dtype)


class GuidedReLU(nn.Module):
    """A drop-in replacement for ``nn.ReLU`` that backpropagates with the guided rule."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return GuidedReLUFunction.apply(x)


def load_model(pretrained: bool = True) -> nn.Module:
    """Return torchvision's ResNet-50 in eval mode, never downloading anything.

    With ``pretrained`` the ``IMAGENET1K_V1`` weights are used if they are already in the
    torch hub cache; otherwise (and without ``pretrained``) the weights are random.
    """
    weights = None
    if pretrained:
        candidate = torchvision.models.ResNet50_Weights.IMAGENET1K_V1
        # The file name and folder torchvision itself would download the weights to.
        cached = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(candidate.url))
        if os.path.exists(cached):
            weights = candidate
        else:
            print(f"note: no pretrained ResNet-50 weights at {cached}; using random weights.")
    model = torchvision.models.resnet50(weights=weights)
    # Batch norm must use its running statistics: one image is not a batch to normalise.
    return model.eval()


def preprocess(img: Image.Image) -> torch.Tensor:
    """Return ``img`` as the ``(1, 3, 224, 224)`` input the ImageNet models were trained on."""
    transform = transforms.Compose(
        [
            transforms.Resize(256),  # the shorter side to 256, keeping the aspect ratio
            transforms.CenterCrop(224),
            transforms.ToTensor(),  # (3, H, W) in [0, 1]
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    return transform(img.convert("RGB"))[None]


def replace_relus(model: nn.Module) -> nn.Module:
    """Replace every ``nn.ReLU`` in ``model``, however deeply nested, by a ``GuidedReLU``.

    The model is changed in place and returned (a model that is itself an ``nn.ReLU`` cannot
    be changed in place: the return value is then a new ``GuidedReLU``).
    """
    if isinstance(model, nn.ReLU):
        return GuidedReLU()
    # remove_duplicate=False lists a module registered under several names once per name;
    # named_children() and the default named_modules() would skip the second name.
    found = [(name, m) for name, m in model.named_modules(remove_duplicate=False)
             if isinstance(m, nn.ReLU)]
    replacement: dict[int, GuidedReLU] = {}
    for name, relu in found:
        parent_name, _, child_name = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        # A ReLU shared between places stays shared: one GuidedReLU for all of them.
        setattr(parent, child_name, replacement.setdefault(id(relu), GuidedReLU()))
    return model


def guided_gradients(model: nn.Module, x: torch.Tensor, target_class: int = 243) -> torch.Tensor:
    """Return the gradient of the score ``model(x)[0, target_class]`` with respect to ``x``.

    ``x`` has batch size 1. With the ReLUs replaced by ``GuidedReLU`` this is the guided
    backpropagation map; the model is used in whatever mode it is in.
    """
    # A fresh leaf: the caller's tensor is neither changed nor given a .grad.
    x = x.detach().clone().requires_grad_(True)
    model.zero_grad()
    output = model(x)
    output[0, target_class].backward()
    return x.grad


def gradient_to_image(g: torch.Tensor) -> np.ndarray:
    """Return the ``(1, 3, H, W)`` gradient as an ``(H, W, 3)`` image, min-max scaled to [0, 1]."""
    img = g.detach().cpu()[0].permute(1, 2, 0).numpy().astype(np.float32)
    low, high = img.min(), img.max()
    if high == low:  # a constant gradient carries no picture; avoid dividing by 0
        return np.zeros_like(img)
    return (img - low) / (high - low)


if __name__ == "__main__":
    from pathlib import Path

    import matplotlib.pyplot as plt

    # The image ships with the skeletons, not with the reference.
    templates = Path(__file__).resolve().parents[2] / "student_templates" / "ps5"
    img = Image.open(templates / "dog_and_cat.png").convert("RGB")
    model = replace_relus(load_model())
    x = preprocess(img)
    g = guided_gradients(model, x, target_class=243)
    with torch.no_grad():
        print("predicted class:", model(x).argmax(dim=1).item())
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 5))
    shown = x[0].permute(1, 2, 0) * torch.tensor(IMAGENET_STD) + torch.tensor(IMAGENET_MEAN)
    left.imshow(shown.clamp(0, 1).numpy())
    left.set_title("input (224 x 224)")
    right.imshow(gradient_to_image(g))
    right.set_title("guided backpropagation, class 243")
    for ax in (left, right):
        ax.axis("off")
    plt.show()
