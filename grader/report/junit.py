"""JUnit XML for CI: one testsuite per exercise, one testcase per check.

A check that did not pass has a ``failure`` (an ``error`` for a grader error) whose ``type``
is its outcome ("wrong", "timeout", ... "grader-error").

Student text can hold characters XML 1.0 forbids; they are dropped before the tree is
serialised (ElementTree escapes markup but not those).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.model import GradeReport
from grader.report.text import check_text, points

_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def render_junit(report: GradeReport) -> str:
    root = ET.Element("testsuites", name=f"grader {report.assignment}",
                      tests=str(sum(len(e.checks) for e in report.exercises)),
                      failures=str(sum(c.status == "failed" for c in report.checks())),
                      errors=str(len(report.grader_errors)), time=f"{report.seconds:.3f}")
    for exercise in report.exercises:
        suite = ET.SubElement(
            root, "testsuite", name=f"{report.assignment}.{exercise.id}", tests=str(len(exercise.checks)),
            failures=str(sum(c.status == "failed" for c in exercise.checks)),
            errors=str(sum(c.status == "error" for c in exercise.checks)),
            time=f"{sum(c.seconds for c in exercise.checks):.3f}",
        )
        for check in exercise.checks:
            case = ET.SubElement(suite, "testcase", classname=f"{report.assignment}.{exercise.id}",
                                 name=check.check, time=f"{check.seconds:.3f}")
            props = ET.SubElement(case, "properties")
            for key, value in (("points", points(check.points)), ("score", points(check.score)),
                               ("visibility", check.visibility)):
                ET.SubElement(props, "property", name=key, value=value)
            if check.status != "passed":
                summary = check.feedback.summary if check.feedback else check.outcome
                tag = "failure" if check.status == "failed" else "error"
                element = ET.SubElement(case, tag, message=xml_text(summary)[:500], type=check.outcome)
                element.text = xml_text(check_text(check))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
