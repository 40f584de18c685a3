"""The checks library: how a check is declared, run, and how it compares and explains.

An exercise module (``grader/exercises/<assignment>/<exercise>.py``) declares its checks::

    from grader.checks import Call, Context, check

    @check("matches_torch", "agrees with F.scaled_dot_product_attention")
    def matches_torch(ctx: Context) -> None:
        ctx.agree("scaled_dot_product_attention", attention_calls(), oracle=torch_attention)

Points and visibility come from config.yaml, matched by the check id. The modules, by job:
:mod:`~grader.checks.context` (the verbs a check uses), :mod:`~grader.checks.student` (the
proxy to the worker) with :mod:`~grader.checks.remote`, :mod:`~grader.checks.driver` (the
hypothesis runs), :mod:`~grader.checks.diagnosis` (naming a catalogued mistake),
:mod:`~grader.checks.compare`, :mod:`~grader.checks.strategies`.
"""

from grader.checks.calls import Built, Call
from grader.checks.context import Context
from grader.checks.declare import CheckSpec, check
from grader.checks.failures import CheckFailed
from grader.checks.remote import Remote
from grader.checks.student import Student

__all__ = ["Built", "Call", "CheckFailed", "CheckSpec", "Context", "Remote", "Student", "check"]
