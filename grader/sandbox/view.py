"""The worker's private view of the file system: only what running Python and torch needs.

Built in a new mount namespace (so nothing here is seen outside the worker), the way
bubblewrap builds a container's root: an empty tmpfs becomes the root, and into it go,
read-only, the system libraries (``/usr``), the Python installation and its site-packages,
a few device nodes, a fresh ``/proc`` that shows only the worker's own processes, a private
``/tmp`` of 64 MiB, and, writable, the worker's scratch folder at its usual path. The
repository (reference solutions, checks, config.yaml), other submissions, the grader's
output folders, ``/etc`` and the home folder do not exist in that view. The files of the
grader's installation (:func:`install_files`) are covered, by an empty folder or file, even
where they lie inside site-packages: the worker imported what it needs of the grader before
the view was built.

>>> build_view("/tmp/grader-1/w-2", "/tmp/grader-1/root", with_proc=True)   # doctest: +SKIP
"""

from __future__ import annotations

import glob
import importlib.metadata
import os
import site
import sys

from grader.sandbox import linux
from grader.sandbox.linux import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
)

SYSTEM = ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin")
DEVICES = ("null", "zero", "random", "urandom")
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
# The distribution whose files the worker must not read: pyproject.toml's name, the student bundle's too.
DISTRIBUTION = "grader"


def python_trees() -> list[str]:
    """Folders holding the Python installation and its packages, and downloaded weights.

    A virtual environment inside the grader's repository is bound alone, never the
    repository around it; a grader installed into site-packages is covered (see above).
    """
    trees = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
    try:
        import torch.hub  # where already downloaded weights live: ``load_model`` may use them

        trees.add(torch.hub.get_dir())
    except ImportError:
        pass
    return sorted(t for t in trees if os.path.isdir(t))


def install_files(distribution: str = DISTRIBUTION) -> list[str]:
    """What the installations of ``distribution`` put inside site-packages, as real paths.

    Its package folders and ``.dist-info`` whole, and its files beside them: an editable
    install's ``.pth`` file and finder module (whose text names the project folder) with the
    finder's compiled copy. Computed in the worker, from the installations' ``RECORD``, so that
    no module of the grader keeps where it is installed (``forget.py``).

    >>> any(path.endswith(".dist-info") for path in install_files())     # doctest: +SKIP
    True
    """
    paths: set[str] = set()
    for dist in importlib.metadata.distributions(name=distribution):
        for file in dist.files or ():
            if file.parts[0] == "..":  # a script in bin/: it names the package, not where it is
                continue
            top = file.parts[0] if len(file.parts) > 1 and file.parts[0] != "__pycache__" else str(file)
            paths.add(os.path.realpath(dist.locate_file(top)))
            if file.suffix == ".py" and len(file.parts) == 1:
                folder = os.path.dirname(os.path.realpath(dist.locate_file(file)))
                paths.update(glob.glob(os.path.join(folder, "__pycache__", f"{file.stem}.*.pyc")))
    return sorted(paths)


READ_ONLY = MS_RDONLY | MS_NOSUID | MS_NODEV
WRITABLE = MS_NOSUID | MS_NODEV | MS_NOEXEC


def _bind(source: str, root: str, flags: int | None = READ_ONLY) -> None:
    """Bind ``source`` at the same path under ``root``; remount it with ``flags`` unless None."""
    target = root + source
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    linux.mount(source, target, None, MS_BIND | MS_REC)
    if flags is not None:
        linux.mount(None, target, None, MS_BIND | MS_REMOUNT | flags)


def cover(path: str) -> None:
    """Cover ``path`` in the view with an empty read-only folder, or with ``/dev/null`` for a file."""
    if os.path.isdir(path):
        linux.mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=0555")
    else:
        linux.mount("/dev/null", path, None, MS_BIND)
        linux.mount(None, path, None, MS_BIND | MS_REMOUNT | READ_ONLY)


def build_view(folder: str, root: str, with_proc: bool) -> bool:
    """Replace this process's root by the private view; True when it is in force.

    Enters a new mount namespace first (needs root or CAP_SYS_ADMIN). ``root`` is an
    empty folder to build on; ``with_proc`` mounts ``/proc``, which is only safe in a new
    PID namespace (otherwise it would show the grader's processes). On any refusal the
    old root stays in place, and the caller reports the layer as missing.
    """
    if not linux.unshare(linux.CLONE_NEWNS):
        return False
    try:
        linux.mount(None, "/", None, MS_REC | MS_PRIVATE)
        linux.mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
        for path in SYSTEM:
            if os.path.islink(path):
                os.symlink(os.readlink(path), root + path)
            elif os.path.isdir(path):
                _bind(path, root)
        # /tmp first: Python, a virtual environment or the scratch folder may live below it.
        os.makedirs(root + "/tmp", exist_ok=True)
        linux.mount("tmpfs", root + "/tmp", "tmpfs", WRITABLE, "size=64m,mode=1777")
        for path in python_trees():
            _bind(path, root)
        for path in install_files():
            if os.path.lexists(root + path):
                cover(root + path)
        for path in ETC_FILES:
            if os.path.isfile(path):
                _bind(path, root)
        for name in DEVICES:
            _bind(f"/dev/{name}", root, flags=None)  # device nodes: no nodev
        if with_proc:
            os.makedirs(root + "/proc")
            linux.mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _bind(folder, root, WRITABLE)
        os.chdir(root)
    except OSError:
        return False
    if not linux.pivot_root_here():
        return False
    os.chdir(folder)
    return True
