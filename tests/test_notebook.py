"""``grader.notebook.check`` in a real Jupyter kernel: a small notebook beside a submission, executed
with nbclient, checks, is fixed, checks again with the same warm sandbox, and leaves no process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, materialize, still_running

nbformat = pytest.importorskip("nbformat", reason="Jupyter is not installed (pip install -e '.[test]' installs it)")
nbclient = pytest.importorskip("nbclient", reason="Jupyter is not installed (pip install -e '.[test]' installs it)")
pytest.importorskip("ipykernel", reason="no Jupyter kernel is installed (pip install -e '.[test]' installs ipykernel)")

# The kernel's sandbox zygotes, as (pid, start time) from /proc, printed as JSON.
ZYGOTES = """
import json, os
def zygotes():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            command = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"zygote" in command:
            found.append((int(pid), int(stat[19])))
    return found
"""


def _html(cell) -> str:  # type: ignore[no-untyped-def]
    outputs = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert outputs, f"the cell showed no result: {cell.outputs}"
    return outputs[0]["data"]["text/html"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="follows the sandbox's processes through /proc")
def test_check_shows_the_report_inline_and_reuses_its_sandbox(tmp_path: Path) -> None:
    folder = materialize(FIXTURES / "basics" / "wrong_attention_no_scaling", tmp_path / "submission")
    fixed = REPO / "reference" / "basics" / "attention.py"
    cells = [
        "from grader.notebook import check\ncheck('attention')",
        f"import shutil\nshutil.copyfile({str(fixed)!r}, 'attention.py')\nresult = check('attention')\nresult",
        ZYGOTES + "print(json.dumps(zygotes()))",
        "check('atention')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    first, second, processes, typo = notebook.cells

    wrong = _html(first)
    assert wrong.startswith('<div class="grader-report">') and "<html" not in wrong, "a fragment, not a page"
    assert '<details class="failed" open>\n<summary><span class="icon">✗</span><span class="name">matches_torch<' in wrong
    assert "matches attention without the scaling" in wrong, "the failing check's hint is shown"
    assert '<details class="passed">\n<summary><span class="icon">✓</span><span class="name">convex_combination<' in wrong
    right = _html(second)
    assert '<details class="failed"' not in right and '<span class="score">7 / 7</span>' in right

    zygotes = {tuple(z) for z in json.loads(processes.outputs[0]["text"])}
    assert len(zygotes) == 1, "two checks, one warm sandbox"
    assert typo.outputs[0]["ename"] == "UsageError" and "no exercise 'atention'" in typo.outputs[0]["evalue"]
    # The kernel has ended: its sandbox with it.
    deadline = time.monotonic() + 60
    while still_running(zygotes) and time.monotonic() < deadline:  # type: ignore[arg-type]
        time.sleep(0.1)
    assert not still_running(zygotes), "the sandbox outlived the kernel"  # type: ignore[arg-type]
