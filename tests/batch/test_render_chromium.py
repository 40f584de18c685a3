"""The summary page and a report page render in headless Chromium without console errors.

Chromium logs every console message, CSP violations included, as ``INFO:CONSOLE`` lines on
stderr with ``--enable-logging=stderr``; a page that triggers none and whose DOM holds the
expected content passes. Skipped only where no Chromium is installed (.ci/run installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from records import HOSTILE, cohort

from grader.batch.summary import render_summary
from grader.model import CheckResult, ExerciseResult, Feedback, GradeReport
from grader.report.html import render_html

BROWSER = next((path for path in (shutil.which("chromium"), shutil.which("chromium-browser"),
                                  shutil.which("google-chrome")) if path), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")


def render(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The page's DOM after loading, and the console messages Chromium logged."""
    run = subprocess.run(
        [str(BROWSER), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


def test_the_console_check_catches_a_csp_violation(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\">"
                    "<p>x</p><script>console.log(1)</script>")
    _, console = render(page, tmp_path / "profile")
    assert any("Content Security Policy" in line for line in console)


def test_summary_page_renders_without_errors(tmp_path: Path) -> None:
    page = tmp_path / "summary.html"
    page.write_text(render_summary(cohort(), "Basics"))
    dom, console = render(page, tmp_path / "profile")
    assert console == []
    assert "cohort summary" in dom and "Pass rate of every check" in dom and "no_scaling" in dom
    assert "<script>alert" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count('src="data:image/png;base64,') == 2


def test_a_report_page_renders_without_errors(tmp_path: Path) -> None:
    failed = CheckResult("attention", "matches_torch", "agrees with torch", 2.0, "public", "wrong",
                         Feedback(summary=f"differs {HOSTILE}", input="Q shape (1, 2)", details=("got 1 expected 2",),
                                  hint="Divide by sqrt(d_k).", output=HOSTILE), mistake="no_scaling")
    report = GradeReport(
        assignment="basics", title="Basics", submission=HOSTILE, mode="grade", seed=0,
        exercises=(ExerciseResult("attention", "Attention", "attention.py", (failed,),
                                  free_text=(("why", HOSTILE),)),),
        started="2025-01-01T00:00:00+00:00", seconds=1.0, grader_version="0", notes=("isolation level process",),
    )
    page = tmp_path / "report.html"
    page.write_text(render_html(report))
    dom, console = render(page, tmp_path / "profile")
    assert console == []
    assert "Divide by sqrt(d_k)." in dom and "<script>alert" not in dom
