"""Ex. 5: debugging a transformer encoder layer.

The skeleton is the sheet's buggy layer. Each check isolates what one fix repairs, so that
fixing the bugs one at a time (shapes first: nothing runs before) raises the score step by
step: the feed-forward and LayerNorm shapes, one head, several heads (the ``.view`` on a
permuted tensor), masked keys (filled with -inf, broadcast over the key axis), and, hidden,
agreement with the reference layer given the same weights (the missing 1/sqrt(d_head)).
The student's layer is built in the worker and kept there behind a handle; weights cross
the boundary as a state dict of tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import strategies as st

from grader.catalogue import Mistake
from grader.checks import Call, Context, Remote, check
from grader.checks.compare import compare, compare_shape
from grader.checks.strategies import masks, tensors

CLASS = "TransformerLayer"


@dataclass(frozen=True)
class LayerCase:
    """A layer size, an input and a mask (or None), described for feedback."""

    d_model: int
    n_heads: int
    d_ff: int
    x: torch.Tensor
    mask: torch.Tensor | None = None

    def describe(self) -> str:
        mask = "None" if self.mask is None else Call((self.mask,), {}, ("mask",)).describe().removeprefix("mask = ")
        return (f"TransformerLayer(d_model={self.d_model}, n_heads={self.n_heads}, d_ff={self.d_ff}), "
                f"x of shape {tuple(self.x.shape)}, mask = {mask}")

    @property
    def sizes(self) -> Call:
        return Call((self.d_model, self.n_heads, self.d_ff), {}, ("d_model", "n_heads", "d_ff"))


@st.composite
def layer_cases(draw: st.DrawFn, heads: tuple[int, ...] = (1,), masked: bool = False,
                batch: tuple[int, int] = (1, 2), min_tokens: int = 1, integer_masks: bool = False) -> LayerCase:
    """A layer size, an input and, when ``masked``, a boolean mask (or, with ``integer_masks``,
    either that or the same mask as 0/1 integers, which the contract allows too)."""
    n_heads = draw(st.sampled_from(heads))
    d_model = n_heads * draw(st.integers(1, 3))
    d_ff = draw(st.integers(1, 6))
    b, t = draw(st.integers(*batch)), draw(st.integers(min_tokens, 4))
    x = draw(tensors((b, t, d_model)))
    if not masked:
        return LayerCase(d_model, n_heads, d_ff, x)
    mask = draw(masks((b, t)))
    return LayerCase(d_model, n_heads, d_ff, x, mask.long() if integer_masks and draw(st.booleans()) else mask)


def expected_shapes(d_model: int, d_ff: int) -> dict[str, tuple[int, ...]]:
    """The contract of exercises.md: names and shapes of every parameter."""
    d = d_model
    return {"W_q.weight": (d, d), "W_k.weight": (d, d), "W_v.weight": (d, d), "W_o.weight": (d, d),
            "W_o.bias": (d,), "ff1.weight": (d_ff, d), "ff1.bias": (d_ff,), "ff2.weight": (d, d_ff),
            "ff2.bias": (d,), "ln1.weight": (d,), "ln1.bias": (d,), "ln2.weight": (d,), "ln2.bias": (d,)}


def build(ctx: Context, case: LayerCase) -> Remote:
    """The student's layer for this case, in the worker (its own seeded initial weights)."""
    layer = ctx.call(CLASS, case.sizes)
    if not isinstance(layer, Remote):
        raise ctx.failure(CLASS, case.sizes, f"TransformerLayer(...) gave {type(layer).__name__}, not a module")
    return layer


def forward(layer: Remote, x: torch.Tensor, mask: torch.Tensor | None) -> Any:
    return layer(Call((x,), {} if mask is None else {"mask": mask}, ("x",)))


