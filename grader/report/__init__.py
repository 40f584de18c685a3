"""Renderers: each reads a GradeReport and returns text; none of them runs code.

``text`` (terminal and the plain feedback grammar), ``gradescope`` (results.json), ``html``
(one self-contained page) and ``junit`` (JUnit XML for CI). :func:`write_atomic` writes
their output so that a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
