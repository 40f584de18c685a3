"""Catalogued mistakes for Exercise 5 (``transformer_layer``): the class ``TransformerLayer``.

Each variant is a class with the constructor ``(d_model, n_heads, d_ff)`` and the
submodules of the corrected layer: the corrected layer (``_Layer``, a copy written here
because mistake modules never import the reference) with exactly one bug put back. The
first six are the sheet's five bugs and its ``.view`` on a permuted tensor, one at a
time; ``mask_not_broadcast`` stands for the (B, T) mask that was never broadcast to the
keys, broadcast to the queries instead so that it runs. Then ``pre_ln``, the other order
of residuals and LayerNorms, and three classic slips of the same kind.

What the checks need so that every variant differs from the reference (with the
reference's weights loaded into it):

* n_heads >= 2 and T >= 2: ``view_on_permuted`` raises then (it works for one head or one
  token), ``scaled_by_sqrt_d_model`` differs only then, and ``heads_split_without_permute``
  mixes tokens only then;
* masks with at least one 0: ``mask_filled_with_zero``, ``mask_not_broadcast`` (the whole
  row of a masked query becomes nan) and ``mask_used_as_given`` depend on them;
  ``mask_used_as_given`` also needs B >= 2 (for B == 1 it is correct; otherwise it raises
  unless B == T, where each query i gets the mask of sequence i);
* d_ff != d_model: ``ff2_wrong_shape`` and ``layernorm_over_d_ff`` raise then, already in
  ``load_state_dict`` (the shapes of ff2 resp. ln1/ln2 differ from the reference's), and
  in ``forward`` with their own weights;
* at least one sequence with two or more keys allowed: with a single key, that key takes
  all the weight whatever the scale (``no_scaling``, ``scaled_by_sqrt_d_model``).

``pre_ln`` differs on every input; ``mask_bool_only`` (``~mask``, which works for a
boolean mask only) raises on the 0/1 integer masks the layer must accept too.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from grader.catalogue import Mistake


class _Layer(nn.Module):
    """The corrected layer, split into the steps that the variants change."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_head = d_model // n_heads

        self.W_q = nn.Linear(d_model, d_model, bias=False)
        self.W_k = nn.Linear(d_model, d_model, bias=False)
        self.W_v = nn.Linear(d_model, d_model, bias=False)
        self.W_o = nn.Linear(d_model, d_model)

        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)

        self.ln1 = nn.LayerNorm(d_model)
        self.ln2 = nn.LayerNorm(d_model)

    def _split_heads(self, t: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, n_heads, T, d_head)."""
        B, T, _ = t.shape
        return t.view(B, T, self.n_heads, self.d_head).permute(0, 2, 1, 3)

    def _merge_heads(self, t: torch.Tensor) -> torch.Tensor:
        """(B, n_heads, T, d_head) -> (B, T, D)."""
        B, _, T, _ = t.shape
        return t.permute(0, 2, 1, 3).reshape(B, T, self.d_model)

    def _scale(self) -> float:
        return math.sqrt(self.d_head)

    def _apply_mask(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return scores.masked_fill((mask == 0)[:, None, None, :], float("-inf"))

    def _attention(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        q = self._split_heads(self.W_q(x))
        k = self._split_heads(self.W_k(x))
        v = self._split_heads(self.W_v(x))
        scores = q @ k.transpose(-1, -2) / self._scale()
        if mask is not None:
            scores = self._apply_mask(scores, mask)
        return self.W_o(self._merge_heads(F.softmax(scores, dim=-1) @ v))

    def _feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ff2(F.relu(self.ff1(x)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.ln1(x + self._attention(x, mask))
        return self.ln2(x + self._feed_forward(x))


class _NoScaling(_Layer):
    def _scale(self) -> float:
        return 1.0


class _MaskFilledWithZero(_Layer):
    def _apply_mask(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return scores.masked_fill((mask == 0)[:, None, None, :], 0.0)


class _MaskNotBroadcast(_Layer):
    # (B, 1, T, 1): the mask lands on the query axis, hiding whole rows of scores.
    def _apply_mask(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return scores.masked_fill((mask == 0)[:, None, :, None], float("-inf"))


class _MaskBoolOnly(_Layer):
    # ~mask is "not" for a boolean mask, but -2 and -1 for a 0/1 integer one.
    def _apply_mask(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return scores.masked_fill(~mask[:, None, None, :], float("-inf"))


class _FF2WrongShape(_Layer):
    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__(d_model, n_heads, d_ff)
        self.ff2 = nn.Linear(d_model, d_ff)


class _LayerNormOverDFF(_Layer):
    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__(d_model, n_heads, d_ff)
        self.ln1 = nn.LayerNorm(d_ff)
        self.ln2 = nn.LayerNorm(d_ff)


class _ViewOnPermuted(_Layer):
    def _merge_heads(self, t: torch.Tensor) -> torch.Tensor:
        B, _, T, _ = t.shape
        return t.permute(0, 2, 1, 3).view(B, T, self.d_model)


class _PreLN(_Layer):
    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self._attention(self.ln1(x), mask)
        return x + self._feed_forward(self.ln2(x))


class _MaskUsedAsGiven(_Layer):
    # The sheet's (B, T) mask against (B, n_heads, T, T) scores: broadcasting aligns it
    # with the last two axes, (query, key), instead of (batch, key).
    def _apply_mask(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return scores.masked_fill(mask == 0, float("-inf"))


class _ScaledBySqrtDModel(_Layer):
    def _scale(self) -> float:
        return math.sqrt(self.d_model)


class _HeadsSplitWithoutPermute(_Layer):
    # view(B, n_heads, T, d_head) straight away: a "head" gets slices of several tokens.
    def _split_heads(self, t: torch.Tensor) -> torch.Tensor:
        B, T, _ = t.shape
        return t.view(B, self.n_heads, T, self.d_head)

    def _merge_heads(self, t: torch.Tensor) -> torch.Tensor:
        B, _, T, _ = t.shape
        return t.reshape(B, T, self.d_model)


MISTAKES: list[Mistake] = [
    Mistake(
        id="no_scaling",
        function="TransformerLayer",
        hint=(
            "Your layer does not scale the attention scores: divide q k^T by sqrt(d_head) "
            "before the softmax, or large scores saturate it."
        ),
        impl=_NoScaling,
        nudge=(
            "Look at the attention scores just before the softmax, and compare them with the "
            "formula of scaled dot-product attention."
        ),
    ),
    Mistake(
        id="mask_filled_with_zero",
        function="TransformerLayer",
        hint=(
            "Masked scores set to 0 still get weight exp(0) > 0 after the softmax; fill them "
            "with -inf (float('-inf')) so that a padding key gets no weight at all."
        ),
        impl=_MaskFilledWithZero,
        nudge=(
            "Look at the value the masked scores are filled with, and at what the softmax "
            "makes of it."
        ),
    ),
    Mistake(
        id="mask_not_broadcast",
        function="TransformerLayer",
        hint=(
            "Your mask hides query rows (shape (B, 1, T, 1)), so a padding query's row is all "
            "-inf and turns into nan; the (B, T) mask marks keys and must become (B, 1, 1, T), "
            "e.g. mask[:, None, None, :]."
        ),
        impl=_MaskNotBroadcast,
        nudge=(
            "Look at the shape the mask has when it meets the (B, n_heads, T, T) scores: "
            "which axis does it hide?"
        ),
    ),
    Mistake(
        id="ff2_wrong_shape",
        function="TransformerLayer",
        hint=(
            "ff2 must map back from d_ff to d_model, nn.Linear(d_ff, d_model); otherwise it "
            "cannot take ff1's output and x + ff has mismatched shapes."
        ),
        impl=_FF2WrongShape,
        raises=r"mat1 and mat2 shapes cannot be multiplied|size mismatch for ff2",
        nudge="Look at the input and output sizes of the two feed-forward layers.",
    ),
    Mistake(
        id="layernorm_over_d_ff",
        function="TransformerLayer",
        hint=(
            "ln1 and ln2 normalise x, whose last dimension is d_model; nn.LayerNorm's size must "
            "match it: nn.LayerNorm(d_model), not d_ff."
        ),
        impl=_LayerNormOverDFF,
        raises=r"normalized_shape|size mismatch for ln",
        nudge="Look at the size that ln1 and ln2 normalise over.",
    ),
    Mistake(
        id="view_on_permuted",
        function="TransformerLayer",
        hint=(
            "After permute the heads are no longer laid out in memory as (B, T, d_model), so "
            ".view fails; merge them with .reshape(B, T, D) or .contiguous().view(B, T, D)."
        ),
        impl=_ViewOnPermuted,
        raises=r"view size is not compatible",
        nudge="Look at the line that merges the heads back into (B, T, d_model) after a permute.",
    ),
    Mistake(
        id="pre_ln",
        function="TransformerLayer",
        hint=(
            "Your layer normalises before each block (pre-LN); this one is post-LN: "
            "x = ln1(x + W_o(attn)), then x = ln2(x + ff2(relu(ff1(x)))), so the output is "
            "the second LayerNorm's."
        ),
        impl=_PreLN,
        nudge="Look at the order of the residual connections and the LayerNorms in forward.",
    ),
    Mistake(
        id="mask_used_as_given",
        function="TransformerLayer",
        hint=(
            "The (B, T) mask is used against the (B, n_heads, T, T) scores as it is, so "
            "broadcasting lines it up with the (query, key) axes; reshape it to (B, 1, 1, T) "
            "first, e.g. mask[:, None, None, :]."
        ),
        impl=_MaskUsedAsGiven,
        raises=r"must match the size of tensor",
        nudge="Look at the shape the mask has when it meets the (B, n_heads, T, T) scores.",
    ),
    Mistake(
        id="scaled_by_sqrt_d_model",
        function="TransformerLayer",
        hint=(
            "Your scores are divided by sqrt(d_model); each head's dot products have d_head "
            "terms, so the scale is sqrt(d_head) = sqrt(d_model // n_heads)."
        ),
        impl=_ScaledBySqrtDModel,
        nudge=(
            "Look at the number the scores are divided by: over which dimension does one "
            "head's dot product run?"
        ),
    ),
    Mistake(
        id="heads_split_without_permute",
        function="TransformerLayer",
        hint=(
            "Your heads are cut with view(B, n_heads, T, d_head) directly, which mixes the "
            "features of different tokens; view as (B, T, n_heads, d_head) and then permute "
            "to (B, n_heads, T, d_head)."
        ),
        impl=_HeadsSplitWithoutPermute,
        nudge="Look at how q, k and v are split into heads: which axis ends up next to T?",
    ),
    Mistake(
        id="mask_bool_only",
        function="TransformerLayer",
        hint=(
            "The mask may be boolean or 0/1 integers: ~mask is 'not' only for a boolean tensor. "
            "Compare instead, mask == 0 (True where a key is hidden), which works for both."
        ),
        impl=_MaskBoolOnly,
        raises=r"masked_fill_? only supports boolean masks",
        nudge=(
            "Look at how the mask is turned into the positions to hide, for a mask of 0/1 "
            "integers."
        ),
    ),
]
