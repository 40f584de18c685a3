"""The two charts of summary.html, as base64 PNGs drawn with matplotlib's object API (no pyplot state).

    >>> score_histogram([], 10.0) is None
    True
"""

from __future__ import annotations

import base64
import io
import statistics
from typing import Any

from grader.batch.records import exercise_ids


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(scores: list[float], max_score: float) -> str | None:
    """The distribution of total scores as a base64 PNG (None without scores)."""
    if not scores:
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 2.6))
    axes = figure.add_subplot()
    top = max(max_score, max(scores), 1.0)
    bins = min(int(top) + 1, 40)
    axes.hist(scores, bins=bins, range=(0, top), color="#1a7f37", edgecolor="white")
    axes.set_xlabel("total score")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return _png(figure)


def exercise_chart(records: tuple[dict[str, Any], ...]) -> str | None:
    """Mean score of each exercise as a share of its points, as a base64 PNG."""
    graded = [r for r in records if r["status"] == "graded"]
    ids = exercise_ids(tuple(graded))
    if not ids:
        return None
    from matplotlib.figure import Figure

    shares = []
    for exercise in ids:
        rows = [e for r in graded for e in r["exercises"] if e["id"] == exercise and e["max_score"]]
        shares.append(100 * statistics.mean(e["score"] / e["max_score"] for e in rows) if rows else 0.0)
    figure = Figure(figsize=(7, 0.5 + 0.4 * len(ids)))
    axes = figure.add_subplot()
    axes.barh(ids[::-1], shares[::-1], color="#0969da")
    axes.set_xlim(0, 100)
    axes.set_xlabel("mean score, % of the exercise's points")
    figure.tight_layout()
    return _png(figure)
