"""Exercise 9 - Explainability of Deep Networks.

From the exercise sheet:

    Modern neural networks contain numerous layers and components. These networks work
    extremely well, but their inner workings are often inscrutable.

    To improve the models, design new architectures, ensure safety and certification in
    critical applications (e.g., medical systems or systems vulnerable to adversarial
    attacks), and build trust, it is important to look for strategies to explain how the
    networks "make decisions".

    Explainability is still a developing research area. In this exercise, we explore one
    of the earliest approaches for explaining deep image recognition networks by
    identifying which parts of an input image were most responsible for the model's
    predicted class. One natural idea is to examine the gradient of the output with respect
    to the input image (this is different from the gradient used during training). The
    gradient tells us how sensitive the network's output is to changes in each pixel.
    Using a first-order Taylor expansion around the input x

        f(x + dx) = f(x) + grad_x f(x)^T dx + O(dx)                                   (1)

    Observe that grad_x f(x) is the same size as that of the input x, in our case it is the
    image. Thus, we see that if the value grad_x f(x)[i, j] is large at location (i, j),
    then that pixel strongly influences the class score. In practice, however, raw
    gradients can be quite noisy because of the many ReLU nonlinearities in modern
    networks. To reduce this noise, Springenberg et al. [2] proposed a modified version of
    ReLU for the backward pass known as guided backpropagation. In this exercise, you will
    compute these modified gradients for a ResNet-50 classifier to visualize which pixels
    in an image most strongly contribute to the predicted class.

    Tasks:

    1. Load a pretrained ResNet-50 model: Use ``torchvision.models`` to load ResNet-50
       with pretrained weights (``IMAGENET1K_V1``), which outputs a 1000-dimensional
       vector for the 1000 ImageNet classes.
    2. Load and preprocess the provided image: The image contains a bulldog and a cat, and
       the bulldog corresponds to the ImageNet class "bull mastiff" (index 243). Convert
       the image into a PyTorch tensor, resize/crop it appropriately, and apply ImageNet
       normalization. (Look at how the models were trained and transform the provided
       image accordingly)
    3. Replace standard ReLU with the modified (guided) ReLU: Use the provided
       implementation of the modified ReLU and substitute it for all ReLUs in the network
       so that the backward pass uses guided gradients.
    4. Compute the gradient of the class score w.r.t. the input: Perform a forward pass,
       then call ``backward`` on the output at index 243 to backpropagate gradients from
       that specific class.
    5. Visualize the input gradient: Plot the gradient of the input tensor as an image.

    Observe which regions are highlighted and discuss why the network identifies those
    parts as important.

    [2] Jost Tobias Springenberg, Alexey Dosovitskiy, Thomas Brox, and Martin Riedmiller.
        Striving for simplicity: The all convolutional net. arXiv:1412.6806, 2014.

About the image: we cannot ship the sheet's photograph, so ``dog_and_cat.png`` is a
drawing of a dog-like and a cat-like figure. The pretrained network will not recognise a
bull mastiff in it with much confidence, but the guided gradients still show which edges
and colours raise the score of class 243; try other classes too (281 is "tabby cat"), or a
photograph of your own.

About the weights: ``load_model`` must never download. It uses the ``IMAGENET1K_V1``
weights only when they are already on your machine (in the torch hub cache, where
torchvision puts them after one download, e.g. on a machine with internet access:
``torchvision.models.resnet50(weights="IMAGENET1K_V1")``), and otherwise random weights,
with a printed note. The grader checks your functions on networks with random weights.

Write your discussion in ``answers.yaml`` (key ``ex9_discussion``); it is read by your
tutor. Run ``python3 guided_backprop.py`` to compute and plot the guided gradients.
"""

from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

# The ImageNet statistics the torchvision models were trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class GuidedReLUFunction(torch.autograd.Function):
    """The modified ReLU, provided: ReLU forward, guided backward.

    Forward: ``max(x, 0)``, like an ordinary ReLU. Backward: the gradient passes only where
    the input was positive (as for an ordinary ReLU) *and* the incoming gradient is
    positive; everywhere else it is set to 0.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_output.clamp(min=0) * (x > 0).to(grad_output.dtype)


class GuidedReLU(nn.Module):
    """Provided: a module using ``GuidedReLUFunction``, to put where an ``nn.ReLU`` was."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return GuidedReLUFunction.apply(x)


def load_model(pretrained: bool = True) -> nn.Module:
    """Return torchvision's ResNet-50 in eval mode (task 1), without ever downloading.

    With ``pretrained=True``, use the ``IMAGENET1K_V1`` weights
    (``torchvision.models.ResNet50_Weights.IMAGENET1K_V1``) if the file is already in the
    torch hub cache: torchvision keeps it in ``os.path.join(torch.hub.get_dir(),
    "checkpoints")`` under the last part of the weights' ``.url``. Otherwise, and with
    ``pretrained=False``, build the model with random weights (``weights=None``); when
    pretrained weights were asked for but are missing, print a note saying so.

    Returns:
        The ResNet-50, switched to eval mode (``model.eval()``): batch normalisation must
        use its running statistics, not those of a batch of one image.
    """
    # TODO: look for the cached weights file, build resnet50 with or without weights, eval().
    raise NotImplementedError("load_model: fill in the TODO in guided_backprop.py")


