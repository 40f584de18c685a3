"""The results of answers.yaml: one per answer of an exercise, and the notes about the file.

"grade" compares each hand-computed answer with the reference's. "check" never reads the
reference: it judges the form of every answer (filled in, readable, of the declared kind and
shape) and of the free text, and scores nothing there, since a well-formed answer may still
be wrong. The grader's own failures are grader errors, never the student's.

>>> answers = submitted_answers(assignment, Path("submission"))          # doctest: +SKIP
>>> [r.outcome for r in answer_results(assignment, eigen, answers, "check")]  # doctest: +SKIP
['unreadable']
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.answers import Answers, check_answer, check_form, describe_form, read_answers
from grader.config import AnswerConfig, AssignmentConfig, ExerciseConfig
from grader.errors import StudentFailure
from grader.faults import grader_error_feedback
from grader.model import CheckResult, ExerciseResult, Feedback
from grader.vocabulary import Mode, Outcome, Visibility


@dataclass(frozen=True)
class Submitted:
    """The submission's answers.yaml as read: its answers, or why it could not be read at all."""

    answers: Answers
    failure: StudentFailure | None = None

    @property
    def values(self) -> dict[str, Any]:
        return self.answers.values


def submitted_answers(assignment: AssignmentConfig, submission: Path) -> Submitted:
    """answers.yaml of ``submission``, read once for all exercises."""
    try:
        return Submitted(read_answers(submission / assignment.answers_file, answer_keys(assignment.exercises)))
    except StudentFailure as failure:  # no file (missing), too large or not a mapping (unreadable)
        return Submitted(Answers({}), failure)


def answer_results(assignment: AssignmentConfig, exercise: ExerciseConfig, answers: Submitted,
                   mode: Mode) -> list[CheckResult]:
    """One result per answer of the exercise. "grade" compares each hand-computed answer with the
    reference's. "check" never reads the reference: it judges the form of every answer (filled in,
    readable, of the declared kind and shape) and of the free text, and scores nothing, since a
    well-formed answer may still be wrong. The grader's own failures are grader errors."""
    results = []
    expected: dict[str, Any] | None = None
    grading = mode == "grade"
    items: list[AnswerConfig | str] = [*exercise.answers, *(() if grading else exercise.free_text)]
    for item in items:
        start = time.perf_counter()
        key = item.key if isinstance(item, AnswerConfig) else item
        problems = answers.answers.problems_of(key)
        outcome: Outcome
        feedback = None
        try:
            if answers.failure is not None:
                outcome, feedback = answers.failure.outcome, Feedback(summary=str(answers.failure))
            elif problems:
                outcome, feedback = "unreadable", Feedback(
                    summary=f"answers.yaml could not read '{key}': {problems[0]}",
                    details=tuple(str(p) for p in problems[1:]))
            elif not isinstance(item, AnswerConfig):
                filled = str(answers.values.get(key) or "").strip()
                outcome = "passed" if filled else "missing"
                feedback = None if filled else Feedback(summary=f"answers.yaml '{key}': no answer yet (free text, "
                                                                "for your tutor)")
            else:
                if grading and expected is None:
                    expected = read_answers(assignment.reference / assignment.answers_file).values
                verdict = check_answer(item, answers.values, expected) if grading else check_form(item, answers.values)
                outcome = "passed" if verdict.ok else "missing" if answers.values.get(key) is None else "wrong"
                if not verdict.ok:
                    feedback = Feedback(summary=f"answers.yaml '{key}': {verdict.summary}", details=verdict.details,
                                        hint=_misspelt(key, answers.values, assignment) if outcome == "missing" else None)
        except Exception as exc:  # the grader's own bug (the reference answers lack the key, say)  # noqa: BLE001
            outcome, feedback = "grader-error", grader_error_feedback(exc)
        visibility: Visibility = item.visibility if isinstance(item, AnswerConfig) and grading else "public"
        results.append(CheckResult(
            exercise=exercise.id, check=f"answer_{key}", description=_answer_description(item, grading),
            points=item.points if isinstance(item, AnswerConfig) and grading else 0.0,
            visibility=visibility, outcome=outcome,
            feedback=feedback, seconds=round(time.perf_counter() - start, 4),
        ))
    return results


def _answer_description(item: AnswerConfig | str, grading: bool) -> str:
    if not isinstance(item, AnswerConfig):
        return "answers.yaml: free text, read by your tutor"
    if grading:
        return f"hand-computed answer '{item.key}' in answers.yaml"
    return f"answers.yaml: {describe_form(item)} ({points_text(item.points)} at grading)"


def _misspelt(key: str, given: dict[str, Any], assignment: AssignmentConfig) -> str | None:
    """"did you mean" for an answer filled in under a key the assignment does not know."""
    known = answer_keys(assignment.exercises)
    unknown = [k for k in given if k not in known and given[k] is not None]
    close = difflib.get_close_matches(key, unknown, n=1, cutoff=0.75)
    return f"your answers.yaml has '{close[0]}': did you mean '{key}'? Only the keys of the skeleton count" \
        if close else None


def answers_notes(assignment: AssignmentConfig, exercises: tuple[ExerciseResult, ...], answers: Submitted | None,
                  mode: Mode) -> tuple[str, ...]:
    """Remarks on answers.yaml that no result of an answer shows: lines outside every known key,
    free text lost (in "grade" mode, where free text is no check), and in "check" mode what the
    answers as they are would lose at grading."""
    if answers is None:
        return ()
    configs = [assignment.exercise(e.id) for e in exercises]
    known = answer_keys(assignment.exercises)
    notes = [f"answers.yaml {problem}" for problem in answers.answers.problems if problem.key not in known]
    if mode == "grade":
        free = {key for e in configs for key in e.free_text}
        notes += [f"answers.yaml {problem} (so the free text '{problem.key}' is lost)"
                  for problem in answers.answers.problems if problem.key in free]
    else:
        checks = {(c.exercise, c.check): c for e in exercises for c in e.checks}
        lost = [a for e in configs for a in e.answers if not checks[(e.id, a.check_id)].passed]
        if lost:
            notes.insert(0, f"answers.yaml: {len(lost)} hand-computed answer(s) not ready yet (see above); as they "
                            f"are, they would score nothing at grading ({points_text(sum(a.points for a in lost))})")
    return tuple(notes)


def answer_keys(exercises: tuple[ExerciseConfig, ...] | list[ExerciseConfig]) -> tuple[str, ...]:
    """Every key of answers.yaml these exercises ask for, numeric and free text."""
    return tuple(key for e in exercises for key in (*(a.key for a in e.answers), *e.free_text))


def points_text(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")
