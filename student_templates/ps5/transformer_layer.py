"""Exercises 5 and 6 - Debugging Transformers; counting parameters in a Transformer layer.

From the exercise sheet, Exercise 5:

    Below is a PyTorch implementation of a single Transformer encoder layer. It is
    supposed to implement multi-head self-attention, a feed-forward MLP, residual (skip)
    connections, and LayerNorm.

    1. The code snippet below contains five conceptual and implementation mistakes (shape
       issues, wrong dimensions, missing scaling, etc.). Identify them and explain why
       each is wrong.
    2. Propose a corrected version of the layer. Specify
       - the correct shapes of q, k, v and the attention output,
       - where the scaling by sqrt(d_head) is applied,
       - how the mask is applied to the attention scores,
       - the correct order of residual connections and LayerNorms,
       - the correct dimensions of the feed-forward layers and LayerNorms.

Exercise 6:

    Give a formula for the number of parameters in the transformer layer from the previous
    question. Evaluate the formula for d_model = 128 and d_ff = 512.

The class ``TransformerLayer`` below is the sheet's ``BuggyTransformerLayer``, renamed and
otherwise unchanged. Fix it in place so that it does what its docstring says, keeping the
names of its submodules: the grader loads the reference layer's weights into yours with
``load_state_dict`` and compares the outputs. Besides the sheet's five mistakes there is a
sixth line that fails as soon as the sequence has more than one token and the layer more
than one head; ``python3 transformer_layer.py`` will show you which. Write your answers to
the questions of part 1 and 2 as comments next to your fixes.

For Exercise 6, implement ``transformer_layer_params`` and write its value for
d_model = 128, d_ff = 512 in ``answers.yaml`` (key ``transformer_params_d128_ff512``).
"""

import torch
import torch.nn.functional as F
from torch import nn


class TransformerLayer(nn.Module):
    """A Transformer encoder layer: multi-head self-attention and a feed-forward MLP, each
    followed by a residual connection and a LayerNorm (post-LN).

    Contract of the corrected layer:

    * ``d_model`` is divisible by ``n_heads``; every head has ``d_head = d_model // n_heads``
      dimensions.
    * Submodules: ``W_q``, ``W_k``, ``W_v`` (``Linear(d_model, d_model, bias=False)``),
      ``W_o`` (``Linear(d_model, d_model)``), ``ff1`` (``d_model -> d_ff``), ``ff2``
      (``d_ff -> d_model``), ``ln1`` and ``ln2`` (``LayerNorm`` over the model dimension).
    * ``forward(x, mask=None)``: x has shape ``(B, T, d_model)`` (B sequences of T
      tokens). ``mask`` is ``None`` (every token may attend to every token) or a tensor of
      shape ``(B, T)``, True/1 where a *key* may be attended and False/0 where it is
      padding: a masked key gets no attention weight at all, from any query in any head.
      Every sequence keeps at least one key.
    * In each head, the attention scores ``q k^T`` are divided by ``sqrt(d_head)`` before
      the softmax over the keys.
    * Post-LN order: ``x = ln1(x + W_o(attn))``, then ``x = ln2(x + ff2(relu(ff1(x))))``.
    * The output has the shape of x.
    """

    # TODO (Exercise 5): find and fix the bugs in __init__ and forward: the sheet's five
    # mistakes and the line that cannot work on a permuted tensor.
    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_head = d_model // n_heads

        self.W_q = nn.Linear(d_model, d_model, bias=False)
        self.W_k = nn.Linear(d_model, d_model, bias=False)
        self.W_v = nn.Linear(d_model, d_model, bias=False)
        self.W_o = nn.Linear(d_model, d_model)

        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_model, d_ff)

        self.ln1 = nn.LayerNorm(d_ff)
        self.ln2 = nn.LayerNorm(d_ff)

    def forward(self, x, mask=None):
        B, T, D = x.shape

        q = self.W_q(x)
        k = self.W_k(x)
        v = self.W_v(x)

        q = q.view(B, T, self.n_heads, self.d_head).permute(0, 2, 1, 3)
        k = k.view(B, T, self.n_heads, self.d_head).permute(0, 2, 1, 3)
        v = v.view(B, T, self.n_heads, self.d_head).permute(0, 2, 1, 3)

        attn_scores = torch.matmul(q, k.transpose(-1, -2))

        if mask is not None:
            attn_scores = attn_scores.masked_fill(mask == 0, 0.0)

        attn_weights = F.softmax(attn_scores, dim=-1)
        attn = torch.matmul(attn_weights, v)

        attn = attn.permute(0, 2, 1, 3)
        attn = attn.view(B, T, D)

        x = x + self.W_o(attn)
        x = self.ln1(x)

        ff = self.ff1(x)
        ff = F.relu(ff)
        ff = self.ff2(ff)

        x = x + ff
        x = self.ln2(x)
        return x


def transformer_layer_params(d_model: int, d_ff: int) -> int:
    """Return the number of parameters of the corrected ``TransformerLayer``.

    Exercise 6: give a formula for the number of parameters in the transformer layer from
    the previous question (the corrected one: W_q, W_k, W_v without bias, W_o and the
    feed-forward linears with bias, two LayerNorms with their scale and shift).

    Args:
        d_model: the model dimension D.
        d_ff: the hidden dimension of the feed-forward MLP.

    Returns:
        The count as a Python ``int``, from your formula (not by building a layer). It does
        not depend on the number of heads: why?
    """
    # TODO (Exercise 6): count the weights and biases of every submodule and add them up.
    raise NotImplementedError("transformer_layer_params: fill in the TODO in transformer_layer.py")


if __name__ == "__main__":
    torch.manual_seed(0)
    layer = TransformerLayer(d_model=128, n_heads=8, d_ff=512)
    x = torch.randn(2, 5, 128)
    # Sequence 0 has 5 real tokens; sequence 1 has 3 and two padding positions.
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])

    try:
        y = layer(x)
    except RuntimeError as exc:
        print("the layer fails on x of shape (2, 5, 128) without a mask:")
        print("  ", str(exc).splitlines()[0])
    else:
        print("output shape without a mask:", tuple(y.shape), "(expected (2, 5, 128))")
        # Exercise 2: without positional encodings the layer is permutation equivariant.
        perm = torch.randperm(5)
        print("permuting the tokens permutes the output:",
              torch.allclose(layer(x[:, perm]), y[:, perm], atol=1e-5))

    try:
        y = layer(x, mask)
    except RuntimeError as exc:
        print("the layer fails with a padding mask of shape (2, 5):")
        print("  ", str(exc).splitlines()[0])
    else:
        # Padding keys must get no weight: changing them leaves the real tokens' outputs alone.
        x_changed = x.clone()
        x_changed[1, 3:] = torch.randn(2, 128)
        unchanged = torch.allclose(layer(x_changed, mask)[1, :3], y[1, :3], atol=1e-5)
        print("outputs of the real tokens ignore the padding:", unchanged)

    yours = sum(p.numel() for p in layer.parameters())
    print(f"your layer (d_model = 128, d_ff = 512) has {yours:,} parameters")
    try:
        count = transformer_layer_params(128, 512)
    except NotImplementedError:
        print(
            "transformer_layer_params is not implemented yet: "
            "fill in the TODO in transformer_layer.py."
        )
    else:
        print(f"transformer_layer_params(128, 512) = {count:,}")
