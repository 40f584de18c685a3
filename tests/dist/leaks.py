"""What must never reach students, looked for in a built bundle (the wheel's members included).

:func:`find_leaks` lists every leak it finds, by kind:

* ``body``: the body of a function or class of ``reference/`` (solutions and mistakes modules),
  compared as a normalised AST (docstrings dropped, names, comments and layout ignored), unless
  the skeletons ship that same body (the sheet's buggy layer, the provided guided ReLU);
* ``file``: a file of ``reference/``, by content hash;
* ``hidden-check``: the id of a hidden check, as a name or string in Python or YAML, unless
  the skeletons use that word themselves (``alexnet`` is a hidden check and a torchvision name);
* ``answer``: a number of a reference ``answers.yaml`` with at least three significant
  digits (1, 2 or -0.5 are in every file), written out anywhere, unless listed as published.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any, Iterator

import yaml

# Numbers of the reference answers that a public check states on purpose: the public check
# ps5/param_count.sheet_value compares with the sheet's 197888, which is also the answer
# transformer_params_d128_ff512 (config.yaml makes that check public).
PUBLISHED = {197888}
MIN_STATEMENTS_NODES = 12  # smaller bodies (``return x``) are common to unrelated code


def bundle_files(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every file of the bundle by name, and every member of every wheel or zip in it."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        name = str(path.relative_to(folder))
        yield name, data
        if path.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    yield f"{name}!{member}", archive.read(member)


def normalised_bodies(source: str) -> dict[str, str]:
    """Every function and class body of a module as a normalised AST dump, by qualified name."""
    found: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                body = [s for s in child.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                      and isinstance(s.value.value, str))]
                if body and sum(1 for s in body for _ in ast.walk(s)) >= MIN_STATEMENTS_NODES:
                    found[f"{prefix}{child.name}"] = ast.dump(ast.Module(body=body, type_ignores=[]))
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def _python_sources(files: list[tuple[str, bytes]]) -> Iterator[tuple[str, str]]:
    for name, data in files:
        if name.endswith(".py"):
            try:
                yield name, data.decode("utf-8")
            except UnicodeDecodeError:
                continue


def _tokens(files: list[tuple[str, bytes]]) -> dict[str, str]:
    """Names and strings of every Python and YAML file, each with the first file it is in."""
    seen: dict[str, str] = {}
    for name, source in _python_sources(files):
        for node in ast.walk(ast.parse(source)):
            for value in (getattr(node, "id", None), getattr(node, "name", None), getattr(node, "arg", None),
                          node.value if isinstance(node, ast.Constant) else None):
                if isinstance(value, str):
                    seen.setdefault(value, name)
    for name, data in files:
        if name.endswith((".yaml", ".yml")):
            for value in _yaml_strings(yaml.safe_load(data.decode("utf-8"))):
                seen.setdefault(value, name)
    return seen


def _yaml_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _yaml_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _yaml_strings(item)
    elif isinstance(value, str):
        yield value


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)


def _significant(number: float) -> int:
    return len(re.sub(r"[^0-9]", "", f"{abs(number):g}").strip("0"))


def _spellings(number: float) -> list[str]:
    if float(number).is_integer():
        n = int(number)
        return [str(n), f"{n:,}", f"{n:_}"]
    return [f"{number:g}", repr(float(number))]


def find_leaks(bundle: Path, repository: Path, config: Any) -> list[tuple[str, str]]:
    """Every leak in ``bundle`` as (kind, what and where); empty when there is none."""
    files = list(bundle_files(bundle))
    leaks: list[tuple[str, str]] = []
    reference_files = [p for p in sorted((repository / "reference").rglob("*"))
                       if p.is_file() and "__pycache__" not in p.parts]
    hashes = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in reference_files}
    for name, data in files:
        source = hashes.get(hashlib.sha256(data).hexdigest())
        if source is not None:
            leaks.append(("file", f"{source.relative_to(repository)} as {name}"))
    shipped = {dump for p in sorted((repository / "student_templates").rglob("*.py"))
               for dump in normalised_bodies(p.read_text(encoding="utf-8")).values()}
    secret = {dump: f"{p.relative_to(repository)}:{qualname}" for p in reference_files if p.suffix == ".py"
              for qualname, dump in normalised_bodies(p.read_text(encoding="utf-8")).items() if dump not in shipped}
    for name, source in _python_sources(files):
        try:
            bodies = normalised_bodies(source)
        except SyntaxError:
            continue
        for qualname, dump in bodies.items():
            if dump in secret:
                leaks.append(("body", f"{secret[dump]} as {name}:{qualname}"))
    tokens = _tokens(files)
    templates = [(str(p), p.read_bytes()) for p in sorted((repository / "student_templates").rglob("*")) if p.is_file()]
    in_skeletons = set(_tokens(templates))
    for assignment in config.assignments.values():
        for exercise in assignment.exercises:
            for check in exercise.checks:
                if check.visibility == "hidden" and check.id in tokens and check.id not in in_skeletons:
                    leaks.append(("hidden-check", f"{assignment.id}.{exercise.id}.{check.id} in {tokens[check.id]}"))
    for path in sorted((repository / "reference").glob("*/answers.yaml")):
        for number in _numbers(yaml.safe_load(path.read_text(encoding="utf-8"))):
            if _significant(number) < 3 or number in PUBLISHED:
                continue
            pattern = re.compile(rb"(?<![\d.,_])(" + b"|".join(re.escape(s.encode()) for s in _spellings(number))
                                 + rb")(?![\d_])")
            for name, data in files:
                if not name.endswith((".whl", ".zip")) and pattern.search(data):
                    leaks.append(("answer", f"{number:g} of {path.relative_to(repository)} in {name}"))
    return leaks
