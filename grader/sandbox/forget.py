"""Leave nothing of the grader where student code could find it, though the worker runs the grader's code.

The zygote imports what it and its workers run of the grader (this package and
``grader.errors``), then calls :func:`forget` once, before its main loop. Every worker forked
from it then starts in a process where

* no module of the grader is in ``sys.modules`` and none can be imported: the finders and
  path hooks of an editable install are gone from the import system (their modules too, with
  the project folder they name), and so are the ``sys.path`` entries that lead to the package
  (the private view or Landlock keep the files of a copy installed in site-packages
  unreadable, ``view.install_files``);
* the code that runs (the zygote's loop, the keeper, the worker's request loop, the codec)
  names no file: each function's ``co_filename`` is its module's name in angle brackets,
  ``<grader.sandbox.worker>``, which ``linecache`` and ``inspect`` never look up, and the
  modules have no ``__file__``, ``__spec__``, ``__loader__`` or ``__path__``;
* Python's import caches and ``linecache`` hold nothing of it.

The code is renamed before it runs because a running frame keeps the code object it started
with, and student code sees the whole stack (``sys._current_frames()``): the zygote is
started with ``python -c`` (``-m`` leaves runpy's frames, holding the module's path, below
every frame; ``client.ZYGOTE``), and calls this before its main loop. What student code can
still reach is the running objects themselves and their modules' names; it could always
replace them, and the parent trusts no reply anyway.

>>> forget()                                                          # doctest: +SKIP
>>> import grader                                                     # doctest: +SKIP
ModuleNotFoundError: No module named 'grader'
"""

from __future__ import annotations

import gc
import importlib
import linecache
import os
import sys
import types
from collections.abc import Iterable, Iterator
from importlib.machinery import PathFinder
from typing import Any

# What tells where a module was loaded from.
_LOCATION = ("__file__", "__cached__", "__spec__", "__loader__", "__path__")


def forget(package: str = "grader") -> None:
    """Rename the code of ``package``, drop its modules and the import hooks that find it; see above."""
    finders = _drop_finders(package)
    names = [name for name in sys.modules if name == package or name.startswith(package + ".")]
    modules = [sys.modules.pop(name) for name in names] + finders
    # A module's code names the file its __file__ names (importlib sees to it, cached or not).
    labels = {module.__file__: f"<{module.__name__}>" for module in modules if getattr(module, "__file__", None)}
    for function in _functions((value for module in modules for value in vars(module).values()),
                               {module.__name__ for module in modules}):
        label = labels.get(function.__code__.co_filename)
        if label is not None:
            function.__code__ = relabel(function.__code__, label)
    for module in modules:
        for name in _LOCATION:
            vars(module).pop(name, None)
    for module in finders:  # nothing calls them any more; an editable finder's data names the project folder
        vars(module).clear()
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    linecache.clearcache()
    # What only the dropped modules held (their code as first loaded, an import's leftovers) is
    # gone now, not at some later collection: the zygote loads with the collector off.
    gc.collect()


def relabel(code: types.CodeType, label: str) -> types.CodeType:
    """``code`` and the code nested in it (inner functions, lambdas, comprehensions) with ``label`` for a file name.

    >>> relabel(compile("lambda: 1", "/srv/grader/x.py", "eval"), "<x>").co_consts[0].co_filename
    '<x>'
    """
    consts = tuple(relabel(c, label) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=label, co_consts=consts)


def _functions(values: Iterable[object], modules: set[str]) -> Iterator[types.FunctionType]:
    """The functions among ``values``: also those of the classes defined in ``modules`` and in containers.

    A walk from the modules' names rather than a search of ``gc.get_objects()``: the zygote
    holds about 200 000 objects once torch is imported, and the search would cost it a
    fifth of a second at every start.
    """
    stack: list[Any] = list(values)
    seen: set[int] = set()
    while stack:
        obj = stack.pop()
        kind = type(obj)  # not isinstance(): a lazy object of torch's warns when its __class__ is read
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if kind is types.FunctionType:
            yield obj
        elif issubclass(kind, type) and obj.__module__ in modules:
            stack += vars(obj).values()
        elif kind in (staticmethod, classmethod):
            stack.append(obj.__func__)
        elif kind is property:
            stack += [obj.fget, obj.fset, obj.fdel]
        elif kind in (tuple, list, set, frozenset):
            stack += obj
        elif kind is dict:
            stack += obj.values()


def _drop_finders(package: str) -> list[types.ModuleType]:
    """Remove every way the import system has left to find ``package``; the modules of the finders removed.

    Those are the meta-path finders that find it (an editable install's), the modules that
    define them and their path hooks, the ``sys.path`` entries that name nothing on disk
    (only such hooks could serve them), and the entries outside the Python installation that
    hold the package (the project folder, put there by an older editable install). A copy
    installed in site-packages stays where it is: its files are unreadable to the worker.
    """
    dropped = [finder for finder in sys.meta_path if finder is not PathFinder and _finds(finder, package)]
    owners = {getattr(finder, "__module__", None) for finder in dropped}
    sys.meta_path[:] = [finder for finder in sys.meta_path if finder not in dropped]
    sys.path_hooks[:] = [hook for hook in sys.path_hooks if getattr(hook, "__module__", None) not in owners]
    python = tuple(os.path.realpath(prefix) + os.sep for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    sys.path[:] = [entry for entry in sys.path if os.path.exists(entry) and (
        os.path.realpath(entry).startswith(python) or PathFinder.find_spec(package, [entry]) is None)]
    return [sys.modules.pop(str(owner)) for owner in owners if str(owner) in sys.modules]


def _finds(finder: object, package: str) -> bool:
    find_spec = getattr(finder, "find_spec", None)
    try:
        return find_spec is not None and find_spec(package, None) is not None
    except (ImportError, OSError, TypeError, ValueError):
        return False  # a finder that cannot answer for the package does not find it
