"""The student bundle of one assignment, assembled from an allow-list.

    >>> bundle = build_student_bundle(config, config.assignments["basics"], Path("dist/basics"))  # doctest: +SKIP
    >>> print(bundle.describe())                                                                  # doctest: +SKIP

What goes in, and nothing else:

* from the templates: the exercise files named in config.yaml, the ``provided`` helper files
  and images, and ``answers.yaml`` (refused unless every key is ``null``);
* ``README.md`` for students, ``.github/workflows/grader.yml`` and ``.gitlab-ci.yml``;
* ``wheels/grader-<version>+<assignment>-py3-none-any.whl``, built from a staging copy of
  the engine's packages (named below), the public checks of this assignment rewritten by
  :mod:`grader.dist.public_checks`, a config with that assignment's public checks only, the
  grader's own copies of the provided files, and the hint table of :mod:`grader.dist.hints`.

The reference solutions, the mistakes catalogue, hidden checks, reference answers and other
assignments are never copied, because nothing names them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined

from grader.config import AssignmentConfig, Config
from grader.dist.public_checks import public_source
from grader.errors import GraderError

# The engine: these packages' own modules (not their subpackages), and the data files they read.
ENGINE_PACKAGES = ("grader", "grader.batch", "grader.checks", "grader.dist", "grader.report", "grader.sandbox")
ENGINE_DATA = ("report/templates/*.j2",)
WHEELS = "wheels"
SUMMARY_FILE = "grader-summary.md"
JUNIT_FILE = "grader-junit.xml"

TEMPLATES = Environment(loader=PackageLoader("grader.dist", "templates"), undefined=StrictUndefined,
                        keep_trailing_newline=True, autoescape=False)


@dataclass(frozen=True)
class Bundle:
    """A built bundle: its folder, the wheel in it, the hint table's size, the zip if any."""

    assignment: str
    folder: Path
    wheel: Path
    hint_bytes: int
    zip: Path | None = None

    def describe(self) -> str:
        files = sorted(p for p in self.folder.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in files)
        lines = [f"student bundle of {self.assignment}: {self.folder} ({len(files)} files, {size / 1024:.0f} KiB)",
                 f"  grader: {self.wheel.relative_to(self.folder)} ({self.wheel.stat().st_size / 1024:.0f} KiB, "
                 f"hint table {self.hint_bytes / 1024:.0f} KiB before compression)"]
        if self.zip is not None:
            lines.append(f"  zip: {self.zip} ({self.zip.stat().st_size / 1024:.0f} KiB)")
        return "\n".join(lines)


def build_student_bundle(config: Config, assignment: AssignmentConfig, out: Path, zip_path: Path | None = None) -> Bundle:
    """Write the bundle to ``out`` (a new folder) and, if asked, to ``zip_path``."""
    from grader.dist.hints import record_hints
    from grader.sandbox.client import sandbox_for

    answers = student_answers(assignment)
    repository = config.path.resolve().parent
    with sandbox_for(assignment) as sandbox:
        hints = record_hints(assignment, sandbox)
    with tempfile.TemporaryDirectory(prefix="grader-dist-") as tmp:
        folder = Path(tmp) / "bundle"
        for name in student_files(assignment):
            _copy(assignment.templates / name, folder / name)
        (folder / assignment.answers_file).write_text(answers, encoding="utf-8")
        stage = Path(tmp) / "stage"
        stage_package(repository, assignment, hints, stage)
        wheel = build_wheel(stage, folder / WHEELS)
        render_student_files(assignment, wheel.name, folder)
        shutil.move(str(folder), out)
    wheel = out / WHEELS / wheel.name
    if zip_path is not None:
        write_zip(out, zip_path)
    return Bundle(assignment.id, out, wheel, len(hints), zip_path)


def student_files(assignment: AssignmentConfig) -> list[str]:
    """The skeletons and provided files, in the templates' folder, by name."""
    names = list(dict.fromkeys([*(e.file for e in assignment.exercises), *assignment.provided]))
    for name in names:
        if not (assignment.templates / name).is_file():
            raise GraderError(f"{assignment.templates / name}: a file of the student bundle is missing")
    return names


def student_answers(assignment: AssignmentConfig) -> str:
    """The templates' answers.yaml, refused unless every key is ``null``."""
    path = assignment.templates / assignment.answers_file
    try:
        text = path.read_text(encoding="utf-8")
        values = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GraderError(f"{path}: cannot read it ({exc})") from exc
    filled = sorted(key for key, value in values.items() if value is not None) if isinstance(values, dict) else ["?"]
    if filled:
        raise GraderError(f"{path}: every key must be null in what students get; filled in: {', '.join(filled)}")
    return text


