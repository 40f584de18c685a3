"""What the zygote forgets of the grader before its first fork, proved in a process started as the zygote is."""

from __future__ import annotations

import json
import subprocess
import sys
import types

from conftest import REPO
from grader.sandbox.client import ZYGOTE, worker_environment
from grader.sandbox.forget import relabel

# Run where the zygote's main loop would start (``client.ZYGOTE`` up to its call of main).
LOOK = '''
import gc, importlib.util, inspect, json, sys, types
package = sys.argv[1]
try:
    import grader
    imported = grader.__name__
except ImportError as exc:
    imported = type(exc).__name__
named = sorted({f.__code__.co_filename for f in gc.get_objects() if type(f) is types.FunctionType
                and f.__code__.co_filename.startswith(package)} |
               {str(getattr(m, "__file__", None)) for m in gc.get_objects() if type(m) is types.ModuleType
                and str(getattr(m, "__file__", None)).startswith(package)})
try:
    inspect.getsource(zygote.main)
    source = "shown"
except OSError:
    source = "hidden"
print(json.dumps({
    "import": imported, "find_spec": str(importlib.util.find_spec("grader")), "source": source, "named": named,
    "modules": sorted(name for name in sys.modules if name.split(".")[0] == "grader"),
    "finders": [repr(f) for f in sys.meta_path if "editable" in repr(f)],
    "path": [entry for entry in sys.path if entry.startswith(package) or "__editable__" in entry],
    "labels": sorted({zygote.main.__code__.co_filename, zygote.codec.write_message.__code__.co_filename,
                      zygote.worker.Worker.handle.__code__.co_filename}),
}))
'''


def test_the_zygote_keeps_no_module_path_or_import_hook_of_the_grader() -> None:
    start = ZYGOTE[:ZYGOTE.index("zygote.main(")]
    run = subprocess.run([sys.executable, "-I", "-c", start + LOOK, str(REPO / "grader")], capture_output=True,
                         text=True, env=worker_environment(), check=True)
    assert json.loads(run.stdout) == {
        "import": "ModuleNotFoundError", "find_spec": "None", "source": "hidden", "named": [], "modules": [],
        "finders": [], "path": [],
        "labels": ["<grader.sandbox.codec>", "<grader.sandbox.worker>", "<grader.sandbox.zygote>"],
    }


def test_nested_code_is_relabelled_and_still_runs() -> None:
    def outer(n: int) -> list[int]:
        def times(i: int) -> int:
            return i * n

        return [times(i) for i in range(3)]

    outer.__code__ = relabel(outer.__code__, "<x>")
    assert outer(2) == [0, 2, 4]

    def filenames(code: types.CodeType) -> set[str]:
        return {code.co_filename}.union(*(filenames(c) for c in code.co_consts if isinstance(c, types.CodeType)))

    assert filenames(outer.__code__) == {"<x>"}
