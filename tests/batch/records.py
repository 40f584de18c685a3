"""Hand-made student records for the summary and rendering tests, some of them hostile."""

from __future__ import annotations

from typing import Any

from grader.batch.records import FORMAT
from grader.manual_items import ManualItem

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>\x1b[31m\x00'


def record(student: str, score: float | None, *, status: str = "graded", mistake: str | None = None,
           answer: str = "", seconds: float = 2.0, grader_errors: tuple[str, ...] = (),
           eigen: str = "", outcome: str = "wrong") -> dict[str, Any]:
    """A record of the ``basics``-like assignment with two exercises and three checks.

    ``eigen`` is how the eigen exercise was lost when it was ("misnamed file", "did not import",
    ...; empty: by a wrong value), and ``outcome`` how its check failed.
    """
    scored = score is not None
    attention, eigen_score = (min(score, 6.0), max(score - 6.0, 0.0)) if scored else (0.0, 0.0)

    def kind(points: float, of: float) -> str:
        return "full" if points >= of else "wrong" if points == 0 else "partly wrong"

    eigen_failed = bool(scored and eigen_score < 4)
    return {
        "format": FORMAT, "key": {}, "digest": "0" * 64, "entry": student, "student": student, "status": status,
        "graded_at": "2025-01-01T00:00:00+00:00", "seconds": seconds, "reason": None if status == "graded" else "why",
        "score": score, "max_score": 10.0 if scored else None, "student_seconds": seconds / 2,
        "exercises": [{"id": "attention", "title": "Attention", "file": "attention.py", "score": attention,
                       "max_score": 6.0, "kind": kind(attention, 6.0), "near_match": None},
                      {"id": "eigen", "title": "Eigen", "file": "eigen.py", "score": eigen_score, "max_score": 4.0,
                       "kind": eigen or kind(eigen_score, 4.0),
                       "near_match": "Eigen (1).py" if eigen == "misnamed file" else None}]
        if scored else [],
        "checks": [
            {"exercise": "attention", "check": "matches_torch", "description": "agrees with torch", "points": 6.0,
             "status": "passed" if score and score >= 6 else "failed", "mistake": mistake,
             "outcome": "passed" if score and score >= 6 else "wrong",
             "hint": "Divide the scores by sqrt(d_k)." if mistake else None, "summary": None},
            {"exercise": "eigen", "check": "symmetric", "description": "symmetric input", "points": 4.0,
             "status": "failed" if eigen_failed else "passed", "mistake": None, "hint": None,
             "outcome": outcome if eigen_failed else "passed", "summary": "differs"},
        ] if scored else [],
        "free_text": [{"exercise": "eigen", "key": "why", "text": answer}] if scored else [],
        "grader_errors": list(grader_errors), "code": {}, "figures": [],
    }


def cohort() -> tuple[dict[str, Any], ...]:
    return (
        record("ada", 10.0, answer="Because the matrix is symmetric."),
        record("bob", 6.0, answer=HOSTILE, seconds=9.5),
        record(HOSTILE, 0.0, mistake="no_scaling", answer="no idea"),
        record("=cmd|' /C calc'!A0", 0.0, mistake="no_scaling", grader_errors=("eigen.symmetric: boom",)),
        record("eve", 0.0, status="unreadable"),
        record("zed", None, status="error", grader_errors=("grader error (SandboxError: gone)",)),
    )


# Two items a tutor scores for the records above: eigen's free-text answer and attention's figures.
ITEMS = (ManualItem("why_answer", "eigen", 2.0, "Symmetric: Q Lambda Q^T.", "Why symmetric", answer="why"),
         ManualItem("attention_plot", "attention", 1.0, "Rows sum to one.", "The attention weights"))
