"""A Gradescope autograder for one assignment, as the zip Gradescope's "Configure Autograder" takes.

>>> config = load_config(default_config_path())                         # doctest: +SKIP
>>> build(config, config.assignments["basics"], Path("basics-gradescope.zip"))  # doctest: +SKIP
['README.md', 'autograder_error.json', ..., 'run_autograder', 'setup.sh', ...]

At the zip's root: ``setup.sh`` (run once when Gradescope builds the image: Python, a virtual
environment with the pinned dependencies and torch's CPU-only build, the grader), and
``run_autograder`` (run for every submission: writes ``/autograder/results/results.json``,
an "autograder error, not your fault" result if the grader fails); beside them the staff's
``README.md``, the pins, the fallback result, and the grader with this assignment only: its
config, checks, reference solutions and helper files. Gradescope unpacks all of it into
``/autograder/source``.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import jinja2
import yaml

from grader.config import AssignmentConfig, Config
from grader.export.pins import pinned
from grader.report.gradescope import STDOUT_VISIBILITY

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Seconds run_autograder gives the grader: under Gradescope's default timeout of 600 s, so
# that a hung run still ends with the error result written, not with nothing.
DEADLINE = 540
EXECUTABLE = ("setup.sh", "run_autograder")
# Fixed timestamps and modes: the same checkout exports the same bytes.
_EPOCH = (2000, 1, 1, 0, 0, 0)
_SKIPPED = ("__pycache__", ".pyc", ".DS_Store")


def max_score(assignment: AssignmentConfig) -> float:
    """Points of every check and answer of the assignment."""
    return sum(c.points for e in assignment.exercises for c in e.checks) + \
        sum(a.points for e in assignment.exercises for a in e.answers)


def error_results(assignment: AssignmentConfig) -> dict[str, Any]:
    """The results.json of a run in which the grader failed: score 0, one visible test saying so.

    >>> error_results(assignment)["tests"][0]["name"]                      # doctest: +SKIP
    'Autograder error (not your fault)'
    """
    message = ("The autograder failed before it could grade your submission. This is not your fault, and "
               "nothing was held against your work: please tell the course staff, who can see what went "
               "wrong and regrade your submission.")
    return {
        "score": 0,
        "max_score": max_score(assignment),
        "execution_time": 0,
        "output": f"{assignment.title}: autograder error, not your fault.",
        "output_format": "text",
        "stdout_visibility": STDOUT_VISIBILITY,
        "tests": [{
            "name": "Autograder error (not your fault)",
            "score": 0,
            "max_score": max_score(assignment),
            "status": "failed",
            "output": message,
            "output_format": "text",
            "visibility": "visible",
            "extra_data": {"outcome": "grader-error"},
        }],
        "extra_data": {"assignment": assignment.id, "grader_error": True},
    }


def trimmed_config(config_path: Path, assignment_id: str) -> str:
    """config.yaml with the defaults and this one assignment: the others' folders are not shipped."""
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    kept = {key: value for key, value in raw.items() if key != "assignments"}
    kept["assignments"] = {assignment_id: raw["assignments"][assignment_id]}
    return (f"# Exported from {config_path.name} for the Gradescope autograder of {assignment_id!r}; "
            "change the original and export again.\n" + yaml.safe_dump(kept, sort_keys=False, allow_unicode=True))


def _tree(folder: Path, inside: str) -> dict[str, bytes]:
    """Every file under ``folder`` (no caches), named ``inside/<relative path>``."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part.endswith(_SKIPPED) for part in path.relative_to(folder).parts):
            files[f"{inside}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    return files


def _render(name: str, **values: Any) -> bytes:
    # Shell's ${#array[@]} would open a Jinja comment: comments get delimiters no script uses.
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                                     keep_trailing_newline=True, autoescape=False,
                                     comment_start_string="<%#", comment_end_string="#%>")
    return environment.get_template(name).render(**values).encode()


def contents(config: Config, assignment: AssignmentConfig) -> dict[str, bytes]:
    """Every member of the zip, by name."""
    checkout = config.path.parent
    torch, rest = pinned(checkout / "pyproject.toml")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    values = {"assignment": assignment.id, "title": assignment.title, "python": python, "deadline": DEADLINE,
              "max_score": max_score(assignment)}
    files = {
        "setup.sh": _render("setup.sh", **values),
        "run_autograder": _render("run_autograder", **values),
        "README.md": _render("README.md", **values),
        "autograder_error.py": (TEMPLATES / "autograder_error.py").read_bytes(),
        "autograder_error.json": (json.dumps(error_results(assignment), indent=2) + "\n").encode(),
        "requirements-torch.txt": ("\n".join(torch) + "\n").encode(),
        "requirements.txt": ("\n".join(rest) + "\n").encode(),
        "pyproject.toml": (checkout / "pyproject.toml").read_bytes(),
        "config.yaml": trimmed_config(config.path, assignment.id).encode(),
    }
    files.update(_tree(checkout / "grader", "grader"))
    for folder in (assignment.reference, assignment.templates):
        files.update(_tree(folder, folder.relative_to(checkout).as_posix()))
    return files


def build(config: Config, assignment: AssignmentConfig, out: Path) -> list[str]:
    """Write the autograder zip to ``out`` (atomically); the names of its members."""
    files = contents(config, assignment)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (0o100755 if name in EXECUTABLE else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sorted(files)
