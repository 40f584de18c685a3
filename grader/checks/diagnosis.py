"""Naming a mistake: which catalogued variant explains what the student's code returned.

A hint that names the wrong mistake misleads more than none, so a mistake is named only when
it explains every failing call seen; when several do, the student's code is asked on a few
more inputs where they disagree; when they still tie, only what they share is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grader.catalogue import Mistake
from grader.checks.calls import Call
from grader.checks.compare import compare
from grader.checks.failures import CheckFailed, Subject
from grader.errors import AbortCheck, StudentCrash

if TYPE_CHECKING:
    from grader.checks.context import Context


def explain(ctx: Context, failed: CheckFailed) -> CheckFailed:
    """The same failure with a hint, when the student's values match a catalogued mistake:
    with one candidate left it is named; with several, only what they are about, when they
    share it; else nothing."""
    if failed.subject is None or failed.feedback.hint:
        return failed
    candidates = diagnose(ctx, failed.subject, failed.evidence)
    if len(candidates) > 1:
        candidates = tell_apart(ctx, candidates, failed.subject[0], failed.probes)
    if len(candidates) == 1:
        return failed.named(candidates[0].hint, candidates[0].id)
    topics = {m.about for m in candidates}
    if len(topics) == 1 and "" not in topics:
        return failed.named(f"Your output matches {len(candidates)} known mistakes on these inputs, all in "
                            f"{topics.pop()}: look there first.", None)
    return failed


def explains(ctx: Context, mistake: Mistake, subject: Subject) -> bool | None:
    """Whether ``mistake`` returns what the student returned on ``subject``'s input.

    None when that cannot be told: another function's call, or a variant that knows no
    answer for the input (``LookupError``); a variant that crashes does not explain a value.
    """
    function, call, got = subject
    if mistake.function != function:
        return None
    try:
        return compare(got, ctx.parent_call(mistake.impl, call)).ok
    except LookupError:
        return None
    except Exception:  # a variant may crash on inputs the reference accepts, or return a module  # noqa: BLE001
        return False


def diagnose(ctx: Context, subject: Subject, evidence: tuple[Subject, ...] = ()) -> tuple[Mistake, ...]:
    """The catalogued mistakes that return the student's value on ``subject`` and explain
    every other failing call in ``evidence`` that they can be judged on."""
    found = [m for m in ctx.mistakes if explains(ctx, m, subject)]
    for other in evidence:
        found = [m for m in found if explains(ctx, m, other) is not False]
    return tuple(found)


def tell_apart(ctx: Context, candidates: tuple[Mistake, ...], function: str, probes: Callable[[], list[Any]],
               most: int = 3) -> tuple[Mistake, ...]:
    """Keep the candidates that agree with the student's code on the first few ``probes``
    where they disagree with each other (at most ``most`` more calls into the student's code)."""
    asked = 0
    for probe in probes():
        if len(candidates) < 2 or asked == most:
            break
        if not isinstance(probe, Call):
            continue
        outputs = []
        for mistake in candidates:
            try:
                outputs.append(ctx.parent_call(mistake.impl, probe))
            except Exception:  # a variant that crashes here cannot be told apart by its value  # noqa: BLE001
                outputs.append(None)
        if any(o is None for o in outputs) or all(compare(o, outputs[0]).ok for o in outputs[1:]):
            continue
        asked += 1
        try:
            got = ctx.call(function, probe)
        except (Exception, AbortCheck):  # the student's code fails here: leave the candidates as they are  # noqa: BLE001
            break
        candidates = tuple(m for m, o in zip(candidates, outputs) if compare(got, o).ok)
    return candidates


def sole_mistake(ctx: Context, function: str, got: Any, replay: Callable[[Mistake], Any], *,
                 rtol: float = 1e-4, atol: float = 1e-5) -> Mistake | None:
    """The one catalogued mistake of ``function`` whose variant, run by ``replay`` on the
    failing input, gives ``got``; None when none does or several do."""
    found = []
    for mistake in ctx.mistakes:
        if mistake.function != function:
            continue
        try:
            matches = compare(got, ctx.trusted(lambda m=mistake: replay(m)), rtol, atol).ok
        except Exception:  # a variant may crash on inputs the reference accepts  # noqa: BLE001
            matches = False
        if matches:
            found.append(mistake)
    return found[0] if len(found) == 1 else None


def crash_mistake(ctx: Context, function: str, crash: StudentCrash) -> Mistake | None:
    """The catalogued mistake whose crash this is, if any.

    A mistake's crash is known by ``Mistake.raises``, or by its variant raising the very
    same error (type and message) on the call that crashed. ``function`` may be a
    method, "TransformerLayer.forward": the mistakes of any class of the exercise count
    then for ``raises`` (the instance's class may be a subclass or a renamed variant).
    """
    text = f"{crash.exc_type}: {crash.message}"
    for mistake in ctx.mistakes:
        owner = function == mistake.function or "." in function
        if mistake.raises and owner and re.search(mistake.raises, text):
            return mistake
    for mistake in ctx.mistakes:
        if crash.call is None or crash.call[0] != function or mistake.function != function:
            continue
        try:
            ctx.parent_call(mistake.impl, crash.call[1])
        except Exception as exc:  # the variant's own crash, compared with the student's  # noqa: BLE001
            if type(exc).__name__ == crash.exc_type and str(exc)[:2000] == crash.message:
                return mistake
    return None
