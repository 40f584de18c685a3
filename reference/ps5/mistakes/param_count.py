"""Catalogued mistakes for Exercise 6 (``param_count``): ``transformer_layer_params``.

The correct count is 4 D^2 + 2 D d_ff + d_ff + 6 D. Each variant is off by a term of its
own (-4D, -2D, +3D, -d_ff, -D), so they differ from the reference, and from each other,
for every size except a few coincidences: at d_ff = 4D (the sheet's 128 / 512)
``layernorm_forgotten`` and ``ff_hidden_bias_forgotten`` give the same number, at
d_ff = 2D ``layernorm_counted_once`` and ``ff_hidden_bias_forgotten`` do, and at d_ff = D
``output_bias_forgotten`` and ``ff_hidden_bias_forgotten`` do. Checks that want to name
the mistake should draw other sizes as well.
"""

from grader.catalogue import Mistake


def _layernorm_forgotten(d_model: int, d_ff: int) -> int:
    D = d_model
    return 3 * D * D + (D * D + D) + (D * d_ff + d_ff) + (d_ff * D + D)


def _layernorm_counted_once(d_model: int, d_ff: int) -> int:
    D = d_model
    return 3 * D * D + (D * D + D) + (D * d_ff + d_ff) + (d_ff * D + D) + 2 * D


def _qkv_biases_counted(d_model: int, d_ff: int) -> int:
    # As if W_q, W_k, W_v had biases, like W_o: the sheet's 198272 at 128 / 512.
    D = d_model
    return 4 * (D * D + D) + (D * d_ff + d_ff) + (d_ff * D + D) + 4 * D


def _ff_hidden_bias_forgotten(d_model: int, d_ff: int) -> int:
    D = d_model
    return 3 * D * D + (D * D + D) + D * d_ff + (d_ff * D + D) + 4 * D


def _output_bias_forgotten(d_model: int, d_ff: int) -> int:
    D = d_model
    return 4 * D * D + (D * d_ff + d_ff) + (d_ff * D + D) + 4 * D


MISTAKES: list[Mistake] = [
    Mistake(
        id="layernorm_forgotten",
        function="transformer_layer_params",
        hint=(
            "Your count leaves out the LayerNorms: each has a learnable scale and shift of size "
            "d_model, so the two add 4 * d_model parameters."
        ),
        impl=_layernorm_forgotten,
    ),
    Mistake(
        id="layernorm_counted_once",
        function="transformer_layer_params",
        hint=(
            "Your count has 2 * d_model for the LayerNorms; there are two of them (ln1 and "
            "ln2), each with a scale and a shift of size d_model: 4 * d_model in all."
        ),
        impl=_layernorm_counted_once,
    ),
    Mistake(
        id="qkv_biases_counted",
        function="transformer_layer_params",
        hint=(
            "Your count gives W_q, W_k and W_v biases; in this layer they are "
            "Linear(d_model, d_model, bias=False), and only W_o and the feed-forward layers "
            "have a bias."
        ),
        impl=_qkv_biases_counted,
    ),
    Mistake(
        id="ff_hidden_bias_forgotten",
        function="transformer_layer_params",
        hint=(
            "Your count is missing the bias of ff1: Linear(d_model, d_ff) has d_model * d_ff "
            "weights and d_ff biases."
        ),
        impl=_ff_hidden_bias_forgotten,
    ),
    Mistake(
        id="output_bias_forgotten",
        function="transformer_layer_params",
        hint=(
            "Your count is missing the bias of the output projection W_o, "
            "Linear(d_model, d_model) with bias: d_model^2 + d_model parameters."
        ),
        impl=_output_bias_forgotten,
    ),
]
