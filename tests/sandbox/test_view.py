"""The worker's private file-system view when the grader is installed, not run from a checkout.

Gradescope and course servers ``pip install`` the grader: its package (with the hidden
checks) then sits inside site-packages, which the worker's view must show (torch lives
there). The package must be an empty folder there, nothing of it importable, and grading
must work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import REPO

PEEK = '''
import os

def peek():
    import grader  # the empty folder: a namespace package with nothing in it
    folder = list(grader.__path__)[0]
    try:
        import grader.sandbox  # noqa: F401
        sandbox = "imported"
    except ImportError:
        sandbox = "refused"
    return {"folder": folder, "listing": os.listdir(folder), "file": getattr(grader, "__file__", None),
            "sandbox": sandbox}
'''


@pytest.mark.skipif(os.geteuid() != 0 or not sys.platform.startswith("linux"),
                    reason="the private view needs root on Linux")
def test_an_installed_graders_package_is_empty_in_the_view_and_grading_works(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", str(REPO)],
                   check=True, capture_output=True)
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "peek.py").write_text(PEEK)
    script = (
        "import json, sys\nfrom pathlib import Path\nfrom grader.sandbox.client import Sandbox\n"
        "with Sandbox() as box:\n"
        "    worker = box.spawn(Path(sys.argv[1]))\n"
        "    worker.request({'op': 'import', 'module': 'peek'}, 30)\n"
        "    reply = worker.request({'op': 'call', 'module': 'peek', 'function': 'peek', 'args': [], 'kwargs': {}}, 30)\n"
        "    print(json.dumps(reply['value']))\n"
    )
    seen = json.loads(subprocess.run([python, "-c", script, str(tmp_path / "probe")], cwd=tmp_path, check=True,
                                     capture_output=True, text=True).stdout)
    assert seen.pop("folder").startswith(str(env_dir))
    assert seen == {"listing": [], "file": None, "sandbox": "refused"}
    results = tmp_path / "results.json"
    subprocess.run([env_dir / "bin" / "grader", "grade", REPO / "reference" / "basics", "--assignment", "basics",
                    "--exercise", "eigen", "--config", REPO / "config.yaml", "--json", results],
                   cwd=tmp_path, check=True, capture_output=True)
    data = json.loads(results.read_text())
    assert data["score"] == data["max_score"] and "isolation level full" in data["output"]
