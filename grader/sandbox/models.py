"""Build objects from a data-only description, on either side of the boundary.

A model (or an image) cannot cross the boundary, but its description can: the parent sends
a spec, the worker builds the object and keeps it behind a handle, and the parent builds
the very same object from the same spec to compute what is expected.

An image spec is ``{"image": "dog_and_cat.png"}``: a PIL image opened from a provided file
(the worker's scratch folder, the assignment's templates in the parent). A generator spec is
``{"generator": 5, "instance": 0}``: a fresh ``torch.Generator`` seeded with 5 (``instance``
tells apart two generators of one seed, which must not share their state). A model spec is a
JSON-able dict::

    {"root": NODE, "tie": [["decoder.weight", "encoder.weight"]], "frozen": ["0"], "seed": 0,
     "device": "meta"}

where a NODE is one of

    ["Linear", 3, 4, {"bias": false}]      any torch.nn layer: class name, args, kwargs
    ["Sequential", NODE, NODE, ...]        children named 0, 1, ...
    ["Sequential", {"name": NODE, ...}]    named children
    ["Shared", "features.0"]               the module already built at that path, again
    ["torchvision", "alexnet"]             a torchvision model with random weights

``tie`` makes the first parameter path the very same Parameter as the second; ``frozen``
turns off ``requires_grad`` below the given module paths; ``device`` "meta" builds a model
without allocating or initialising weights (enough for counting parameters, and fast).

>>> model = build_model({"root": ["Sequential", ["Linear", 3, 4], ["ReLU"]]})
>>> sum(p.numel() for p in model.parameters())
16
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import nn


def build_object(spec: dict[str, Any], folder: Path) -> Any:
    """Build what a spec describes: a PIL image from ``folder``, a random generator, or a model."""
    if "generator" in spec:
        return torch.Generator().manual_seed(int(spec["generator"]))
    if "image" in spec:
        from PIL import Image  # imported here: only image exercises need it

        name = Path(spec["image"]).name  # a provided file's name, never a path elsewhere
        with Image.open(folder / name) as image:
            return image.convert(spec.get("mode", "RGB"))
    return build_model(spec)


def build_model(spec: dict[str, Any]) -> nn.Module:
    """Build the model a spec describes, with weights seeded by ``spec["seed"]``."""
    torch.manual_seed(int(spec.get("seed", 0)))
    built: dict[str, nn.Module] = {}
    with torch.device(spec.get("device", "cpu")):
        root = _node(spec["root"], "", built)
    for target, source in spec.get("tie", []):
        owner, name = _split(root, target)
        setattr(owner, name, root.get_parameter(source))
    for path in spec.get("frozen", []):
        root.get_submodule(path).requires_grad_(False)
    return root


def _node(node: list[Any], path: str, built: dict[str, nn.Module]) -> nn.Module:
    kind, rest = node[0], node[1:]
    if kind == "Shared":
        return built[rest[0]]
    if kind == "torchvision":
        import torchvision  # imported here: it costs about a second and few models need it

        module = torchvision.models.get_model(rest[0], weights=None)
    elif kind == "Sequential":
        named = rest[0].items() if rest and isinstance(rest[0], dict) else (
            (str(i), child) for i, child in enumerate(rest)
        )
        children = OrderedDict(
            (name, _node(child, f"{path}.{name}" if path else name, built)) for name, child in named
        )
        module = nn.Sequential(children)
    else:
        layer = getattr(nn, kind, None)
        if not (isinstance(layer, type) and issubclass(layer, nn.Module)):
            raise ValueError(f"not a torch.nn layer: {kind!r}")
        kwargs = rest[-1] if rest and isinstance(rest[-1], dict) else {}
        # JSON has no tuples: [6, 6] stands for the (6, 6) a layer expects.
        args = [tuple(a) if isinstance(a, list) else a for a in (rest[:-1] if kwargs else rest)]
        module = layer(*args, **kwargs)
    built[path] = module
    return module


def _split(root: nn.Module, target: str) -> tuple[nn.Module, str]:
    owner_path, _, name = target.rpartition(".")
    return (root.get_submodule(owner_path) if owner_path else root), name


def describe(spec: dict[str, Any]) -> str:
    """A short readable description of a model spec, for feedback.

    >>> describe({"root": ["Sequential", ["Linear", 3, 4], ["ReLU"]]})
    'Sequential(Linear(3, 4), ReLU())'
    """
    if "image" in spec:
        return f"the image {Path(spec['image']).name} (a PIL image)"
    if "generator" in spec:
        return f"torch.Generator().manual_seed({int(spec['generator'])})"
    text = _describe_node(spec["root"])
    extras = [f"{a} tied to {b}" for a, b in spec.get("tie", [])]
    extras += [f"{p} frozen" for p in spec.get("frozen", [])]
    return text + (f" with {', '.join(extras)}" if extras else "")


def _describe_node(node: list[Any]) -> str:
    kind, rest = node[0], node[1:]
    if kind == "Shared":
        return f"<the same module as {rest[0]}>"
    if kind == "torchvision":
        return f"torchvision.models.{rest[0]}()"
    if kind == "Sequential" and rest and isinstance(rest[0], dict):
        return "Sequential(" + ", ".join(f"{k}={_describe_node(v)}" for k, v in rest[0].items()) + ")"
    if kind == "Sequential":
        return "Sequential(" + ", ".join(_describe_node(child) for child in rest) + ")"
    kwargs = rest[-1] if rest and isinstance(rest[-1], dict) else {}
    args = [repr(a) for a in (rest[:-1] if kwargs else rest)]
    args += [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{kind}({', '.join(args)})"
