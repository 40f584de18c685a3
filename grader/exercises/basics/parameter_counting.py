"""Ex. 2: counting parameters, in total and per leaf layer.

Models cannot cross the sandbox boundary, so each check sends a model *description*
(a ``Built`` spec): the worker builds the model and keeps it behind a handle, and
the parent builds the same model to compute what is expected. The public checks use a
few fixed models whose counts are written out below; the hidden ones draw random models
(nested, shared modules, tied weights, frozen layers, BatchNorm buffers) and AlexNet.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from grader.checks import Built, Call, Context, check

COUNT, PER_LAYER = "count_parameters", "parameters_per_layer"

# (model, total, per leaf layer): counted by hand, and tested against the reference.
KNOWN_MODELS: list[tuple[dict[str, Any], int, dict[str, int]]] = [
    ({"root": ["Sequential", ["Linear", 3, 4], ["ReLU"], ["Linear", 4, 2]]}, 26, {"0": 16, "1": 0, "2": 10}),
    (
        {"root": ["Sequential", ["Conv2d", 1, 2, 3], ["BatchNorm2d", 2], ["ReLU"], ["Flatten"]]},
        24,
        {"0": 20, "1": 4, "2": 0, "3": 0},
    ),
    (
        {"root": ["Sequential", {
            "features": ["Sequential", ["Conv2d", 3, 8, 3], ["ReLU"]],
            "head": ["Linear", 8, 2, {"bias": False}],
        }]},
        240,
        {"features.0": 224, "features.1": 0, "head": 16},
    ),
    ({"root": ["Sequential", ["Linear", 4, 4], ["ReLU"], ["Shared", "0"]]}, 20, {"0": 20, "1": 0}),
    (
        {"root": ["Sequential", ["Linear", 4, 4, {"bias": False}], ["Linear", 4, 4, {"bias": False}]],
         "tie": [["1.weight", "0.weight"]]},
        16,
        {"0": 16, "1": 16},
    ),
    ({"root": ["Sequential", ["Linear", 2, 3], ["Linear", 3, 1]], "frozen": ["0"]}, 13, {"0": 9, "1": 4}),
]


@st.composite
def _layer(draw: st.DrawFn) -> list[Any]:
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return draw(st.sampled_from([
        ["Linear", n, m, {"bias": draw(st.booleans())}],
        ["Conv2d", n, m, draw(st.integers(1, 3))],
        ["BatchNorm1d", n],
        ["LayerNorm", n],
        ["Embedding", n, m],
        ["ReLU"],
        ["Dropout"],
        ["Flatten"],
    ]))


def _paths(node: list[Any], prefix: str = "") -> list[str]:
    """Qualified names of the modules below a Sequential node (children named 0, 1, ...)."""
    found = []
    for i, child in enumerate(node[1:]):
        path = f"{prefix}.{i}" if prefix else str(i)
        found.append(path)
        if child[0] == "Sequential":
            found += _paths(child, path)
    return found


@st.composite
def model_specs(draw: st.DrawFn) -> dict[str, Any]:
    """Random models: nested Sequentials, sometimes a shared module or tied weights."""
    tree = draw(st.recursive(
        _layer(),
        lambda children: st.lists(children, min_size=1, max_size=3).map(lambda xs: ["Sequential", *xs]),
        max_leaves=6,
    ))
    root = ["Sequential", tree, ["Linear", 3, 3, {"bias": False}]]
    spec: dict[str, Any] = {"root": root}
    if draw(st.booleans()):
        root.append(["Shared", draw(st.sampled_from(_paths(root)))])
    if draw(st.booleans()):
        root.append(["Linear", 3, 3, {"bias": False}])
        spec["tie"] = [[f"{len(root) - 2}.weight", "1.weight"]]
    if draw(st.booleans()):
        spec["frozen"] = ["0"]
    return spec


def _calls(specs: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Call]:
    return specs.map(lambda spec: Call((Built(spec),), {}, ("model",)))


@check("count_known_models", "count_parameters() is right on six small models (shared and tied weights count once)")
def count_known_models(ctx: Context) -> None:
    for spec, total, _ in KNOWN_MODELS:
        ctx.expect(COUNT, Call((Built(spec),), {}, ("model",)), total)


@check("per_layer_known_models", "parameters_per_layer() is right on six small models, parameter-free layers included")
def per_layer_known_models(ctx: Context) -> None:
    for spec, _, per_layer in KNOWN_MODELS:
        ctx.expect(PER_LAYER, Call((Built(spec),), {}, ("model",)), per_layer)


@check("count_matches_reference", "count_parameters() agrees with the reference on random models")
def count_matches_reference(ctx: Context) -> None:
    ctx.agree(COUNT, _calls(model_specs()), ctx.reference.count_parameters)


@check("per_layer_matches_reference", "parameters_per_layer() agrees with the reference on random models")
def per_layer_matches_reference(ctx: Context) -> None:
    ctx.agree(PER_LAYER, _calls(model_specs()), ctx.reference.parameters_per_layer)


# torchvision's AlexNet, layer for layer (tests/exercises prove it): building it from torch.nn
# spares both processes the second-long import of torchvision; "meta" skips the weights.
ALEXNET: dict[str, Any] = {"device": "meta", "root": ["Sequential", {
    "features": ["Sequential",
                 ["Conv2d", 3, 64, 11, {"stride": 4, "padding": 2}], ["ReLU", {"inplace": True}],
                 ["MaxPool2d", 3, 2],
                 ["Conv2d", 64, 192, 5, {"padding": 2}], ["ReLU", {"inplace": True}], ["MaxPool2d", 3, 2],
                 ["Conv2d", 192, 384, 3, {"padding": 1}], ["ReLU", {"inplace": True}],
                 ["Conv2d", 384, 256, 3, {"padding": 1}], ["ReLU", {"inplace": True}],
                 ["Conv2d", 256, 256, 3, {"padding": 1}], ["ReLU", {"inplace": True}], ["MaxPool2d", 3, 2]],
    "avgpool": ["AdaptiveAvgPool2d", [6, 6]],
    "classifier": ["Sequential",
                   ["Dropout", {"p": 0.5}], ["Linear", 9216, 4096], ["ReLU", {"inplace": True}],
                   ["Dropout", {"p": 0.5}], ["Linear", 4096, 4096], ["ReLU", {"inplace": True}],
                   ["Linear", 4096, 1000]],
}]}


@check("alexnet", "both functions are right on AlexNet (61,100,840 parameters)")
def alexnet(ctx: Context) -> None:
    call = Call((Built(ALEXNET),), {}, ("model",))
    ctx.expect(COUNT, call, ctx.parent_call(ctx.reference.count_parameters, call))
    ctx.expect(PER_LAYER, call, ctx.parent_call(ctx.reference.parameters_per_layer, call))
