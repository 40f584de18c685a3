"""The checks library: how a check is declared, run, and how it compares and explains.

An exercise module (``grader/exercises/<assignment>/<exercise>.py``) declares its checks::

    from grader.checks import Call, Context, check

    @check("matches_torch", "agrees with F.scaled_dot_product_attention")
    def matches_torch(ctx: Context) -> None:
        ctx.agree("scaled_dot_product_attention", attention_calls(), oracle=torch_attention)

Points and visibility come from config.yaml, matched by the check id.
"""

from grader.checks.core import Call, CheckFailed, CheckSpec, Context, Built, Student, check

__all__ = ["Call", "CheckFailed", "CheckSpec", "Context", "Built", "Student", "check"]
