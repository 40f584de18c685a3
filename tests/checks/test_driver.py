"""The hypothesis driver on plain Python bodies: the smallest failure, the shrinking budget, replays."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from hypothesis import strategies as st

from grader.checks.driver import draw, evidence, replay, search
from grader.checks.failures import CheckFailed
from grader.model import Feedback


def failing_from(limit: int, seen: list[int] | None = None):  # type: ignore[no-untyped-def]
    def body(n: int) -> None:
        if seen is not None:
            seen.append(n)
        if n >= limit:
            raise CheckFailed(Feedback(f"{n} is too big"), subject=("f", n, n))
    return body


def test_a_passing_search_keeps_every_example_it_tried() -> None:
    found = search(st.integers(0, 9), lambda n: None, seed=1, examples=20, shrink_calls=100)
    assert found.passed and not found.failures and 0 < len(found.tried) <= 20
    assert all(0 <= n <= 9 for n in found.tried)


def test_a_failing_search_ends_with_the_smallest_failure() -> None:
    found = search(st.integers(0, 1000), failing_from(17), seed=1, examples=50, shrink_calls=1000)
    assert not found.passed
    example, error = found.failures[-1]
    assert example == 17 and isinstance(error, CheckFailed) and error.feedback.summary == "17 is too big"


def test_shrinking_stops_after_its_budget_of_examples() -> None:
    seen: list[int] = []
    found = search(st.integers(0, 10**6), failing_from(17, seen), seed=1, examples=50, shrink_calls=3)
    first_failure = next(i for i, n in enumerate(seen) if n >= 17)
    assert len(seen) - first_failure - 1 <= 3 and found.failures[-1][0] >= 17


def test_the_same_seed_draws_the_same_examples() -> None:
    assert draw(st.integers(0, 10**6), 5, 10) == draw(st.integers(0, 10**6), 5, 10)


def test_the_draws_do_not_depend_on_which_local_modules_are_loaded(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Hypothesis would otherwise sometimes draw these literals once their module is loaded
    # (a check module of another exercise, say), and a reproduce line would replay other inputs.
    literals = list(range(770_001, 770_041))
    (tmp_path / "some_local_code.py").write_text(f"LITERALS = {literals}\n")
    before = draw(st.integers(0, 10**6), 3, 300)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("some_local_code")
    try:
        after = draw(st.integers(0, 10**6), 3, 300)
    finally:
        sys.modules.pop("some_local_code")
    assert after == before and not set(after) & set(literals)


def test_replay_says_whether_every_recorded_input_still_passes() -> None:
    assert replay([1, 2, 3], failing_from(5))
    assert not replay([1, 7, 3], failing_from(5))


def test_evidence_keeps_the_first_failure_and_a_few_spread_over_the_shrinking() -> None:
    failures = tuple((n, CheckFailed(Feedback("wrong"), subject=("f", n, n))) for n in range(10, 0, -1))
    subjects = evidence(failures, most=3)
    assert [s[1] for s in subjects] == [10, 6, 2]
