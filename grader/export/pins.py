"""The versions an exported autograder installs: those this checkout is tested with.

Every distribution the grader needs, directly or through another, pinned to the version
installed beside this checkout, found by walking the installed metadata from the
``dependencies`` of ``pyproject.toml``. torch's CUDA libraries (``nvidia-*``, ``cuda-*``,
``triton``) are left out: the export installs torch's CPU-only build, which needs none.

>>> torch, rest = pinned(Path("pyproject.toml"))                  # doctest: +SKIP
>>> torch
('torch==2.14.1', 'torchvision==0.29.1')
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from grader.errors import UsageError

# Installed from PyTorch's CPU index, apart from everything else.
TORCH = ("torch", "torchvision")
# Only the CUDA build of torch needs these (several GB Gradescope would download for nothing).
_CUDA_ONLY = re.compile(r"^(nvidia-.*|cuda-.*|triton)$")
# Needed to install the grader itself (editable, without build isolation).
BUILD = ("setuptools",)


def _dependencies(pyproject: Path) -> list[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        raise UsageError("exporting an autograder needs Python 3.11 or newer (to read pyproject.toml)") from None
    try:
        return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{pyproject}: cannot read [project] dependencies ({exc})") from None


def _wanted(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether ``requirement`` applies here, with the extras it was asked for."""
    if requirement.marker is None:
        return True
    environment = dict(default_environment())
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras or {""})


def closure(roots: list[str]) -> dict[str, str]:
    """Installed version of every distribution ``roots`` need here, by canonical name.

    >>> closure(["jinja2"])                                          # doctest: +SKIP
    {'jinja2': '3.1.6', 'markupsafe': '3.0.3'}
    """
    found: dict[str, str] = {}
    pending = [(Requirement(text), frozenset[str]()) for text in roots]
    while pending:
        requirement, asked = pending.pop()
        name = canonicalize_name(requirement.name)
        if _CUDA_ONLY.match(name) or not _wanted(requirement, asked):
            continue
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            raise UsageError(f"{name} (needed by the grader) is not installed here, so no tested version "
                             "can be pinned; install the grader's dependencies first") from None
        if name in found and not requirement.extras:
            continue
        found[name] = version
        extras = frozenset(requirement.extras)
        pending += [(Requirement(text), extras) for text in importlib.metadata.requires(name) or ()]
    return found


def pinned(pyproject: Path) -> tuple[list[str], list[str]]:
    """``name==version`` lines: torch and torchvision, then everything else (build tools included)."""
    versions = closure(_dependencies(pyproject) + list(BUILD))
    torch = [f"{name}=={versions.pop(name)}" for name in TORCH]
    return torch, [f"{name}=={version}" for name, version in sorted(versions.items())]
