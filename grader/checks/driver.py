"""The hypothesis driver: runs a check's body on drawn examples, and keeps what failed.

Runs are reproducible: a fixed seed, no example database, no deadline. Shrinking stops after
a number of examples (a count, not a time, so that the reported input does not depend on the
machine's load): the shrinker only ever moves to a smaller failing example, so the last
failure seen is the smallest found so far, and it is a real one.

>>> found = search(st.integers(0, 9), body, seed=1, examples=25, shrink_calls=100)  # doctest: +SKIP
>>> found.passed, found.failures[-1][0]      # the smallest failing example     # doctest: +SKIP
(False, 5)
"""

from __future__ import annotations

import atexit
import copy
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Flaky

from grader.checks.failures import CheckFailed, Subject
from grader.errors import StudentCrash

# Hypothesis caches constants of local code in ./.hypothesis: a grader must leave the folder
# it was started from as it found it, so hypothesis gets a private folder for this run.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="grader-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
set_hypothesis_home_dir(_HYPOTHESIS_HOME)


def _draw_no_local_constants() -> None:
    """Make hypothesis's draws depend on the seed and the strategy alone.

    Since 6.131 hypothesis sometimes draws a literal found in the source of any "local" module
    loaded at the time. Which modules those are depends on what the process graded before
    (``--exercise``, a batch, a validation helper) and on how the grader is installed (an
    editable grader is local), so one seed would draw different inputs in each, and a report's
    reproduce line would not replay the input it shows. There is no setting for it: the one
    function that gathers them is replaced by one that finds none.
    """
    from hypothesis.internal.conjecture import providers

    if hasattr(providers, "_get_local_constants"):
        providers._get_local_constants = providers.Constants
        providers.CONSTANTS_CACHE.cache.clear()


_draw_no_local_constants()

# The inputs hypothesis generated for checks that passed, by seed, run, budget, function and
# strategy. Generation depends on the seed alone, never on the code under test, so a process
# grading many submissions (``grader batch``) replays them instead of generating them again,
# which is about half of a passing check's time. A submission that fails one of them gets
# the whole hypothesis run, shrinking included, so its feedback is the same as alone.
# ``grader dist student`` reads them to record what the mistakes return on them.
PASSED_INPUTS: dict[tuple[Any, ...], list[Any]] = {}


@dataclass(frozen=True)
class Search:
    """What one hypothesis run found.

    ``tried``: the examples generated before the first failure (all of them when none
    failed); ``failures``: each failing example with what it raised, in order, the last the
    smallest found; ``flaky``: the code gave different results for the same input.
    """

    tried: tuple[Any, ...]
    failures: tuple[tuple[Any, Exception], ...]
    flaky: bool = False

    @property
    def passed(self) -> bool:
        return not self.failures and not self.flaky


def search(strategy: st.SearchStrategy[Any], body: Callable[[Any], None], *, seed: int, examples: int,
           shrink_calls: int) -> Search:
    """Run ``body`` on ``examples`` examples of ``strategy``, then shrink the first failure.

    ``body`` fails by raising :class:`CheckFailed` or :class:`StudentCrash`; anything else it
    raises (a bug of the grader's) propagates, and so does a :class:`BaseException` that
    ends the check (:class:`~grader.errors.AbortCheck`).
    """
    failures: list[tuple[Any, Exception]] = []
    shrink_tries: list[int] = []
    tried: list[Any] = []

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )
    @hypothesis.seed(seed)
    @given(strategy)
    def run(example: Any) -> None:
        if shrink_tries:
            shrink_tries[0] += 1
            if shrink_tries[0] > shrink_calls:
                raise _ShrinkingDone()
        else:
            tried.append(copy.deepcopy(example))
        try:
            body(example)
        except (CheckFailed, StudentCrash) as failure:
            failures.append((example, failure))
            shrink_tries[:] = shrink_tries or [0]
            raise

    try:
        run()
    except (_ShrinkingDone, CheckFailed, StudentCrash):
        pass
    except Flaky:
        return Search(tuple(tried), tuple(failures), flaky=True)
    return Search(tuple(tried), tuple(failures))


def replay(inputs: list[Any], body: Callable[[Any], None]) -> bool:
    """Run ``body`` on copies of recorded inputs; False at the first failure (of any kind)."""
    for example in inputs:
        try:
            body(copy.deepcopy(example))
        except Exception:  # noqa: BLE001
            return False
    return True


def draw(strategy: st.SearchStrategy[Any], seed: int, count: int) -> list[Any]:
    """``count`` examples of ``strategy``, the same for the same seed, calling nothing."""
    drawn: list[Any] = []

    @settings(max_examples=count, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @hypothesis.seed(seed)
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(copy.deepcopy(example))

    collect()
    return drawn


def evidence(failures: tuple[tuple[Any, Exception], ...], most: int = 4) -> tuple[Subject, ...]:
    """Failing calls besides the last (shrunk) one, for a hint to be checked against: the
    first failure hypothesis generated, whose larger input tells mistakes apart best, and a
    few spread over the shrinking that followed."""
    subjects = [f.subject for _, f in failures[:-1] if isinstance(f, CheckFailed) and f.subject is not None]
    if len(subjects) > most:
        step = (len(subjects) - 1) / (most - 1)
        subjects = [subjects[round(i * step)] for i in range(most)]
    return tuple(subjects)


class _ShrinkingDone(BaseException):
    """Ends a hypothesis run whose shrinking budget is spent (hypothesis catches only Exception)."""
