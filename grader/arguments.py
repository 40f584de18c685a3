"""The grammar of the ``grader`` command line: its commands, their options, and what each option accepts.

What the commands do is :mod:`grader.cli`; here every malformed argument is one line and exit
status 2, naming the command's ``--help``:

>>> build_parser().parse_args(["grade", "sub", "--timeout", "-3"])     # doctest: +SKIP
grader: argument --timeout: expected a positive number of seconds, got '-3' (see grader grade --help)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from grader import __version__


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"grader: {message} (see grader {self.prog.split()[-1]} --help)\n"
                  if " " in self.prog else f"grader: {message} (see grader --help)\n")


def fail_under(text: str) -> tuple[float, bool]:
    """'20' means 20 points, '80%' means 80 percent of the maximum."""
    try:
        return (float(text[:-1]), True) if text.endswith("%") else (float(text), False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected points like 20 or a percentage like 80%, got {text!r}") from None


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def seed(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of job processes, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each command's ``handler`` names what runs it (``cli.COMMANDS``).

    >>> build_parser().parse_args(["grade", "sub", "-a", "basics", "--fail-under", "80%"]).fail_under
    (80.0, True)
    """
    parser = Parser(prog="grader", description="Check PyTorch exercises against reference solutions.")
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=Parser)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--assignment", "-a", help="assignment id from config.yaml")
        sub.add_argument("--exercise", "-e", action="append", default=[], help="grade only this exercise (repeatable)")
        sub.add_argument("--json", type=Path, metavar="FILE", help="write results.json (Gradescope format)")
        sub.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
        sub.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
        sub.add_argument("--markdown", type=Path, metavar="FILE",
                         help="write a Markdown summary (for $GITHUB_STEP_SUMMARY)")
        sub.add_argument("--fail-under", type=fail_under, metavar="SCORE",
                         help="exit 1 if the score is below SCORE points (or SCORE%% of the maximum)")
        sub.add_argument("--timeout", type=positive_seconds, metavar="SECONDS", help="time limit per exercise")
        sub.add_argument("--seed", type=seed, metavar="N", help="hypothesis seed (default from config.yaml)")
        sub.add_argument("--config", type=Path, metavar="FILE", help="config.yaml to use")
        sub.add_argument("--color", choices=("auto", "always", "never"), default="auto")
        sub.add_argument("--require-isolation", choices=("process", "network", "full"), metavar="LEVEL",
                         help="refuse to grade below this isolation level: process, network or full")

    def one_submission_jobs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--jobs", "-j", type=jobs, metavar="N",
                         help="processes grading exercises side by side (default: the cores available, at most 2)")

    check = verbs.add_parser("check", help="run the public checks on your submission")
    check.add_argument("dir", nargs="?", type=Path, default=Path("."), help="submission folder (default: .)")
    check.add_argument("--watch", "-w", action="store_true",
                       help="stay running: check again each exercise whose file you save (Ctrl-C to stop)")
    common(check)
    one_submission_jobs(check)
    check.set_defaults(handler="grading", mode="check")

    grade = verbs.add_parser("grade", help="run every check, public and hidden")
    grade.add_argument("dir", type=Path, help="submission folder")
    common(grade)
    one_submission_jobs(grade)
    grade.set_defaults(handler="grading", mode="grade", watch=False)

    batch = verbs.add_parser(
        "batch", help="grade a cohort: every folder or .zip in ROOT is one submission",
        epilog="For batch, --json writes every student's record as one file, --junit one JUnit file with a "
               "test suite per student, --html a copy of summary.html; --fail-under exits 1 if any student is "
               "below it. A second run resumes: only missing or changed entries are graded.")
    batch.add_argument("root", type=Path, help="folder holding one folder or .zip per student")
    batch.add_argument("--out", "-o", type=Path, required=True, help="folder for the results (resumed if it exists)")
    batch.add_argument("--jobs", "-j", type=jobs, metavar="N", help="job processes (default: the cores available)")
    batch.add_argument("--names", type=Path, metavar="CSV", help="rows 'entry,student' that rename entries")
    batch.add_argument("--scheduler", metavar="ADDRESS", help="grade on the Dask cluster at ADDRESS (tcp://host:8786)")
    common(batch)
    batch.set_defaults(handler="batch", mode="grade")

    validate = verbs.add_parser("validate", help="prove the checks: reference full marks, every mistake caught")
    validate.add_argument("--assignment", "-a", help="assignment id (default: all)")
    validate.add_argument("--exercise", "-e", action="append", default=[],
                          help="validate only this exercise of the assignment (repeatable)")
    validate.add_argument("--seed", type=seed, metavar="N")
    validate.add_argument("--jobs", "-j", type=jobs, metavar="N",
                          help="processes grading mistakes (default: the cores available)")
    validate.add_argument("--config", type=Path, metavar="FILE")
    validate.set_defaults(handler="validate")

    dist = verbs.add_parser("dist", help="build what a course hands out")
    kinds = dist.add_subparsers(dest="kind", required=True, parser_class=Parser)
    student = kinds.add_parser(
        "student", help="the student bundle: skeletons, helper files, the grader with the public checks, CI files",
        epilog="Built from an allow-list: never the reference solutions, the mistakes catalogue, hidden checks "
               "or the reference answers. Takes about as long as grading every catalogued mistake once.")
    student.add_argument("--assignment", "-a", required=True, help="assignment id from config.yaml")
    student.add_argument("--out", "-o", type=Path, required=True, help="folder to create (must not exist)")
    student.add_argument("--zip", type=Path, metavar="FILE", help="also write the bundle as this .zip")
    student.add_argument("--config", type=Path, metavar="FILE", help="config.yaml to use")
    student.set_defaults(handler="dist student")

    export = verbs.add_parser("export", help="an autograder for a course platform, built from this checkout")
    targets = export.add_subparsers(dest="target", required=True, parser_class=Parser)
    gradescope = targets.add_parser("gradescope", help="the zip for Gradescope's Configure Autograder page")
    gradescope.add_argument("--assignment", "-a", required=True, help="assignment id from config.yaml")
    gradescope.add_argument("--out", "-o", type=Path, required=True, metavar="FILE.zip", help="the zip to write")
    gradescope.add_argument("--config", type=Path, metavar="FILE", help="config.yaml to use")
    gradescope.set_defaults(handler="export gradescope", mode="grade")
    return parser