def preprocess(img: Image.Image) -> torch.Tensor:
    """Turn a PIL image into the input the ImageNet models were trained on (task 2).

    The standard ImageNet evaluation transform: resize so that the *shorter* side is 256
    pixels (keeping the aspect ratio), crop the central 224 x 224 pixels, convert to a
    tensor with values in [0, 1] (``transforms.ToTensor``), and normalise every channel
    with ``IMAGENET_MEAN`` and ``IMAGENET_STD``. Convert the image to RGB first, so that
    a grayscale or RGBA file also gives three channels.

    Args:
        img: a PIL image of any size.

    Returns:
        A float32 tensor of shape ``(1, 3, 224, 224)`` (a batch of one image).
    """
    # TODO: a transforms.Compose of Resize, CenterCrop, ToTensor and Normalize; add the batch dim.
    raise NotImplementedError("preprocess: fill in the TODO in guided_backprop.py")


def replace_relus(model: nn.Module) -> nn.Module:
    """Replace every ``nn.ReLU`` module in ``model`` by a ``GuidedReLU`` (task 3).

    The ReLUs of a ResNet-50 sit at several depths: one directly in the model
    (``model.relu``) and one in every bottleneck block inside ``model.layer1`` ...
    ``model.layer4``; all of them must be replaced, however deeply nested. Note that
    assigning to a loop variable replaces nothing: the new module must be set as an
    attribute of the module that contains the ReLU (``setattr(parent, name, ...)``).
    One ReLU module may be used several times in a forward pass, or even registered
    under two names; every place must end up guided.

    Args:
        model: any ``nn.Module``.

    Returns:
        The same model, changed in place, with no ``nn.ReLU`` left in it.
    """
    # TODO: find every nn.ReLU (nested ones too) and put a GuidedReLU in its place.
    raise NotImplementedError("replace_relus: fill in the TODO in guided_backprop.py")


def guided_gradients(model: nn.Module, x: torch.Tensor, target_class: int = 243) -> torch.Tensor:
    """Return the gradient of the class score ``model(x)[0, target_class]`` w.r.t. ``x`` (task 4).

    Make ``x`` a leaf that requires grad, do a forward pass, call ``backward`` on the
    score of ``target_class`` (the raw output, before any softmax) and return the
    gradient that arrived at ``x``. With the ReLUs replaced by ``GuidedReLU``s this is
    the guided backpropagation map. Use the model as it is given (do not change its
    mode or its ReLUs here).

    Args:
        model: the classifier, outputs of shape ``(1, num_classes)``.
        x: the input, batch size 1, e.g. ``(1, 3, 224, 224)``.
        target_class: the class whose score is explained (243: bull mastiff).

    Returns:
        A tensor of the same shape as ``x``.
    """
    # TODO: a leaf copy of x with requires_grad, forward, backward of the target score, x.grad.
    raise NotImplementedError("guided_gradients: fill in the TODO in guided_backprop.py")


def gradient_to_image(g: torch.Tensor) -> np.ndarray:
    """Turn a ``(1, 3, H, W)`` gradient into an RGB image that ``plt.imshow`` can show (task 5).

    Take the single gradient ``g[0]``, move the channels last (``(H, W, 3)``; a reshape
    would scramble the pixels, use ``permute``) and min-max normalise it: subtract the
    minimum and divide by the range, so that the values fill [0, 1].

    Returns:
        A numpy array of shape ``(H, W, 3)`` with values in [0, 1].
    """
    # TODO: g[0], channels last, as numpy, min-max normalised to [0, 1].
    raise NotImplementedError("gradient_to_image: fill in the TODO in guided_backprop.py")


if __name__ == "__main__":
    from pathlib import Path

    import matplotlib.pyplot as plt

    image_path = Path(__file__).resolve().parent / "dog_and_cat.png"
    img = Image.open(image_path).convert("RGB")
    try:
        model = replace_relus(load_model(pretrained=True))
        x = preprocess(img)
        g = guided_gradients(model, x, target_class=243)
        picture = gradient_to_image(g)
    except NotImplementedError as error:
        print(f"Not finished yet ({error}).")
    else:
        with torch.no_grad():
            print("predicted class:", model(x).argmax(dim=1).item(), "(243 is bull mastiff)")
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 5))
        left.imshow(img)
        left.set_title("input")
        right.imshow(picture)
        right.set_title("guided backpropagation, class 243")
        for ax in (left, right):
            ax.axis("off")
        plt.show()
