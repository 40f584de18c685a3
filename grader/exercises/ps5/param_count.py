"""Ex. 6: the parameter count of the corrected transformer layer, as a formula in code.

Public: the sheet's value at d_model = 128, d_ff = 512. Hidden: the formula equals the real
parameter count of the reference layer for many sizes (the student's own layer is not used).
"""

from __future__ import annotations

from hypothesis import strategies as st

from grader.checks import Call, Context, check

FUNCTION = "transformer_layer_params"
# Layer sizes for the formula: d_model up to 96, d_ff up to 256.
SIZE_CALLS = st.tuples(st.integers(1, 96), st.integers(1, 256)).map(lambda s: Call(s, {}, ("d_model", "d_ff")))


@check("sheet_value", "transformer_layer_params(128, 512) is the sheet's 197888")
def sheet_value(ctx: Context) -> None:
    ctx.expect(FUNCTION, Call((128, 512), {}, ("d_model", "d_ff")), 197888)


@check("matches_real_count", "the formula equals the parameter count of the reference layer for every size")
def matches_real_count(ctx: Context) -> None:
    def real_count(d_model: int, d_ff: int) -> int:
        layer = ctx.reference.TransformerLayer(d_model, 1, d_ff)
        return sum(p.numel() for p in layer.parameters())

    ctx.agree(FUNCTION, SIZE_CALLS, real_count)
