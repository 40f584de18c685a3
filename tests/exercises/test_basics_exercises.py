"""The checks of ``basics`` are sound: their tables, oracles and strategies agree with the reference."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import torch
from hypothesis import given, settings

from conftest import REPO
from grader.exercises.basics import attention, conv2d, parameter_counting
from grader.sandbox.models import build_model


def _reference(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_test_reference_{name}", REPO / "reference" / "basics" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PARAM_COUNT, CONV, ATTENTION = _reference("param_count"), _reference("conv2d"), _reference("attention")
CI = settings(max_examples=60, database=None, deadline=None, derandomize=True)


def test_the_counts_written_out_for_the_public_checks_are_right() -> None:
    for spec, total, per_layer in parameter_counting.KNOWN_MODELS:
        model = build_model(spec)
        assert PARAM_COUNT.count_parameters(model) == total, spec
        assert PARAM_COUNT.parameters_per_layer(model) == per_layer, spec


def test_the_alexnet_of_the_checks_is_torchvisions_layer_for_layer() -> None:
    import torchvision

    ours = build_model(parameter_counting.ALEXNET)
    theirs = torchvision.models.alexnet(weights=None)
    assert [(n, str(m)) for n, m in ours.named_modules() if n] == [(n, str(m)) for n, m in theirs.named_modules() if n]
    assert PARAM_COUNT.count_parameters(ours) == PARAM_COUNT.count_parameters(theirs) == 61_100_840
    assert PARAM_COUNT.parameters_per_layer(ours) == PARAM_COUNT.parameters_per_layer(theirs)


@CI
@given(parameter_counting.model_specs())
def test_random_models_build_and_shared_or_tied_weights_count_once(spec) -> None:  # type: ignore[no-untyped-def]
    model = build_model(spec)
    unique = {id(p): p.numel() for m in model.modules() for p in m.parameters(recurse=False)}
    assert PARAM_COUNT.count_parameters(model) == sum(unique.values())


@CI
@given(conv2d.single_channel_calls(max_size=10, max_kernel=5, max_stride=4, max_padding=3))
def test_torch_oracle_equals_reference_single_channel(call) -> None:  # type: ignore[no-untyped-def]
    torch.testing.assert_close(CONV.conv2d(*call.args, **call.kwargs), conv2d.torch_conv2d(*call.args, **call.kwargs))


@CI
@given(conv2d.layer_calls())
def test_torch_oracle_equals_reference_layer(call) -> None:  # type: ignore[no-untyped-def]
    torch.testing.assert_close(CONV.conv2d_layer(*call.args, **call.kwargs),
                               conv2d.torch_conv2d_layer(*call.args, **call.kwargs))


@CI
@given(attention.attention_calls(max_n=6, max_d=6))
def test_torch_oracle_equals_reference_attention_and_masks_keep_a_key(call) -> None:  # type: ignore[no-untyped-def]
    mask = call.kwargs.get("mask")
    if mask is not None:
        assert bool(mask.any(dim=-1).all())
    expected = attention.torch_attention(*call.args, **call.kwargs)
    assert torch.isfinite(expected).all()
    torch.testing.assert_close(ATTENTION.scaled_dot_product_attention(*call.args, **call.kwargs), expected)


def test_every_exercise_of_config_has_a_checks_module(basics) -> None:  # type: ignore[no-untyped-def]
    from grader.loading import load_checks

    for exercise in basics.exercises:
        declared = load_checks(basics, exercise)
        assert set(declared) == {c.id for c in exercise.checks}
        assert all(spec.description for spec in declared.values())


def test_mistake_catalogue_has_three_per_exercise_with_hints(basics) -> None:  # type: ignore[no-untyped-def]
    from grader.loading import load_mistakes

    for exercise in basics.exercises:
        mistakes = load_mistakes(basics, exercise)
        assert len(mistakes) >= 3, exercise.id
        assert len({m.id for m in mistakes}) == len(mistakes)
        assert all(m.hint.strip().endswith((".", ")")) for m in mistakes)


def test_skeletons_keep_todos_and_the_reference_has_none(basics) -> None:  # type: ignore[no-untyped-def]
    import yaml

    for path in sorted((REPO / "student_templates" / "basics").glob("*.py")):
        assert "# TODO" in path.read_text(), path.name
    for path in sorted((REPO / "reference" / "basics").glob("*.py")):
        assert "TODO" not in path.read_text() and "NotImplementedError" not in path.read_text(), path.name
    keys = {a.key for e in basics.exercises for a in e.answers} | {k for e in basics.exercises for k in e.free_text}
    shipped = yaml.safe_load((REPO / "student_templates" / "basics" / "answers.yaml").read_text())
    assert shipped == dict.fromkeys(keys)
    solved = yaml.safe_load((REPO / "reference" / "basics" / "answers.yaml").read_text())
    assert set(solved) == keys and None not in solved.values()
