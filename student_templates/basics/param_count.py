"""Exercise 2 - Parameter Counting.

From the exercise sheet:

    Use PyTorch to load the ``alexnet`` model and automatically compute its number of
    parameters. Output the number of parameters for each layer and the total number of
    parameters in the model.

        import torchvision
        alexnet = torchvision.models.alexnet()

Implement the two functions below so that they work for any ``nn.Module``, not only
AlexNet: the checks also use small models with nested ``nn.Sequential`` containers,
layers without parameters (``nn.ReLU``), ``nn.BatchNorm`` layers (whose running
statistics are buffers, not parameters) and layers that share a parameter.
Write AlexNet's total in ``answers.yaml`` (key ``alexnet_total_params``).
Run ``python3 param_count.py`` to see your functions on AlexNet.
"""

from torch import nn


def count_parameters(model: nn.Module) -> int:
    """Return the total number of parameters (scalar entries) of ``model``.

    Only parameters count: buffers such as BatchNorm's running mean and variance do
    not. A parameter shared between several modules (tied weights) is one parameter
    and counts once.

    Args:
        model: any ``nn.Module``.

    Returns:
        The total as a Python ``int``.
    """
    # TODO: add up the sizes of the model's parameters.
    raise NotImplementedError("count_parameters: fill in the TODO in param_count.py")


def parameters_per_layer(model: nn.Module) -> dict[str, int]:
    """Return the number of parameters of every layer of ``model``.

    A layer is a leaf module: a module with no child modules. The keys are the leaves'
    qualified names as ``model.named_modules()`` gives them (for example
    ``"features.0"`` or ``"classifier.6"``), in the order it yields them; a module
    registered twice appears once, under its first name. If ``model`` itself has no
    children, it is its own only layer, named ``""``.

    The value is the number of parameters the layer owns itself. Layers without
    parameters (``nn.ReLU``, ``nn.MaxPool2d``, ``nn.Dropout``, ...) are included with
    0. Buffers do not count. A parameter shared by two layers counts for each of
    them here (unlike in ``count_parameters``, where it counts once).

    Args:
        model: any ``nn.Module``.

    Returns:
        A dict mapping each layer's qualified name to its parameter count (``int``).
    """
    # TODO: visit the leaf modules and count the parameters each one owns.
    raise NotImplementedError("parameters_per_layer: fill in the TODO in param_count.py")


if __name__ == "__main__":
    import torchvision  # only for this demonstration; the graded functions must not need it

    alexnet = torchvision.models.alexnet()
    try:
        per_layer = parameters_per_layer(alexnet)
    except NotImplementedError:
        print("parameters_per_layer is not implemented yet: fill in the TODO in param_count.py.")
    else:
        modules = dict(alexnet.named_modules())
        for name, count in per_layer.items():
            print(f"{name:<15} {type(modules[name]).__name__:<18} {count:>12,}")
    try:
        total = count_parameters(alexnet)
    except NotImplementedError:
        print("count_parameters is not implemented yet: fill in the TODO in param_count.py.")
    else:
        print(f"total: {total:,}")
