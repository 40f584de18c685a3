"""build_model and describe: the same data-only spec builds the same model on both sides."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from grader.sandbox.models import build_model, describe


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_plain_layer():
    model = build_model({"root": ["Linear", 3, 4]})
    assert type(model) is nn.Linear
    assert (model.in_features, model.out_features) == (3, 4)
    assert count(model) == 3 * 4 + 4


def test_layer_with_kwargs():
    model = build_model({"root": ["Conv2d", 3, 8, 3, {"bias": False, "padding": 1}]})
    assert type(model) is nn.Conv2d
    assert model.bias is None and model.padding == (1, 1)
    assert count(model) == 3 * 8 * 3 * 3


def test_layer_without_arguments():
    assert type(build_model({"root": ["ReLU"]})) is nn.ReLU


def test_sequential_children_are_numbered():
    model = build_model({"root": ["Sequential", ["Linear", 3, 4], ["ReLU"], ["Linear", 4, 2]]})
    assert [name for name, _ in model.named_children()] == ["0", "1", "2"]
    assert count(model) == 16 + 10
    assert model(torch.ones(5, 3)).shape == (5, 2)


def test_nested_sequentials_with_named_children():
    spec = {"root": ["Sequential", {
        "features": ["Sequential", ["Conv2d", 1, 2, 3], ["ReLU"]],
        "head": ["Sequential", {"flat": ["Flatten"], "fc": ["Linear", 8, 3]}],
    }]}
    model = build_model(spec)
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "features", "features.0", "features.1", "head", "head.flat", "head.fc"]
    assert isinstance(model.get_submodule("head.fc"), nn.Linear)
    assert count(model) == (1 * 2 * 9 + 2) + (8 * 3 + 3)


def test_shared_module_is_the_same_object_and_counted_once():
    spec = {"root": ["Sequential", {
        "features": ["Sequential", ["Linear", 4, 4], ["ReLU"]],
        "again": ["Shared", "features.0"],
    }]}
    model = build_model(spec)
    assert model.again is model.features[0]
    modules = [m for _, m in model.named_modules()]
    assert sum(m is model.again for m in modules) == 1
    assert count(model) == 4 * 4 + 4
    x = torch.randn(2, 4)
    assert torch.equal(model(x), model.again(torch.relu(model.features[0](x))))


def test_shared_sibling_in_numbered_sequential():
    model = build_model({"root": ["Sequential", ["Linear", 2, 2], ["Shared", "0"]]})
    assert model[0] is model[1]
    assert len(list(model.parameters())) == 2


def test_tie_makes_the_very_same_parameter():
    spec = {"root": ["Sequential", {"enc": ["Linear", 3, 3, {"bias": False}],
                                    "dec": ["Linear", 3, 3, {"bias": False}]}],
            "tie": [["dec.weight", "enc.weight"]]}
    model = build_model(spec)
    assert model.dec.weight is model.enc.weight
    assert isinstance(model.dec.weight, nn.Parameter)
    assert len(list(model.parameters())) == 1
    assert count(model) == 9


def test_frozen_turns_off_grad_below_the_path_only():
    spec = {"root": ["Sequential", {"body": ["Sequential", ["Linear", 2, 2], ["Linear", 2, 2]],
                                    "head": ["Linear", 2, 1]}],
            "frozen": ["body"]}
    model = build_model(spec)
    assert all(not p.requires_grad for p in model.body.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 3


def test_meta_device_builds_without_weights_and_counts_right():
    spec = {"root": ["Sequential", ["Linear", 1000, 1000], ["Linear", 1000, 10]], "device": "meta"}
    model = build_model(spec)
    assert all(p.device.type == "meta" for p in model.parameters())
    assert count(model) == 1000 * 1000 + 1000 + 1000 * 10 + 10


def test_meta_device_does_not_leak_into_later_tensors():
    build_model({"root": ["Linear", 2, 2], "device": "meta"})
    assert torch.ones(1).device.type == "cpu"


def test_torchvision_alexnet_on_meta_has_the_known_parameter_count():
    model = build_model({"root": ["torchvision", "alexnet"], "device": "meta"})
    assert count(model) == 61_100_840
    assert type(model).__name__ == "AlexNet"
    assert all(p.device.type == "meta" for p in model.parameters())


@pytest.mark.parametrize("name", ["NoSuchLayer", "functional", "init", "Tensor"])
def test_unknown_layer_name_raises_value_error(name):
    with pytest.raises(ValueError, match=name):
        build_model({"root": ["Sequential", ["Linear", 2, 2], [name]]})


def test_weights_are_deterministic_for_a_seed():
    spec = {"root": ["Sequential", ["Linear", 3, 4], ["Conv1d", 2, 2, 3]], "seed": 5}
    a, b = build_model(spec), build_model(spec)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_weights_differ_between_seeds():
    a = build_model({"root": ["Linear", 3, 4], "seed": 0})
    b = build_model({"root": ["Linear", 3, 4], "seed": 1})
    assert not torch.equal(a.weight, b.weight)


def test_weights_do_not_depend_on_global_rng_state():
    spec = {"root": ["Linear", 3, 4], "seed": 2}
    a = build_model(spec)
    torch.rand(100)
    b = build_model(spec)
    assert torch.equal(a.weight, b.weight)


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ({"root": ["Linear", 3, 4]}, "Linear(3, 4)"),
        ({"root": ["Linear", 3, 4, {"bias": False}]}, "Linear(3, 4, bias=False)"),
        ({"root": ["Sequential", ["Linear", 3, 4], ["ReLU"]]}, "Sequential(Linear(3, 4), ReLU())"),
        ({"root": ["Sequential", {"a": ["ReLU"], "b": ["Sequential", ["Shared", "a"]]}]},
         "Sequential(a=ReLU(), b=Sequential(<the same module as a>))"),
        ({"root": ["torchvision", "alexnet"]}, "torchvision.models.alexnet()"),
        ({"root": ["Sequential", {"enc": ["Linear", 3, 3], "dec": ["Linear", 3, 3]}],
          "tie": [["dec.weight", "enc.weight"]], "frozen": ["enc"]},
         "Sequential(enc=Linear(3, 3), dec=Linear(3, 3)) with dec.weight tied to enc.weight, enc frozen"),
        ({"root": ["Conv2d", 1, 2, [3, 3], {"stride": 2, "padding_mode": "zeros"}]},
         "Conv2d(1, 2, [3, 3], stride=2, padding_mode='zeros')"),
    ],
)
def test_describe(spec, text):
    assert describe(spec) == text
