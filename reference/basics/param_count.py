"""Reference solution, Exercise 2 - Parameter Counting.

``model.parameters()`` yields every parameter once, even when modules share it, so its
sizes add up to the total (61,100,840 for AlexNet). The per-layer counts go over the
leaf modules that ``model.named_modules()`` yields, each with the parameters it owns.
"""

from torch import nn


def count_parameters(model: nn.Module) -> int:
    """Return the number of parameter entries of ``model``, shared parameters once."""
    return sum(p.numel() for p in model.parameters())


def parameters_per_layer(model: nn.Module) -> dict[str, int]:
    """Map the qualified name of every leaf module to the parameter entries it owns.

    Leaves are the modules without children, named and ordered as
    ``model.named_modules()`` yields them (the root is the leaf ``""`` when it has no
    children). Parameter-free leaves map to 0; a parameter tied between two leaves
    counts for each.
    """
    return {
        name: sum(p.numel() for p in module.parameters(recurse=False))
        for name, module in model.named_modules()
        if next(module.children(), None) is None
    }


if __name__ == "__main__":
    import torchvision

    alexnet = torchvision.models.alexnet(weights=None)
    for layer_name, count in parameters_per_layer(alexnet).items():
        print(f"{layer_name:<15} {count:>12,}")
    print(f"total: {count_parameters(alexnet):,}")
