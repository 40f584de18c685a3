"""Catalogued mistakes for Exercise 2 (``parameter_counting``).

Variants of ``count_parameters`` and ``parameters_per_layer``. Several of them agree
with the reference on some models (a flat ``nn.Sequential`` has no containers below the
root, a model without BatchNorm has no buffers, a model without tied weights has no
shared parameter), so the checks need a model with a parameter tied between two leaf
modules, a BatchNorm layer, a parameter-free layer and a nested ``nn.Sequential``.
"""

from torch import nn

from grader.catalogue import Mistake


def _leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in model.named_modules() if next(m.children(), None) is None]


def _shared_counted_twice(model: nn.Module) -> int:
    return sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False))


def _buffers_counted(model: nn.Module) -> int:
    # BatchNorm's running_mean, running_var and num_batches_tracked counted as parameters.
    return sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())


def _tensors_counted(model: nn.Module) -> int:
    # The number of parameter tensors, not of their entries.
    return len(list(model.parameters()))


def _parameter_free_layers_left_out(model: nn.Module) -> dict[str, int]:
    counts = {
        name: sum(p.numel() for p in m.parameters(recurse=False)) for name, m in _leaves(model)
    }
    return {name: count for name, count in counts.items() if count > 0}


def _top_level_children_only(model: nn.Module) -> dict[str, int]:
    # What the sheet's loop over alexnet.features suggests, applied to the model itself.
    return {
        name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()
    }


def _containers_included(model: nn.Module) -> dict[str, int]:
    return {name: sum(p.numel() for p in m.parameters()) for name, m in model.named_modules()}


def _buffers_counted_per_layer(model: nn.Module) -> dict[str, int]:
    return {name: sum(t.numel() for t in m.state_dict().values()) for name, m in _leaves(model)}


def _tied_parameter_counted_once_per_layer(model: nn.Module) -> dict[str, int]:
    # Deduplicating across layers, as count_parameters must; here each owner counts it.
    seen: set[int] = set()
    counts = {}
    for name, m in _leaves(model):
        counts[name] = 0
        for p in m.parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                counts[name] += p.numel()
    return counts


MISTAKES: list[Mistake] = [
    Mistake(
        id="shared_counted_twice",
        function="count_parameters",
        hint=(
            "A parameter shared by two modules (tied weights) is counted twice in your total; "
            "it is one parameter and should count once, as model.parameters() yields it once."
        ),
        impl=_shared_counted_twice,
    ),
    Mistake(
        id="buffers_counted",
        function="count_parameters",
        hint=(
            "Your total includes buffers such as BatchNorm's running_mean, running_var and "
            "num_batches_tracked; they are state, not parameters (state_dict() and buffers() "
            "contain them, parameters() does not)."
        ),
        impl=_buffers_counted,
    ),
    Mistake(
        id="tensors_counted",
        function="count_parameters",
        hint=(
            "Your total is the number of parameter tensors; the question asks for the number "
            "of scalar entries in them (a 3x4 weight is 12 parameters)."
        ),
        impl=_tensors_counted,
    ),
    Mistake(
        id="parameter_free_layers_left_out",
        function="parameters_per_layer",
        hint=(
            "Layers without parameters (ReLU, MaxPool2d, Dropout, ...) are missing from your "
            "dict; every leaf module belongs in it, with 0 when it owns no parameters."
        ),
        impl=_parameter_free_layers_left_out,
    ),
    Mistake(
        id="top_level_children_only",
        function="parameters_per_layer",
        hint=(
            "Your dict has one entry per direct child of the model, so a nested nn.Sequential "
            "appears as a single entry; the layers are the leaf modules at every depth, named "
            "like 'features.0'."
        ),
        impl=_top_level_children_only,
    ),
    Mistake(
        id="containers_included",
        function="parameters_per_layer",
        hint=(
            "Your dict also lists containers (the model itself as '' and every nn.Sequential) "
            "with the parameters of everything inside them; keep only the modules that have no "
            "children."
        ),
        impl=_containers_included,
    ),
    Mistake(
        id="buffers_counted_per_layer",
        function="parameters_per_layer",
        hint=(
            "The count of a BatchNorm layer includes its buffers (running_mean, running_var, "
            "num_batches_tracked); only its weight and bias are parameters."
        ),
        impl=_buffers_counted_per_layer,
    ),
    Mistake(
        id="tied_parameter_counted_once_per_layer",
        function="parameters_per_layer",
        hint=(
            "A parameter tied between two layers is counted only for the first of them; in the "
            "per-layer dict every layer that owns it counts it (only the total counts it once)."
        ),
        impl=_tied_parameter_counted_once_per_layer,
    ),
]
