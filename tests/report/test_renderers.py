"""Renderers only read a GradeReport: results.json, HTML, JUnit, terminal text, write_atomic.

Reports are built by hand, including a hostile one whose student-provided strings try
markup injection, terminal escapes, control characters and sheer size.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from grader.model import CheckResult, ExerciseResult, Feedback, GradeReport
from grader.report import write_atomic
from grader.report.gradescope import render_json, results
from grader.report.html import render_html
from grader.report.junit import render_junit
from grader.report.text import render_terminal

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ANSI = "\x1b[2J\x1b[31m"
CONTROL = "\x00\x01\x07\x08\x0b\x0c\x1f\x7f"
HOSTILE = f"{SCRIPT}{IMG}{ANSI}{CONTROL}"
BIG = "".join(f"line {i} of a long print {SCRIPT}\n" for i in range(2500))  # about 100 KB
assert len(BIG) > 100_000

HINT = "Divide the scores by sqrt(d_k) before the softmax."
INPUT = "Q shape (1, 2, 2), K shape (1, 3, 2), V shape (1, 3, 1), mask=None"
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def make_report(submission: str = "alice", hostile: bool = False) -> GradeReport:
    bad = HOSTILE if hostile else ""
    attention = ExerciseResult(
        id="attention",
        title="Ex. 4 - Scaled dot-product attention",
        file="attention.py",
        checks=(
            CheckResult("attention", "matches_torch", "agrees with torch", 3.0, "public", "passed", seconds=0.25),
            CheckResult(
                "attention", "masked_matches_torch", "masked attention agrees with torch", 2.0, "public", "wrong",
                Feedback(
                    summary="scaled_dot_product_attention() differs from the expected result: "
                            "mismatched 2/2 elements" + bad,
                    input=INPUT + bad,
                    input_label="smallest failing input",
                    details=("[0, 1, 0]    got       0.62   expected       0.31" + bad,),
                    hint=HINT,
                    traceback=("Traceback (most recent call last):\n  File \"attention.py\", line 3\n"
                               "ZeroDivisionError: " + bad) if hostile else None,
                    output=(BIG + bad) if hostile else "debug print",
                    reproduce="grader check --exercise attention --seed 1234",
                ),
                mistake="no_scaling",
                notes=("returned dtype float64 where float32 is expected; judged on its values",),
            ),
            CheckResult("attention", "convex_combination", "rows are convex combinations", 1.0, "hidden", "grader-error",
                        Feedback(summary="grader error: KeyError 'x'")),
            CheckResult("attention", "matches_reference", "matches the reference", 2.0, "hidden", "bad-return",
                        Feedback(summary="got None, expected a tensor of shape (1, 2, 1) (float32)")),
        ),
        free_text=(("why_scale", "Because variance grows with d_k." + bad),
                   ("essay", (BIG + bad) if hostile else "short"),
                   ("unanswered", "")),
    )
    eigen = ExerciseResult(
        id="eigen", title="Ex. 1 - Eigenvalues", file="eigen.py",
        checks=(CheckResult("eigen", "eigenpairs", "eigenpairs are right", 2.0, "public", "passed"),),
    )
    return GradeReport(
        assignment="basics", title="Basics", submission=submission, mode="grade", seed=1234,
        exercises=(eigen, attention), started="2024-05-01T12:00:00", seconds=3.5, grader_version="0.1.0",
        notes=("isolation: rlimits",),
    )


REPORT = make_report()
HOSTILE_REPORT = make_report(submission="alice" + HOSTILE, hostile=True)
ALL_CHECKS = [(c.exercise, c.check) for c in REPORT.checks()]


# ---------------------------------------------------------------- model arithmetic


def test_scores_are_computed_from_statuses():
    assert REPORT.score == 3.0 + 2.0  # the two passed checks
    assert REPORT.max_score == 2.0 + 3.0 + 2.0 + 1.0 + 2.0
    assert len(REPORT.grader_errors) == 1


# ---------------------------------------------------------------- results.json (Gradescope)


@pytest.mark.parametrize("report", [REPORT, HOSTILE_REPORT], ids=["plain", "hostile"])
def test_results_json_has_gradescope_shape(report):
    data = json.loads(render_json(report))
    assert {"score", "max_score", "execution_time", "output", "tests"} <= set(data)
    assert data["score"] == 5.0 and data["max_score"] == 10.0 and data["execution_time"] == 3.5
    assert isinstance(data["output"], str) and "5/10" in data["output"]
    assert len(data["tests"]) == 5
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility", "extra_data"} <= set(test)
        assert test["status"] in {"passed", "failed"}
        assert test["visibility"] in GRADESCOPE_VISIBILITY
        assert isinstance(test["output"], str) and isinstance(test["name"], str)
        assert test["score"] in (0, test["max_score"])
    assert [(t["extra_data"]["exercise"], t["extra_data"]["check"]) for t in data["tests"]] == ALL_CHECKS
    assert sum(t["score"] for t in data["tests"]) == data["score"]


def test_results_json_scores_and_statuses():
    tests = {t["extra_data"]["check"]: t for t in results(REPORT)["tests"]}
    assert tests["matches_torch"]["score"] == 3.0 and tests["matches_torch"]["status"] == "passed"
    assert tests["masked_matches_torch"]["score"] == 0 and tests["masked_matches_torch"]["status"] == "failed"
    assert tests["masked_matches_torch"]["max_score"] == 2.0


def test_grader_error_scores_zero_and_is_failed_with_outcome_grader_error():
    test = next(t for t in results(REPORT)["tests"] if t["extra_data"]["check"] == "convex_combination")
    assert test["score"] == 0 and test["max_score"] == 1.0
    assert test["status"] == "failed"
    assert test["extra_data"]["outcome"] == "grader-error"
    assert "grader error" in results(REPORT)["output"]


def test_visibility_maps_public_to_visible_and_hidden_to_not_yet_visible():
    tests = {t["extra_data"]["check"]: t for t in results(REPORT)["tests"]}
    assert tests["matches_torch"]["visibility"] == "visible"
    assert tests["matches_reference"]["visibility"] in {"hidden", "after_due_date", "after_published"}


def test_results_json_output_has_feedback_grammar():
    test = next(t for t in results(REPORT)["tests"] if t["extra_data"]["check"] == "masked_matches_torch")
    out = test["output"]
    assert "differs from the expected result" in out
    assert f"smallest failing input: {INPUT}" in out
    assert f"hint: {HINT}" in out and "reproduce: grader check" in out
    assert "note: returned dtype float64" in out


def test_results_json_strips_terminal_escapes_from_student_text():
    for test in results(HOSTILE_REPORT)["tests"]:
        assert "\x1b" not in test["output"] and "\x00" not in test["output"]


# ---------------------------------------------------------------- HTML


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def parse_html(page: str) -> TagCollector:
    parser = TagCollector()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def hostile_html() -> str:
    return render_html(HOSTILE_REPORT)


def test_html_has_no_script_and_no_injected_tags(hostile_html):
    assert "<script" not in hostile_html.lower()
    assert not re.search(r"<[^>]*onerror\s*=", hostile_html, re.IGNORECASE)
    parsed = parse_html(hostile_html)
    names = {tag for tag, _ in parsed.tags}
    assert "script" not in names and "img" not in names
    for tag, attrs in parsed.tags:
        assert not any(name.lower().startswith("on") for name, _ in attrs), (tag, attrs)


def test_html_shows_student_text_as_text(hostile_html):
    text = "".join(parse_html(hostile_html).text)
    assert SCRIPT in text and IMG in text  # visible as typed, not interpreted


def test_html_is_self_contained(hostile_html):
    for tag, attrs in parse_html(hostile_html).tags:
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data") and value:
                assert value.startswith(("data:", "#")), (tag, name, value)
        assert not (tag == "link" and dict(attrs).get("rel") == "stylesheet")
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", hostile_html)
    assert "@import" not in hostile_html


def test_html_has_content_security_policy(hostile_html):
    metas = [dict(attrs) for tag, attrs in parse_html(hostile_html).tags if tag == "meta"]
    csp = [m for m in metas if (m.get("http-equiv") or "").lower() == "content-security-policy"]
    assert len(csp) == 1
    assert "default-src 'none'" in csp[0]["content"]
    assert "script-src" not in csp[0]["content"] or "'none'" in csp[0]["content"]


def test_html_shows_hint_input_free_text_and_scores():
    page = render_html(REPORT)
    text = " ".join(parse_html(page).text)
    assert HINT in text
    assert INPUT in text
    assert "Smallest failing input" in text
    assert "why_scale" in text and "Because variance grows with d_k." in text
    assert "essay" in text and "short" in text
    assert "(no answer)" in text
    assert "5 / 10" in text
    for _, check in ALL_CHECKS:
        assert check in text


def test_html_strips_control_characters_from_feedback(hostile_html):
    body = hostile_html.split("<section", 1)[1]
    assert "\x1b" not in body and "\x00" not in body


# ---------------------------------------------------------------- JUnit

# XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
NOT_XML_CHAR = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@pytest.mark.parametrize("report", [REPORT, HOSTILE_REPORT], ids=["plain", "hostile"])
def test_junit_parses_with_one_testcase_per_check(report):
    xml = render_junit(report)
    assert not NOT_XML_CHAR.search(xml)
    root = ET.fromstring(xml)
    cases = root.findall(".//testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [(f"basics.{e}", c) for e, c in ALL_CHECKS]
    by_name = {c.get("name"): c for c in cases}
    for result in report.checks():
        case = by_name[result.check]
        failures, errors = case.findall("failure"), case.findall("error")
        if result.status == "passed":
            assert not failures and not errors
        elif result.status == "failed":
            assert len(failures) == 1 and not errors
        else:
            assert len(errors) == 1 and not failures
    assert root.get("tests") == "5" and root.get("failures") == "2" and root.get("errors") == "1"


def test_junit_failure_carries_feedback():
    root = ET.fromstring(render_junit(REPORT))
    case = next(c for c in root.iter("testcase") if c.get("name") == "masked_matches_torch")
    failure = case.find("failure")
    assert "differs from the expected result" in failure.get("message")
    assert HINT in failure.text and INPUT in failure.text


def test_junit_hostile_text_survives_as_text():
    root = ET.fromstring(render_junit(HOSTILE_REPORT))
    case = next(c for c in root.iter("testcase") if c.get("name") == "masked_matches_torch")
    assert SCRIPT in case.find("failure").text


# ---------------------------------------------------------------- terminal text


def test_terminal_lists_every_check_and_the_total():
    text = render_terminal(REPORT, color=False)
    for _, check in ALL_CHECKS:
        assert check in text
    assert "Total: 5/10 points" in text
    assert "1 grader error(s)" in text


def test_terminal_shows_feedback_grammar_for_failures():
    text = render_terminal(REPORT, color=False)
    assert f"smallest failing input: {INPUT}" in text
    assert f"hint: {HINT}" in text
    assert "reproduce: grader check --exercise attention --seed 1234" in text


def test_terminal_without_color_has_no_escape_from_student_feedback():
    report = make_report(submission="alice", hostile=True)
    text = render_terminal(report, color=False)
    assert "\x1b" not in text
    assert "\x00" not in text and "\x07" not in text
    assert "Total: 5/10 points" in text


def test_terminal_with_color_only_emits_its_own_color_codes():
    text = render_terminal(make_report(submission="alice", hostile=True), color=True)
    assert "\x1b[2J" not in text
    assert set(re.findall(r"\x1b\[[0-9;]*[A-Za-z]", text)) <= {"\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m",
                                                               "\x1b[33m"}
    assert not re.search(r"\x1b(?!\[[0-9;]*m)", text)


def test_terminal_caps_a_long_print():
    text = render_terminal(make_report(hostile=True), color=False)
    assert len(text) < 20_000
    assert "more lines" in text


def test_terminal_without_color_has_no_escape_from_submission_label():
    text = render_terminal(HOSTILE_REPORT, color=False)
    assert "\x1b" not in text


# ---------------------------------------------------------------- write_atomic


def test_write_atomic_creates_and_replaces(tmp_path):
    path = tmp_path / "out" / "results.json"
    write_atomic(path, "first")
    assert path.read_text(encoding="utf-8") == "first"
    write_atomic(path, render_json(HOSTILE_REPORT))
    assert json.loads(path.read_text(encoding="utf-8"))["score"] == 5.0
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_write_atomic_keeps_the_old_file_and_no_temp_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    write_atomic(path, "old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("grader.report.os.replace", fail)
    with pytest.raises(OSError):
        write_atomic(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.parametrize("render", [render_json, render_html, render_terminal], ids=["json", "html", "text"])
def test_lone_surrogate_in_student_output_can_be_written(tmp_path, render):
    write_atomic(tmp_path / "out", render(surrogate_report()))
    assert (tmp_path / "out").exists()


def surrogate_report() -> GradeReport:
    check = CheckResult("eigen", "eigenpairs", "d", 1.0, "public", "crash",
                        Feedback(summary="crashed", output="printed \ud800 here"))
    return GradeReport("basics", "Basics", "alice", "grade", 0,
                       (ExerciseResult("eigen", "Eigen", "eigen.py", (check,)),), "2024", 1.0, "0.1.0")


def test_junit_drops_lone_surrogates(tmp_path):
    write_atomic(tmp_path / "junit.xml", render_junit(surrogate_report()))
    assert ET.parse(tmp_path / "junit.xml").getroot().find(".//failure") is not None


def _failed(check: str, description: str, traceback: str | None = None,
            warnings: tuple[str, ...] = ()) -> CheckResult:
    return CheckResult("attention", check, description, 1.0, "public", "crash",
                       Feedback(summary=f"{check} failed", traceback=traceback, warnings=warnings))


def _report_of(*checks: CheckResult) -> GradeReport:
    exercise = ExerciseResult(id="attention", title="Ex. 4 - Attention", file="attention.py", checks=checks)
    return GradeReport(assignment="basics", title="Basics", submission="alice", mode="check", seed=0,
                       exercises=(exercise,), started="2026-01-01T00:00:00+00:00", seconds=1.25,
                       grader_version="0.1.0")


def test_terminal_wraps_a_long_description_instead_of_cutting_it():
    description = " ".join(f"word{i}" for i in range(40))  # about 230 characters
    text = render_terminal(_report_of(_failed("long", description)), width=88)
    assert "…" not in text
    assert " ".join(text.split()).count(description) == 1  # every word, in order
    assert all(len(line) <= 88 for line in text.splitlines() if "word" in line)


def test_terminal_shows_the_wall_time_the_student_waited_beside_the_grading_time():
    text = render_terminal(_report_of(_failed("one", "x")), waited=6.4)
    assert "6.4 s (1.2 s grading)" in text.splitlines()[1]


def test_terminal_shows_an_identical_traceback_and_warnings_once_per_exercise():
    trace = "Traceback (most recent call last):\n  File \"attention.py\", line 3\nRuntimeError: boom"
    warning = "UserWarning: The use of `x.T` on tensors of dimension other than 2 (attention.py, line 3)"
    checks = [_failed(f"check{i}", "x", trace, (warning,)) for i in range(3)]
    text = render_terminal(_report_of(*checks))
    assert text.count("RuntimeError: boom") == 1 and text.count(warning) == 1
    assert text.count("your code's traceback: as shown above, under attention · check0") == 2
    assert text.count("warnings your code raised in this exercise: as shown above, under attention · check0") == 2


def test_html_shows_the_warnings_the_students_code_raised():
    warning = "UserWarning: deprecated <b>.T</b> (attention.py, line 3)"
    html = render_html(_report_of(_failed("one", "x", warnings=(warning,))))
    assert "Warnings your code raised in this exercise" in html and "&lt;b&gt;.T&lt;/b&gt;" in html


def test_exactly_the_report_files_said_to_show_figures_show_them() -> None:
    # A grade writing only the others skips drawing the reference's figures: none may show one.
    import base64
    import dataclasses
    import importlib

    from grader.model import Figure
    from grader.report import RENDERERS, WITH_FIGURES

    mine, theirs = b"\x89PNG student figure", b"\x89PNG reference figure"
    eigen, attention = REPORT.exercises
    report = dataclasses.replace(REPORT, exercises=(
        eigen, dataclasses.replace(attention, figures=(Figure("the plot", mine, theirs),))))
    shown = set()
    for option, (module, name) in RENDERERS.items():
        text = getattr(importlib.import_module(module), name)(report)
        if base64.b64encode(theirs).decode() in text and base64.b64encode(mine).decode() in text:
            shown.add(option)
    assert shown == WITH_FIGURES