def shapes_check(ctx: Context, prefixes: tuple[str, ...]) -> None:
    def body(case: LayerCase) -> None:
        state = build(ctx, case).call("state_dict")
        got = {k: tuple(v.shape) for k, v in state.items() if isinstance(v, torch.Tensor)} if isinstance(state, dict) else {}
        for name, shape in expected_shapes(case.d_model, case.d_ff).items():
            if name.startswith(prefixes) and got.get(name) != shape:
                found = "is missing" if name not in got else f"has shape {got[name]}"
                raise ctx.failure(CLASS, case.sizes, f"{name} {found}, expected {shape} for d_model={case.d_model}, "
                                  f"d_ff={case.d_ff}", mistake=_shape_mistake(ctx, case, name, got.get(name)))

    ctx.for_all(CLASS, layer_cases(heads=(1, 2)), body, max_examples=5)


def _shape_mistake(ctx: Context, case: LayerCase, name: str, shape: tuple[int, ...] | None) -> Mistake | None:
    """The one catalogued variant that gives parameter ``name`` the student's wrong ``shape``."""
    if shape is None:
        return None

    def variant_shape(mistake: Mistake) -> torch.Tensor:
        return torch.tensor(mistake.impl(case.d_model, case.n_heads, case.d_ff).state_dict()[name].shape)

    return ctx.sole_mistake(CLASS, torch.tensor(shape), variant_shape)


@check("feed_forward_shapes", "ff1 maps d_model -> d_ff and ff2 maps d_ff -> d_model (and the projections are d x d)")
def feed_forward_shapes(ctx: Context) -> None:
    shapes_check(ctx, ("W_", "ff"))


@check("layernorm_shapes", "ln1 and ln2 normalise over d_model")
def layernorm_shapes(ctx: Context) -> None:
    shapes_check(ctx, ("ln",))


@dataclass(frozen=True)
class Permuted:
    """A layer case and a permutation of its tokens."""

    case: LayerCase
    perm: list[int]

    def describe(self) -> str:
        return f"{self.case.describe()}, perm = {self.perm}"


@st.composite
def _case_and_permutation(draw: st.DrawFn, heads: tuple[int, ...]) -> tuple[LayerCase, list[int]]:
    case = draw(layer_cases(heads=heads, min_tokens=2))
    return case, draw(st.permutations(list(range(case.x.shape[1]))))


def permuted_cases(heads: tuple[int, ...]) -> st.SearchStrategy[Permuted]:
    """Layer cases of at least two tokens, without a mask, each with a permutation of its tokens."""
    return _case_and_permutation(heads).map(lambda pair: Permuted(*pair))


def equivariance(ctx: Context, heads: tuple[int, ...]) -> None:
    def body(example: Permuted) -> None:
        case, perm = example.case, example.perm
        layer = build(ctx, case)
        out = forward(layer, case.x, None)
        shape = compare_shape(out, tuple(case.x.shape))
        if not shape.ok:
            raise ctx.failure(CLASS, case, f"forward(x) returned {shape.summary}")
        moved = forward(layer, case.x[:, perm], None)
        verdict = compare(moved, out[:, perm], rtol=1e-4, atol=1e-4)
        if not verdict.ok:
            raise ctx.failure(CLASS, case, f"layer(x[:, perm]) != layer(x)[:, perm] for perm = {perm}: "
                              f"{verdict.summary}", verdict.details)

    ctx.for_all(CLASS, permuted_cases(heads), body, max_examples=10)


@check("single_head_equivariant", "with one head and no mask, permuting the tokens permutes the output")
def single_head_equivariant(ctx: Context) -> None:
    equivariance(ctx, (1,))


@check("multi_head_equivariant", "with 2 or 4 heads and no mask, the layer runs and is permutation equivariant")
def multi_head_equivariant(ctx: Context) -> None:
    equivariance(ctx, (2, 4))


