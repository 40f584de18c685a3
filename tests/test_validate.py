"""``grader validate``: the checks catch every catalogued mistake, and it says when one is not."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from conftest import REPO, points, run_cli


def test_validate_passes_on_the_real_catalogue() -> None:
    run = run_cli("validate", "--assignment", "basics")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"reference: {points('basics'):g}/{points('basics'):g} points" in run.stdout
    assert "NOT CAUGHT" not in run.stdout and run.stdout.rstrip().endswith("validation passed")
    for exercise in ("eigen", "parameter_counting", "conv2d", "attention"):
        assert f"  {exercise}: " in run.stdout
    # Every mistake of basics is named by a hint when caught, the ones found in cohorts included.
    caught = [line for line in run.stdout.splitlines() if line.startswith("    ✓")]
    assert caught and all(line.endswith("named in the hint") for line in caught), run.stdout
    for mistake in ("softmax_without_max", "softmax_minus_global_max", "k_dot_T", "pad_width_only"):
        assert f"✓ {mistake}: " in run.stdout


def _config_with_only_eigen(tmp_path: Path, extra_mistake: str) -> Path:
    """A config whose basics has only `eigen`, with a copied reference and an added mistake."""
    reference = tmp_path / "reference"
    shutil.copytree(REPO / "reference" / "basics", reference)
    with (reference / "mistakes" / "eigen.py").open("a") as handle:
        handle.write(extra_mistake)
    data = yaml.safe_load((REPO / "config.yaml").read_text())
    basics = data["assignments"]["basics"]
    basics["exercises"] = {"eigen": basics["exercises"]["eigen"]}
    basics["reference"] = str(reference)
    basics["templates"] = str(REPO / "student_templates" / "basics")
    data["assignments"] = {"basics": basics}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


NOT_A_MISTAKE = '''

def _same_as_reference(eigenvalues, eigenvectors):
    return eigenvectors @ torch.diag(eigenvalues) @ eigenvectors.T


MISTAKES.append(Mistake(id="not_really_a_mistake", function="matrix_from_eigendecomposition",
                        hint="(this variant is correct, so no check can catch it)", impl=_same_as_reference))
'''


def test_validate_fails_when_a_mistake_goes_uncaught(tmp_path: Path) -> None:
    config = _config_with_only_eigen(tmp_path, NOT_A_MISTAKE)
    run = run_cli("validate", "--assignment", "basics", "--config", config)
    assert run.returncode == 1
    assert "not_really_a_mistake: NOT CAUGHT" in run.stdout
    assert "validation FAILED" in run.stdout
    assert "eigen: 5/6 catalogued mistakes caught" in run.stdout


def test_validate_passes_on_the_ps5_catalogue() -> None:
    run = run_cli("validate", "--assignment", "ps5")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "NOT CAUGHT" not in run.stdout and run.stdout.rstrip().endswith("validation passed")
    named = {line.split()[1].rstrip(":") for line in run.stdout.splitlines()
             if line.startswith("    ✓") and line.endswith("named in the hint")}
    # The mistakes added for contract points, and those of two exercises once named by no hint.
    assert {"sample_ignores_generator", "mask_bool_only", "train_no_optimizer_step", "grid_transposed",
            "gradients_swapped", "reshape_instead_of_permute"} <= named, run.stdout
    assert "gradients2d: 10/10 catalogued mistakes caught, 10 of them named by a hint" in run.stdout


def test_validate_fails_when_a_variant_cannot_be_imported_where_student_code_runs(tmp_path: Path) -> None:
    # The grader's own modules are not visible from the worker: a catalogue that needs one
    # would make every variant crash at import, which must not count as caught.
    config = _config_with_only_eigen(tmp_path, "\nfrom grader import loading as _only_in_the_grader  # noqa: E402,F401\n")
    run = run_cli("validate", "--assignment", "basics", "--config", config)
    assert run.returncode == 1
    assert "BROKEN VARIANT: eigen.py could not be imported: ImportError" in run.stdout
    assert "eigen: 0/5 catalogued mistakes caught" in run.stdout and "validation FAILED" in run.stdout


def test_mistakes_shared_out_between_processes_give_the_same_validation(tmp_path: Path) -> None:
    config = _config_with_only_eigen(tmp_path, NOT_A_MISTAKE)
    alone = run_cli("validate", "--assignment", "basics", "--config", config, "--jobs", "1")
    shared = run_cli("validate", "--assignment", "basics", "--config", config, "--jobs", "3")
    assert alone.returncode == shared.returncode == 1, shared.stdout + shared.stderr
    # The same lines in the same order (the catalogue's), the uncaught one included.
    assert shared.stdout == alone.stdout
    assert "not_really_a_mistake: NOT CAUGHT" in shared.stdout
