"""End to end on assignment ``ps5``: the reference, the skeletons, and the sheet's buggy layer."""

from __future__ import annotations

import itertools
import shutil

import pytest

from conftest import FIXTURES, REPO, CliRun, assert_scores_as_recorded, finish, materialize, start_cli

# The sheet's bugs in the shipped TransformerLayer, each with its fix, in the order a student
# would likely find them (nothing runs before the shapes are right).
FIXES = [
    ("self.ff2 = nn.Linear(d_model, d_ff)", "self.ff2 = nn.Linear(d_ff, d_model)"),
    ("nn.LayerNorm(d_ff)", "nn.LayerNorm(d_model)"),
    ("attn = attn.view(B, T, D)", "attn = attn.reshape(B, T, D)"),
    ("masked_fill(mask == 0, 0.0)", 'masked_fill(mask == 0, float("-inf"))'),
    ("mask == 0", "mask[:, None, None, :] == 0"),
    ("torch.matmul(q, k.transpose(-1, -2))", "torch.matmul(q, k.transpose(-1, -2)) / self.d_head ** 0.5"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    out = tmp_path_factory.mktemp("ps5")
    runs = {
        "reference": start_cli("grade", REPO / "reference" / "ps5", "-a", "ps5", "--json", out / "reference.json",
                               "--html", out / "reference.html"),
        "skeleton": start_cli("grade", REPO / "student_templates" / "ps5", "-a", "ps5", "--json", out / "skeleton.json"),
    }
    runs["skeleton_check"] = start_cli("check", REPO / "student_templates" / "ps5", "-a", "ps5", "-e",
                                       "transformer_layer", "--json", out / "skeleton_check.json")
    for name in ("alt_correct", "wrong_softmax_overflow"):
        folder = materialize(FIXTURES / "ps5" / name, out / "submissions" / name)
        runs[name] = start_cli("grade", folder, "-a", "ps5", "--json", out / f"{name}.json")
    source = (REPO / "student_templates" / "ps5" / "transformer_layer.py").read_text()
    for step, (bug, fix) in enumerate(FIXES, 1):
        assert bug in source, bug
        source = source.replace(bug, fix)
        folder = out / f"fixed{step}"
        shutil.copytree(REPO / "student_templates" / "ps5", folder)
        (folder / "transformer_layer.py").write_text(source)
        runs[f"fixed{step}"] = start_cli("grade", folder, "-a", "ps5", "-e", "transformer_layer",
                                         "--json", out / f"fixed{step}.json")
    return {name: finish(process, out / f"{name}.json") for name, process in runs.items()}


def test_reference_gets_full_marks(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["reference"]
    assert run.returncode == 0, run.stderr
    failed = [t["output"] for t in run.results["tests"] if t["status"] != "passed"]
    assert run.results["score"] == run.results["max_score"], failed


def test_the_report_shows_each_figure_beside_the_reference(graded, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    import base64
    import io
    import re

    from PIL import Image

    html = next(tmp_path_factory.getbasetemp().glob("ps5*/reference.html")).read_text()
    images = re.findall(r'<img alt="(your|reference) figure: ([^"]+)" src="data:image/png;base64,([^"]+)"', html)
    assert sorted((kind, title) for kind, title, _ in images) == sorted(
        (kind, title) for kind in ("your", "reference")
        for title in ("iterated max pooling (top) and Gaussian blur (bottom)",
                      "data, decision boundary and input gradients"))
    for _, _, data in images:
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            assert image.format == "PNG" and min(image.size) > 100


def test_correct_solutions_written_differently_get_full_marks(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["alt_correct"]
    failed = [t["output"] for t in run.results["tests"] if t["status"] != "passed"]
    assert run.results["score"] == run.results["max_score"], failed


def test_a_wrong_solution_loses_points_in_its_exercise_only(graded) -> None:  # type: ignore[no-untyped-def]
    scores = graded["wrong_softmax_overflow"].exercise_scores()
    assert scores["softmax_temperature"][0] < scores["softmax_temperature"][1]
    assert all(got == best for exercise, (got, best) in scores.items() if exercise != "softmax_temperature")
    output = graded["wrong_softmax_overflow"].test("softmax_temperature", "stable_for_large_logits")["output"]
    assert "nan" in output and "hint:" in output


def test_skeletons_score_zero_without_grader_errors(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["skeleton"]
    assert run.returncode == 0 and run.results["score"] == 0
    assert not [t for t in run.results["tests"] if t["extra_data"]["outcome"] == "grader-error"]


def test_the_buggy_layer_as_shipped_gets_feedback_naming_its_bugs(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded["skeleton"]
    shapes = run.test("transformer_layer", "feed_forward_shapes")
    assert "ff2.weight has shape" in shapes["output"] and shapes["extra_data"]["mistake"] == "ff2_wrong_shape"
    norms = run.test("transformer_layer", "layernorm_shapes")
    assert "ln1.weight has shape" in norms["output"] and norms["extra_data"]["mistake"] == "layernorm_over_d_ff"
    # The crash in forward is recognised as the LayerNorm bug too.
    crash = run.test("transformer_layer", "single_head_equivariant")
    assert "raised RuntimeError" in crash["output"] and crash["extra_data"]["mistake"] == "layernorm_over_d_ff"
    view = graded["fixed2"].test("transformer_layer", "multi_head_equivariant")
    assert "view size is not compatible" in view["output"] and view["extra_data"]["mistake"] == "view_on_permuted"


def test_a_self_check_of_the_buggy_layer_points_at_each_bug_without_giving_the_fix(graded) -> None:  # type: ignore[no-untyped-def]
    # Finding the bugs is Ex. 5 itself: `check` nudges, the graded feedback gives the fix.
    check, grade = graded["skeleton_check"], graded["skeleton"]
    assert "ff2" in check.stdout and "hint: Look at the input and output sizes" in check.stdout
    for fix in ("nn.Linear(d_ff, d_model)", "nn.LayerNorm(d_model)", "-inf", "mask[:, None, None, :]"):
        assert fix not in check.stdout
        assert fix not in str(check.results)
    assert "nn.Linear(d_ff, d_model)" in grade.test("transformer_layer", "feed_forward_shapes")["output"]


def test_fixing_one_bug_at_a_time_raises_the_score_step_by_step(graded) -> None:  # type: ignore[no-untyped-def]
    scores = [graded["skeleton"].exercise_scores()["transformer_layer"][0]]
    scores += [graded[f"fixed{step}"].exercise_scores()["transformer_layer"][0] for step in range(1, len(FIXES) + 1)]
    assert all(a < b for a, b in itertools.pairwise(scores)), scores
    final = graded[f"fixed{len(FIXES)}"].exercise_scores()["transformer_layer"]
    assert final[0] == final[1]


def test_the_missing_scaling_is_caught_only_by_the_reference_comparison(graded) -> None:  # type: ignore[no-untyped-def]
    run = graded[f"fixed{len(FIXES) - 1}"]
    failed = [t["extra_data"]["check"] for t in run.results["tests"] if t["status"] == "failed"]
    assert failed == ["matches_reference"]


def test_every_check_scores_as_recorded(graded) -> None:  # type: ignore[no-untyped-def]
    assert_scores_as_recorded(graded, "ps5")
