"""The summary page and a report page render in headless Chromium without console errors,
and a tutor marks in the summary's marking views and downloads manual.csv.

Chromium logs every console message, CSP violations included, as ``INFO:CONSOLE`` lines on
stderr with ``--enable-logging=stderr``; a page that triggers none and whose DOM holds the
expected content passes. Typing and downloading goes through Playwright, driving the same
Chromium (it downloads no browser of its own). Skipped only where no Chromium is installed
(.ci/run installs it).
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from records import HOSTILE, ITEMS, cohort

from grader.batch.manual import SHEET, update_sheet
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


def mark_in_browser(page: Path, fields: dict[str, str]) -> tuple[str, str, list[str]]:
    """Fill the fields named by their labels, download manual.csv: its text, the status line
    after typing, and the console messages."""
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed: pip install -e '.[test]'")
    console: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        tab = browser.new_page(accept_downloads=True)
        tab.on("console", lambda message: console.append(message.text))
        tab.goto(page.as_uri())
        for label, value in fields.items():
            tab.get_by_label(label).fill(value)
        status = tab.locator("#marking-status").text_content() or ""
        with tab.expect_download() as download:
            tab.click("#download-manual")
        assert download.value.suggested_filename == "manual.csv"
        text = Path(download.value.path()).read_text(encoding="utf-8")
        browser.close()
    return text, status, console


def test_a_tutor_fills_two_fields_and_downloads_manual_csv(tmp_path: Path) -> None:
    marking = update_sheet(tmp_path, cohort(), ITEMS)
    page = tmp_path / "summary.html"
    page.write_text(render_summary(cohort(), "Basics", marking))
    comment = 'Clear plot, "well labelled",\nbut no axis names'
    text, status, console = mark_in_browser(page, {"points for ada, why_answer": "1.5",
                                                    "comment for bob, attention_plot": comment})
    assert console == [] and status.startswith("2 field(s) changed here")
    before = list(csv.reader(io.StringIO((tmp_path / SHEET).read_text())))
    after = list(csv.reader(io.StringIO(text)))
    assert len(after) == len(before) == 13
    changed = [(i, j) for i, row in enumerate(after) for j, value in enumerate(row) if value != before[i][j]]
    assert changed == [(1, 5), (4, 6)] and after[1][5] == "1.5" and after[4][6] == comment
    (tmp_path / SHEET).write_text(text)  # saved over manual.csv: the next run reads what was typed
    again = update_sheet(tmp_path, cohort(), ITEMS)
    assert again.marks["ada"][0].points == 1.5 and again.marked == 1 and again.kept == (2, 5)