def bundle_config(assignment: AssignmentConfig) -> dict[str, Any]:
    """The bundle's config.yaml: this assignment, its public checks and the form of its answers;
    no reference, no hidden check, no answer value."""
    limits = assignment.limits
    exercises = {}
    for exercise in assignment.exercises:
        public = {c.id: {"points": c.points, "visibility": "public",
                         **({"max_examples": c.max_examples} if c.max_examples else {})}
                  for c in exercise.checks if c.visibility == "public"}
        exercises[exercise.id] = {
            "title": exercise.title, "file": exercise.file, "functions": list(exercise.functions),
            "forbidden": {f: list(p) for f, p in exercise.forbidden.items()},
            "checks": public, "free_text": list(exercise.free_text),
            "points_after_submission": exercise.points_after_submission,
            "hints": dict(exercise.hints),
            # The form of each hand-computed answer, so that a self-check can judge answers.yaml;
            # never the reference's values.
            "answers": {a.key: {"points": a.points, "tolerance": a.tolerance, "visibility": a.visibility,
                                **({"shape": list(a.shape)} if a.kind == "matrix" else {"kind": a.kind})}
                        for a in exercise.answers},
        }
    return {"assignments": {assignment.id: {
        "title": assignment.title, "templates": ".", "hints": "hints.bin",
        "checks": assignment.checks_package, "answers": assignment.answers_file,
        "limits": {"call_seconds": limits.call_seconds, "exercise_seconds": limits.exercise_seconds,
                   "max_message_mb": limits.max_message_mb, "memory_mb": limits.memory_mb,
                   "processes": limits.processes},
        "hypothesis": {"max_examples": assignment.max_examples, "seed": assignment.seed,
                       "shrink_calls": assignment.shrink_calls},
        "preload": list(assignment.preload), "provided": list(assignment.provided),
        "exercises": exercises,
    }}}


def stage_package(repository: Path, assignment: AssignmentConfig, hints: bytes, stage: Path) -> None:
    """The source tree of the bundle's wheel: engine, public checks, course data, pyproject."""
    for package in ENGINE_PACKAGES:
        source = repository / package.replace(".", "/")
        for module in sorted(source.glob("*.py")):
            _copy(module, stage / module.relative_to(repository))
    for pattern in ENGINE_DATA:
        for data in sorted((repository / "grader").glob(pattern)):
            _copy(data, stage / data.relative_to(repository))
    checks = assignment.checks_package.replace(".", "/")
    for package in (Path(checks).parent, Path(checks)):
        _copy(repository / package / "__init__.py", stage / package / "__init__.py")
    for exercise in assignment.exercises:
        public = {c.id for c in exercise.checks if c.visibility == "public"}
        source = (repository / checks / f"{exercise.id}.py").read_text(encoding="utf-8")
        target = stage / checks / f"{exercise.id}.py"
        target.write_text(public_source(source, public, exercise.id), encoding="utf-8")
    # The course's data: config, hint table and the grader's own copies of the provided files.
    course = stage / "grader" / "course"
    course.mkdir(parents=True)
    for name in assignment.provided:
        _copy(assignment.templates / name, course / name)
    (course / "hints.bin").write_bytes(hints)
    header = (f"# The grader of the student bundle of {assignment.id}, written by `grader dist student`:\n"
              "# public checks only; hidden checks and answers are graded after submission.\n")
    (course / "config.yaml").write_text(header + yaml.safe_dump(bundle_config(assignment), sort_keys=False),
                                        encoding="utf-8")
    (stage / "pyproject.toml").write_text(pyproject(repository, assignment), encoding="utf-8")


def pyproject(repository: Path, assignment: AssignmentConfig) -> str:
    """The staging copy's pyproject.toml: the repository's project, version tagged with the assignment."""
    import tomllib  # Python 3.11: building a bundle needs it, installing one does not

    project = tomllib.loads((repository / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = ", ".join(f'"{d}"' for d in project["dependencies"])
    data = ", ".join(f'"{d}"' for d in (*ENGINE_DATA, "course/*"))
    return (
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{project["name"]}"\nversion = "{project["version"]}+{assignment.id}"\n'
        f'description = "The checker of {assignment.id}: public checks only (a student bundle)"\n'
        f'requires-python = "{project["requires-python"]}"\ndependencies = [{dependencies}]\n\n'
        '[project.scripts]\ngrader = "grader.cli:main"\n\n'
        '[tool.setuptools.packages.find]\ninclude = ["grader*"]\n\n'
        f'[tool.setuptools.package-data]\ngrader = [{data}]\n'
    )


def build_wheel(stage: Path, target: Path) -> Path:
    """``pip wheel`` of the staging copy, offline, with this interpreter's setuptools."""
    target.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
               "--disable-pip-version-check", "--wheel-dir", str(target), str(stage)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=stage)
    wheels = sorted(target.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        last = (done.stderr.strip().splitlines() or ["no wheel was written"])[-1]
        raise GraderError(f"building the bundle's wheel failed: {last}")
    return wheels[0]


def render_student_files(assignment: AssignmentConfig, wheel: str, folder: Path) -> None:
    """README.md and the CI files, from the templates in ``grader/dist/templates``."""
    public = sum(c.points for e in assignment.exercises for c in e.checks if c.visibility == "public")
    later = sum(e.points_after_submission for e in assignment.exercises)
    values = {"assignment": assignment, "wheel": f"{WHEELS}/{wheel}", "public": public, "total": public + later,
              "summary_file": SUMMARY_FILE, "junit_file": JUNIT_FILE,
              "free_text": any(e.free_text for e in assignment.exercises),
              "files": [(e.file, e.title) for e in assignment.exercises], "provided": assignment.provided}
    for template, name in (("README.md.j2", "README.md"), ("grader.yml.j2", ".github/workflows/grader.yml"),
                           ("gitlab-ci.yml.j2", ".gitlab-ci.yml")):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(TEMPLATES.get_template(template).render(**values), encoding="utf-8")


def write_zip(folder: Path, zip_path: Path) -> None:
    """The bundle's files in a .zip, under one top folder named like the bundle's."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, Path(folder.name) / path.relative_to(folder))


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
