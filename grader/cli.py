"""The ``grader`` command line: ``check``, ``grade``, ``batch``, ``validate`` and ``export``.

    grader check [DIR] [--assignment A] [--exercise E ...]    public checks (students)
    grader check [DIR] --watch                                the same, again on every save
    grader grade DIR --assignment A [--exercise E ...]        every check (tutors, CI)
    grader batch ROOT --assignment A --out OUT [--jobs N]     a whole cohort (tutors)
    grader validate [--assignment A [--exercise E ...]]       the checks catch every mistake
    grader dist student --assignment A --out DIR [--zip FILE] the bundle handed out to students
    grader export gradescope --assignment A --out FILE.zip    a Gradescope autograder (staff)

Exit status: 0 graded (and at or above --fail-under), 1 graded but below --fail-under
(or validation failed), 2 the command could not run, with a one-line reason.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from grader.arguments import build_parser
from grader.config import AssignmentConfig, Config, default_config_path, load_config, require_reference
from grader.errors import GraderError, UsageError
from grader.report import RENDERERS, shows_figures, write_reports
from grader.submission import needed_preload, recognise_assignment

if TYPE_CHECKING:
    from grader.model import GradeReport


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config or default_config_path())


def _assignment(config: Config, args: argparse.Namespace, folder: Path | None) -> AssignmentConfig:
    if args.assignment is None:
        if folder is None or args.mode != "check":
            raise UsageError("--assignment is required")
        return recognise_assignment(config, folder)
    if args.assignment not in config.assignments:
        raise UsageError(f"unknown assignment {args.assignment!r} (known: {', '.join(config.assignments)})")
    return config.assignments[args.assignment]


def check_exercises(assignment: AssignmentConfig, chosen: list[str]) -> None:
    """Every ``--exercise`` must name an exercise of the assignment."""
    known = {e.id for e in assignment.exercises}
    for exercise in chosen:
        if exercise not in known:
            raise UsageError(f"assignment {assignment.id} has no exercise {exercise!r} (known: {', '.join(sorted(known))})")


def _color(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _run_grading(args: argparse.Namespace) -> int:
    folder: Path = args.dir
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    config = _config(args)
    assignment = _assignment(config, args, folder)
    check_exercises(assignment, args.exercise)
    if args.mode == "grade":
        require_reference(assignment)
    for option in RENDERERS:
        target = getattr(args, option)
        if target is not None and not target.resolve().parent.is_dir():
            raise UsageError(f"--{option} {target}: folder {target.parent} does not exist")
    if args.watch and args.fail_under is not None:
        raise UsageError("--fail-under has no meaning with --watch, which runs until you stop it")
    if args.watch and args.jobs:
        raise UsageError("--jobs has no meaning with --watch, which checks in one warm process")

    # Until grade() has loaded what it needs: collections during imports find nothing to free,
    # and cost a quarter of torch's import time (grading._loaded_for_life).
    gc.disable()
    from grader.sandbox.client import sandbox_for

    # The zygote imports torch while this process does the same below, and torchvision or
    # matplotlib only where the files of the exercises to be checked import them.
    chosen = args.exercise or [e.id for e in assignment.exercises]
    sandbox = sandbox_for(assignment, preload=needed_preload(assignment, chosen, folder))
    try:
        if args.require_isolation:
            _require_isolation(args.require_isolation, sandbox.isolation())
        from grader.grading import Options, grade

        # For results.json alone (Gradescope, CI) the reference's figures are not drawn, nor its
        # model trained for them: no such file shows figures.
        options = Options(mode=args.mode, seed=args.seed, exercises=tuple(args.exercise),
                          exercise_seconds=args.timeout, submission_label=str(folder), jobs=_grading_jobs(args),
                          reference_figures=shows_figures(_outputs(args)))
        if args.watch:
            from grader.warm import CheckSession
            from grader.watch import Screen, watch_until_stopped

            screen = Screen(sys.stdout, _color(args.color), _width(), clear=sys.stdout.isatty())
            with CheckSession(assignment, folder.resolve(), options, sandbox) as session:
                watch_until_stopped(session, screen, lambda report: _write_outputs(args, report))
            return 0
        report = grade(assignment, folder.resolve(), sandbox, options)
    finally:
        sandbox.close()
    _write_outputs(args, report)
    from grader.report.text import render_terminal

    sys.stdout.write(render_terminal(report, color=_color(args.color), width=_width(), waited=_seconds_since_start()))
    if args.fail_under is not None:
        value, percent = args.fail_under
        threshold = value * report.max_score / 100 if percent else value
        if report.score < threshold:
            print(f"grader: score {report.score:g} is below --fail-under {threshold:g}", file=sys.stderr)
            return 1
    return 0


def _grading_jobs(args: argparse.Namespace) -> int:
    """How many processes grade one submission's exercises: ``--jobs``, else the cores available
    up to two (a process waits for its worker about half the time, so two keep two cores busy).
    One under ``--watch``, whose warm process keeps what it learnt for the next save."""
    if args.watch:
        return 1
    if args.jobs:
        return int(args.jobs)
    from grader.forked import usable_cores

    return min(2, usable_cores())


def _width() -> int:
    return min(max(shutil.get_terminal_size((88, 24)).columns, 60), 160)


def _seconds_since_start() -> float | None:
    """Wall time since this process started (interpreter and imports included), as the
    student waited it; None where the system does not tell (Linux's /proc does)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _require_isolation(level: str, layers: tuple[str, ...]) -> None:
    """Refuse to grade below ``level`` (a GraderError: exit status 2, nothing graded)."""
    from grader.sandbox.confine import LEVELS, level_reached

    missing = [layer for layer in LEVELS[level] if layer not in layers]
    if missing:
        reached = level_reached(layers) or "none"
        raise GraderError(f"isolation level {level!r} required, this machine reaches {reached!r} "
                          f"(missing: {', '.join(missing)})")


def _outputs(args: argparse.Namespace) -> dict[str, Path | None]:
    """The report files asked for, by their option (``--json FILE`` as ``{"json": FILE}``; None where not)."""
    return {option: getattr(args, option) for option in RENDERERS}


def _write_outputs(args: argparse.Namespace, report: GradeReport) -> None:
    write_reports(report, _outputs(args))


def _run_batch(args: argparse.Namespace) -> int:
    """Grade every entry of ROOT into OUT; --json/--html/--junit get the cohort, --fail-under any student."""
    if not args.root.is_dir():
        raise UsageError(f"{args.root} is not a folder")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a folder")
    config = _config(args)
    assignment = _assignment(config, args, None)
    check_exercises(assignment, args.exercise)
    require_reference(assignment)
    from grader.batch import run, summary
    from grader.batch.intake import read_names
    from grader.batch.records import Settings
    from grader.forked import usable_cores
    from grader.report import write_atomic

    names = read_names(args.names) if args.names else None
    if args.require_isolation:
        from grader.sandbox.client import sandbox_for

        with sandbox_for(assignment) as sandbox:
            _require_isolation(args.require_isolation, sandbox.isolation())
    settings = Settings(assignment.id, assignment.seed if args.seed is None else args.seed, args.timeout,
                        tuple(args.exercise))
    batch = run.Batch(args.root, args.out, config.path, settings, assignment.title, names,
                      args.jobs or usable_cores(), args.scheduler)
    try:
        result = run.run_batch(batch)
    except KeyboardInterrupt:
        print("grader: interrupted; every submission graded so far is kept: run the same command again to resume",
              file=sys.stderr)
        return 130
    renderers = {"json": summary.cohort_json, "junit": lambda r: summary.cohort_junit(r, assignment.id),
                 "html": lambda _: (args.out / "summary.html").read_text(encoding="utf-8"),
                 "markdown": lambda r: summary.cohort_markdown(r, assignment.title)}
    for option, render in renderers.items():
        if getattr(args, option) is not None:
            write_atomic(getattr(args, option), render(result.records))
    print(run.describe(result, args.out))
    if args.fail_under is not None:
        value, percent = args.fail_under
        below = [r for r in result.records if r["score"] is not None
                 and r["score"] < (value * r["max_score"] / 100 if percent else value)]
        if below:
            print(f"grader: {len(below)} of {len(result.records)} students are below --fail-under "
                  f"{value:g}{'%' if percent else ''}", file=sys.stderr)
            return 1
    return 0


def _run_validate(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.assignment is not None and args.assignment not in config.assignments:
        raise UsageError(f"unknown assignment {args.assignment!r} (known: {', '.join(config.assignments)})")
    if args.exercise and args.assignment is None:
        raise UsageError("--exercise needs --assignment")
    chosen = [config.assignments[args.assignment]] if args.assignment else list(config.assignments.values())
    for assignment in chosen:
        require_reference(assignment)
        check_exercises(assignment, args.exercise)
    from grader.sandbox.client import sandbox_for

    ok = True
    for assignment in chosen:
        with sandbox_for(assignment) as sandbox:
            from grader.forked import usable_cores
            from grader.validate import render_validation, validate

            validation = validate(assignment, sandbox, args.seed, args.jobs or usable_cores(), tuple(args.exercise))
        sys.stdout.write(render_validation(validation))
        ok = ok and validation.ok
    return 0 if ok else 1


def _run_dist_student(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.assignment not in config.assignments:
        raise UsageError(f"unknown assignment {args.assignment!r} (known: {', '.join(config.assignments)})")
    if args.out.exists():
        raise UsageError(f"--out {args.out} already exists; the bundle is written to a new folder")
    if args.zip is not None and not args.zip.resolve().parent.is_dir():
        raise UsageError(f"--zip {args.zip}: folder {args.zip.parent} does not exist")
    assignment = config.assignments[args.assignment]
    require_reference(assignment)
    from grader.dist.bundle import build_student_bundle

    bundle = build_student_bundle(config, assignment, args.out, args.zip)
    print(bundle.describe())
def _run_export_gradescope(args: argparse.Namespace) -> int:
    if not args.out.resolve().parent.is_dir():
        raise UsageError(f"--out {args.out}: folder {args.out.parent} does not exist")
    config = _config(args)
    assignment = _assignment(config, args, None)
    from grader.export.gradescope import build

    names = build(config, assignment, args.out)
    print(f"wrote {args.out} ({len(names)} files, {args.out.stat().st_size // 1024} KiB): upload it on the "
          f"assignment's Configure Autograder page; its README.md says which settings to choose")
    return 0


# What runs each command, by the name its parser gives as ``handler`` (grader/arguments.py).
COMMANDS = {"grading": _run_grading, "batch": _run_batch, "validate": _run_validate,
            "dist student": _run_dist_student, "export gradescope": _run_export_gradescope}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (``check`` and ``grade`` end the process instead)."""
    args = build_parser().parse_args(argv)
    status = _handle(args)
    if args.handler == "grading":
        _end_now(status)
    return status


def _handle(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.handler](args)
    except GraderError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the grader's own bug outside every check: still not "below --fail-under"  # noqa: BLE001
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"grader: grader error ({type(exc).__name__}: {exc}) at {Path(where.filename).name}:{where.lineno}; "
              "this is not your fault, please tell the course staff", file=sys.stderr)
        return 2


def _end_now(status: int) -> NoReturn:
    """End the process without tearing the interpreter down.

    With torch loaded, the teardown (mostly collecting every object of every module) takes
    close to a second of CPU, for nothing: the report is printed, each file written and
    closed, the sandbox ended. The student waits for their prompt, not for that.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (grader check | head)
            pass
    os._exit(status)
