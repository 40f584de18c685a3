"""End to end: why an exercise was lost (its kind), and a misnamed file suggested to the student."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, materialize, run_cli


def test_a_misnamed_file_is_suggested_and_not_graded_under_its_name(tmp_path: Path) -> None:
    folder = materialize(FIXTURES / "basics" / "misnamed", tmp_path / "misnamed")
    run = run_cli("check", folder, json_path=tmp_path / "r.json")
    assert run.returncode == 0, run.stderr
    conv = run.test("conv2d", "single_channel_matches_torch")
    assert conv["score"] == 0 and "your submission has no file conv2d.py" in conv["output"]
    assert "hint: did you mean conv2d (1).py? The grader reads conv2d.py only" in conv["output"]
    counting = run.test("parameter_counting", "count_known_models")
    assert "did you mean parameter_counting.py?" in counting["output"]
    kinds = {e: v["kind"] for e, v in run.results["extra_data"]["exercises"].items()}
    assert kinds == {"eigen": "full", "parameter_counting": "misnamed file", "conv2d": "misnamed file",
                     "attention": "full"}
    assert run.results["extra_data"]["exercises"]["conv2d"]["near_match"] == "conv2d (1).py"
    assert "did you mean conv2d (1).py?" in run.stdout


def test_each_exercise_gets_its_kind(tmp_path: Path) -> None:
    kinds = {}
    for fixture in ("untouched", "broken", "partial"):
        folder = materialize(FIXTURES / "basics" / fixture, tmp_path / fixture)
        run = run_cli("grade", folder, "--assignment", "basics", json_path=tmp_path / f"{fixture}.json")
        assert run.returncode == 0, run.stderr
        kinds[fixture] = {e: v["kind"] for e, v in run.results["extra_data"]["exercises"].items()}
    assert kinds["untouched"] == {"eigen": "untouched skeleton", "parameter_counting": "full", "conv2d": "full",
                                  "attention": "full"}
    assert kinds["broken"]["eigen"] == kinds["broken"]["parameter_counting"] == "did not import"
    assert kinds["broken"]["conv2d"] == "wrong"
    assert kinds["partial"] == {"eigen": "full", "parameter_counting": "full", "conv2d": "untouched skeleton",
                                "attention": "not submitted"}
