"""The items of an exercise that a tutor scores by hand, as ``config.yaml`` declares them.

Under an exercise, ``manual`` maps each item's id to its points, a short rubric for the
tutor, a title, and what is reviewed: a free-text answer of ``answers.yaml`` (``answer:``
one of the exercise's ``free_text`` keys) or the figures the exercise's checks drew
(``figure: true``)::

    manual:
      ex7_fine_details: {answer: ex7_fine_details, points: 1, title: "Fine details", rubric: "They vanish."}
      ex7_figure: {figure: true, points: 1, rubric: "Top row: bright regions grow."}

``grader batch`` writes one row per student and item to ``OUT/manual.csv`` (see
:mod:`grader.batch.manual`); the points never count in the automatic score.

>>> item = ManualItem("ex7_figure", "iter_maxpool", 1.0, "Bright regions grow.", "the figure")
>>> item.kind
'figure'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from grader.config import ExerciseConfig, _Reader

KEYS = {"answer", "figure", "points", "rubric", "title"}


@dataclass(frozen=True)
class ManualItem:
    """One item a tutor scores: ``answer`` is the free-text key it reviews, None for the figures."""

    id: str
    exercise: str
    points: float
    rubric: str
    title: str
    answer: str | None = None

    @property
    def kind(self) -> Literal["answer", "figure"]:
        return "figure" if self.answer is None else "answer"


def read_items(reader: _Reader, raw: Any, where: str, exercise: str,
               free_text: tuple[str, ...]) -> tuple[ManualItem, ...]:
    """The ``manual`` mapping of one exercise, each item checked; errors name the key."""
    items = []
    for item_id, value in reader.mapping(raw, where, None).items():
        at = f"{where}.{item_id}"
        body = reader.mapping(value, at, KEYS, frozenset({"points", "rubric"}))
        if ("answer" in body) == ("figure" in body):
            raise reader.fail(at, "give either 'answer: <free-text key>' or 'figure: true' (what the tutor reviews)")
        if "figure" in body and body["figure"] is not True:
            raise reader.fail(f"{at}.figure", f"expected true (the exercise's figures), got {body['figure']!r}")
        answer = body.get("answer")
        if answer is not None and answer not in free_text:
            raise reader.fail(f"{at}.answer", f"{answer!r} is not one of this exercise's free_text keys "
                                              f"({', '.join(free_text) or 'none'})")
        points = float(reader.number(body["points"], f"{at}.points"))
        if points <= 0:
            raise reader.fail(f"{at}.points", "expected a number > 0: an item worth nothing needs no tutor")
        items.append(ManualItem(str(item_id), exercise, points, reader.text(body["rubric"], f"{at}.rubric"),
                                reader.text(body.get("title", str(item_id)), f"{at}.title"), answer))
    return tuple(items)


def check_ids(reader: _Reader, exercises: tuple[ExerciseConfig, ...], where: str) -> None:
    """Item ids are unique in the assignment and differ from the exercise ids: each names one
    column of grades.csv and one item in manual.csv."""
    exercise_ids = {e.id for e in exercises}
    seen: set[str] = set()
    for exercise in exercises:
        for item in exercise.manual:
            at = f"{where}.exercises.{exercise.id}.manual.{item.id}"
            if item.id in exercise_ids or item.id in seen:
                raise reader.fail(at, "the same id is used twice (item ids are unique in an assignment and "
                                      "differ from the exercise ids)")
            seen.add(item.id)


def items_of(exercises: tuple[ExerciseConfig, ...], graded: tuple[str, ...] = ()) -> tuple[ManualItem, ...]:
    """Every manual item of ``exercises``, in config order; only those of ``graded`` when given."""
    return tuple(item for e in exercises if not graded or e.id in graded for item in e.manual)