def masked_keys_check(ctx: Context, batch: tuple[int, int]) -> None:
    """Changing the tokens at masked key positions must not change the other tokens' outputs."""

    def body(case: LayerCase) -> None:
        assert case.mask is not None
        hidden = ~case.mask.bool()
        if not bool(hidden.any()):
            return
        layer = build(ctx, case)
        out = forward(layer, case.x, case.mask)
        changed_x = torch.where(hidden[..., None], case.x + 1.5, case.x)
        moved = forward(layer, changed_x, case.mask)
        if not (isinstance(out, torch.Tensor) and isinstance(moved, torch.Tensor) and out.shape == case.x.shape):
            raise ctx.failure(CLASS, case, "forward(x, mask) did not return a tensor shaped like x")
        keep = case.mask.bool()[..., None].expand_as(out)
        verdict = compare(moved[keep], out[keep], rtol=1e-4, atol=1e-4)
        if not verdict.ok:
            raise ctx.failure(
                CLASS, case, "changing the tokens at masked key positions changed the output of the other tokens: "
                f"masked keys still get attention weight ({verdict.summary})",
                hint="Masked scores must be -inf before the softmax, and a (B, T) mask must cover the key axis "
                     "of the (B, heads, T, T) scores: mask[:, None, None, :].",
                nudge="Look at the masking: what the masked scores are filled with, and which axis of the "
                      "(B, heads, T, T) scores the mask lines up with.")

    ctx.for_all(CLASS, layer_cases(masked=True, batch=batch, min_tokens=2, integer_masks=True), body, max_examples=15)


@check("masked_keys_get_no_weight", "with a mask of one sequence, masked keys get no attention weight")
def masked_keys_get_no_weight(ctx: Context) -> None:
    masked_keys_check(ctx, (1, 1))


@check("mask_per_sequence", "with a batch of sequences, each sequence's own mask applies to its keys")
def mask_per_sequence(ctx: Context) -> None:
    masked_keys_check(ctx, (2, 3))


@st.composite
def reference_cases(draw: st.DrawFn) -> LayerCase:
    """Layer cases of 1, 2 or 4 heads and batches of up to 3 sequences, half of them masked."""
    return draw(layer_cases(heads=(1, 2, 4), masked=draw(st.booleans()), batch=(1, 3)))


@check("matches_reference", "with the reference's weights loaded, the output equals the reference layer's")
def matches_reference(ctx: Context) -> None:
    def body(case: LayerCase) -> None:
        torch.manual_seed(case.d_model * 100 + case.d_ff)
        reference = ctx.reference.TransformerLayer(case.d_model, case.n_heads, case.d_ff).eval()
        state = {k: v.detach().clone() for k, v in reference.state_dict().items()}
        layer = build(ctx, case)
        layer.call("load_state_dict", Call((state,), {}, ("state_dict",)))
        layer.call("eval")
        got = forward(layer, case.x, case.mask)
        with torch.no_grad():
            expected = reference(case.x, case.mask) if case.mask is not None else reference(case.x)
        verdict = compare(got, expected, rtol=1e-4, atol=1e-4)
        if not verdict.ok:
            raise ctx.failure(CLASS, case, f"the output differs from the reference layer's with the same weights: "
                              f"{verdict.summary}", verdict.details, mistake=_output_mistake(ctx, case, state, got))

    ctx.for_all(CLASS, reference_cases(), body, max_examples=20)


def _output_mistake(ctx: Context, case: LayerCase, state: dict[str, torch.Tensor], got: Any) -> Mistake | None:
    """The one catalogued variant that, with the same weights, outputs what the student's did."""

    def variant_output(mistake: Mistake) -> Any:
        layer = mistake.impl(case.d_model, case.n_heads, case.d_ff)
        layer.load_state_dict(state)
        with torch.no_grad():
            return layer.eval()(case.x, case.mask) if case.mask is not None else layer.eval()(case.x)

    return ctx.sole_mistake(CLASS, got, variant_output, atol=1e-4)
