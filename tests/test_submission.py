"""What the parent reads from a submission's files without running them: the heavy modules they import."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO
from grader.submission import imported, needed_preload


def test_imports_are_found_inside_functions_and_relative_ones_left_out(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text("import torch.nn as nn, os\nfrom . import sibling\n\ndef draw():\n"
                      "    from matplotlib import pyplot\n    import PIL.Image\n")
    assert imported(source) == {"torch.nn", "os", "matplotlib", "PIL.Image"}
    source.write_text("def broken(:\n")
    assert imported(source) == set()


def test_only_exercises_whose_files_import_them_preload_torchvision_or_matplotlib(config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ps5 = config.assignments["ps5"]
    reference = REPO / "reference" / "ps5"
    assert needed_preload(ps5, ["softmax_temperature", "positional_encoding"], reference) == ()
    assert needed_preload(ps5, ["guided_backprop"], reference) == ("torchvision", "matplotlib.pyplot")
    assert needed_preload(ps5, [e.id for e in ps5.exercises], reference) == ps5.preload
    # Through a helper file the assignment provides (the grader's own copy is read).
    (tmp_path / "iter_maxpool.py").write_text("from helper_maxpool import run_experiment\n")
    assert needed_preload(ps5, ["iter_maxpool"], tmp_path) == ("matplotlib.pyplot",)
    assert needed_preload(ps5, ["gradients2d"], tmp_path) == (), "a missing file imports nothing"
