"""Manual items in config.yaml: the real ps5 items, and a one-line ConfigError for each mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_config import at, error_of, write_config

from grader.config import load_config
from grader.manual_items import ManualItem, items_of

PS5 = ("assignments", "ps5", "exercises")
ITEM = {"answer": "ex7_linearity", "points": 1, "rubric": "No: max pooling is not linear."}


def test_ps5_reviews_its_plots_and_written_answers_and_basics_has_nothing_to_review(config) -> None:  # type: ignore[no-untyped-def]
    ps5 = config.assignments["ps5"]
    items = items_of(ps5.exercises)
    answers = {i.answer for i in items if i.kind == "answer"}
    assert answers == {key for e in ps5.exercises for key in e.free_text}
    assert {i.exercise for i in items if i.kind == "figure"} == {"iter_maxpool", "gradients2d"}
    assert all(isinstance(i, ManualItem) and i.points > 0 and i.rubric and i.title for i in items)
    assert items_of(ps5.exercises, ("gradients2d",)) == ps5.exercise("gradients2d").manual
    assert items_of(config.assignments["basics"].exercises) == ()


def mutated(tmp_path: Path, exercise: str, manual: dict[str, Any]) -> str:
    def mutate(raw: dict[str, Any]) -> None:
        at(raw, (*PS5, exercise))["manual"] = manual

    return error_of(write_config(tmp_path, mutate))


@pytest.mark.parametrize(("manual", "where", "problem"), [
    ({"x": {**ITEM, "answer": "ex8_where_large"}}, "manual.x.answer",
     "'ex8_where_large' is not one of this exercise's free_text keys (ex7_fine_details, ex7_filter_kind"),
    ({"x": {"points": 1, "rubric": "r"}}, "manual.x", "give either 'answer: <free-text key>' or 'figure: true'"),
    ({"x": {**ITEM, "figure": True}}, "manual.x", "give either"),
    ({"x": {"figure": "yes", "points": 1, "rubric": "r"}}, "manual.x.figure", "expected true"),
    ({"x": {**ITEM, "points": 0}}, "manual.x.points", "expected a number > 0"),
    ({"x": {**ITEM, "points": "one"}}, "manual.x.points", "expected a number >= 0, got 'one'"),
    ({"x": {"answer": "ex7_linearity", "points": 1}}, "manual.x.rubric", "missing"),
    ({"x": {**ITEM, "rubrik": "r"}}, "manual.x.rubrik", "unknown key (did you mean 'rubric'?)"),
])
def test_a_bad_item_is_named(tmp_path: Path, manual: dict[str, Any], where: str, problem: str) -> None:
    message = mutated(tmp_path, "iter_maxpool", manual)
    assert f"assignments.ps5.exercises.iter_maxpool.{where}: " in message and problem in message


@pytest.mark.parametrize("item_id", ["ex8_figure", "gradients2d"])
def test_item_ids_are_unique_in_the_assignment_and_differ_from_exercise_ids(tmp_path: Path, item_id: str) -> None:
    message = mutated(tmp_path, "iter_maxpool", {item_id: ITEM})
    assert f".manual.{item_id}: the same id is used twice" in message


def test_an_item_of_the_figures_needs_no_answer(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        at(raw, (*PS5, "guided_backprop"))["manual"]["ex9_map"] = {"figure": True, "points": 0.5, "rubric": "r"}

    item = load_config(write_config(tmp_path, mutate)).assignments["ps5"].exercise("guided_backprop").manual[-1]
    assert (item.id, item.kind, item.answer, item.points, item.title) == ("ex9_map", "figure", None, 0.5, "ex9_map")
