"""answers.yaml: reading it as data, grading numeric answers, collecting free text."""

from __future__ import annotations

import os

import pytest

from grader.answers import MAX_BYTES, AnswersUnreadable, check_answer, free_text, read_answers
from grader.config import AnswerConfig


def write(tmp_path, text: str, name: str = "answers.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- read_answers


def test_read_valid_answers(tmp_path):
    path = write(tmp_path, "# comment\neigen_matrix: [[1, 2], [3, 4]]\nalexnet_total_params: 61100840\n"
                           "why: |\n  Because the kernel is flipped.\nempty: null\n")
    answers = read_answers(path)
    assert answers == {
        "eigen_matrix": [[1, 2], [3, 4]],
        "alexnet_total_params": 61100840,
        "why": "Because the kernel is flipped.\n",
        "empty": None,
    }


def test_read_empty_file_is_no_answers(tmp_path):
    assert read_answers(write(tmp_path, "# nothing yet\n")) == {}


def test_keys_become_strings(tmp_path):
    assert read_answers(write(tmp_path, "1: 2\n")) == {"1": 2}


def test_missing_file(tmp_path):
    with pytest.raises(AnswersUnreadable, match="no answers.yaml"):
        read_answers(tmp_path / "answers.yaml")


def test_a_folder_is_not_a_file(tmp_path):
    (tmp_path / "answers.yaml").mkdir()
    with pytest.raises(AnswersUnreadable):
        read_answers(tmp_path / "answers.yaml")


def test_symlink_is_refused(tmp_path):
    target = write(tmp_path, "a: 1\n", name="elsewhere.yaml")
    link = tmp_path / "answers.yaml"
    os.symlink(target, link)
    with pytest.raises(AnswersUnreadable):
        read_answers(link)


def test_symlink_to_a_secret_outside_is_refused(tmp_path):
    secret = tmp_path / "outside" / "reference_answers.yaml"
    secret.parent.mkdir()
    secret.write_text("eigen_matrix: [[1, 0], [0, 2]]\n")
    submission = tmp_path / "sub"
    submission.mkdir()
    os.symlink(secret, submission / "answers.yaml")
    with pytest.raises(AnswersUnreadable):
        read_answers(submission / "answers.yaml")


def test_over_one_megabyte_is_refused(tmp_path):
    path = write(tmp_path, "a: 1\n" + "#" * MAX_BYTES + "\n")
    assert MAX_BYTES == 1024 * 1024
    with pytest.raises(AnswersUnreadable, match="larger than 1 MB"):
        read_answers(path)


def test_just_under_the_limit_is_read(tmp_path):
    text = "a: 1\n#"
    path = write(tmp_path, text + "x" * (MAX_BYTES - len(text) - 1) + "\n")
    assert path.stat().st_size == MAX_BYTES
    assert read_answers(path) == {"a": 1}


def test_invalid_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "a: 1\nb: 2\nc: [1, 2\nd: 4\n")
    with pytest.raises(AnswersUnreadable) as info:
        read_answers(path)
    assert "not valid YAML" in str(info.value) and "(line 4)" in str(info.value)


@pytest.mark.parametrize("text", ["a: 2023-13-45\n", "a: !!int zz\n"], ids=["bad date", "bad tagged int"])
def test_values_yaml_cannot_build_are_invalid_yaml_not_a_crash(tmp_path, text):
    with pytest.raises(AnswersUnreadable, match="not valid YAML"):
        read_answers(write(tmp_path, text))


def test_python_tags_are_not_executed(tmp_path):
    path = write(tmp_path, "a: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(AnswersUnreadable, match="not valid YAML"):
        read_answers(path)


def test_top_level_list_is_refused_with_an_example(tmp_path):
    with pytest.raises(AnswersUnreadable, match="should map each key to an answer"):
        read_answers(write(tmp_path, "- 1\n- 2\n"))


def test_top_level_scalar_is_refused(tmp_path):
    with pytest.raises(AnswersUnreadable):
        read_answers(write(tmp_path, "42\n"))


def test_invalid_utf8_does_not_crash(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_bytes(b"why: caf\xe9\n")
    assert read_answers(path)["why"].startswith("caf")


# ---------------------------------------------------------------- check_answer


ALEXNET = AnswerConfig("alexnet_total_params", 1.0, 0.0)
REFERENCE = {"alexnet_total_params": 61100840, "eigen_matrix": [[1, 2], [3, 4]], "context": 0.75}
MATRIX = AnswerConfig("eigen_matrix", 1.0, 0.001)
SCALAR = AnswerConfig("context", 1.0, 0.01)


def test_exact_int_answer_passes():
    assert check_answer(ALEXNET, {"alexnet_total_params": 61100840}, REFERENCE).ok


def test_int_written_as_float_is_accepted():
    assert check_answer(ALEXNET, {"alexnet_total_params": 61100840.0}, REFERENCE).ok


def test_int_answer_from_yaml_text(tmp_path):
    given = read_answers(write(tmp_path, "alexnet_total_params: 61100840.0\n"))
    assert check_answer(ALEXNET, given, REFERENCE).ok


def test_wrong_int_answer_fails_with_difference():
    verdict = check_answer(ALEXNET, {"alexnet_total_params": 61100841}, REFERENCE)
    assert not verdict.ok and "61100841" in verdict.summary and "61100840" in verdict.summary


def test_int_answer_with_fraction_fails():
    assert not check_answer(ALEXNET, {"alexnet_total_params": 61100840.5}, REFERENCE).ok


def test_matrix_within_tolerance_passes():
    assert check_answer(MATRIX, {"eigen_matrix": [[1.0005, 2], [3, 3.9995]]}, REFERENCE).ok


def test_matrix_outside_tolerance_fails():
    verdict = check_answer(MATRIX, {"eigen_matrix": [[1.002, 2], [3, 4]]}, REFERENCE)
    assert not verdict.ok and "mismatched 1/4" in verdict.summary and "[0, 0]" in verdict.summary


def test_matrix_of_wrong_shape_fails():
    verdict = check_answer(MATRIX, {"eigen_matrix": [[1, 2, 3], [3, 4, 5]]}, REFERENCE)
    assert not verdict.ok and "shape (2, 3), expected (2, 2)" in verdict.summary


def test_float_answer_within_and_outside_tolerance():
    assert check_answer(SCALAR, {"context": 0.755}, REFERENCE).ok
    assert check_answer(SCALAR, {"context": 1}, {"context": 1.0}).ok
    assert not check_answer(SCALAR, {"context": 0.8}, REFERENCE).ok


@pytest.mark.parametrize("given", [{"eigen_matrix": None}, {}], ids=["null", "absent"])
def test_null_answer_says_no_answer_yet(given):
    verdict = check_answer(MATRIX, given, REFERENCE)
    assert not verdict.ok and "no answer yet" in verdict.summary and "eigen_matrix" in verdict.summary


@pytest.mark.parametrize("value", ["61,100,840", "about 61 million", True, {"a": 1}])
def test_non_number_where_number_expected_fails_clearly(value):
    verdict = check_answer(ALEXNET, {"alexnet_total_params": value}, REFERENCE)
    assert not verdict.ok
    assert "'alexnet_total_params' should be a number or a matrix" in verdict.summary


@pytest.mark.parametrize("value", [[[1, 2], [3]], [[1, None], [3, 4]], [["a", 2], [3, 4]], [{"a": 1}]],
                         ids=["ragged", "null entry", "text entry", "dict entry"])
def test_malformed_matrix_fails_without_raising(value):
    verdict = check_answer(MATRIX, {"eigen_matrix": value}, REFERENCE)
    assert not verdict.ok and "should be a number or a matrix" in verdict.summary


@pytest.mark.parametrize(("answer", "value"), [(MATRIX, [[10**400, 2], [3, 4]]), (SCALAR, 10**400)],
                         ids=["matrix", "scalar"])
def test_huge_integer_answer_fails_without_raising(answer, value):
    verdict = check_answer(answer, {answer.key: value}, REFERENCE)
    assert not verdict.ok


def test_reference_without_the_key_is_a_grader_error():
    with pytest.raises(KeyError):
        check_answer(AnswerConfig("nope", 1.0, 0.1), {"nope": 1}, REFERENCE)


# ---------------------------------------------------------------- free_text


def test_free_text_keeps_configured_order_and_fills_missing():
    given = {"b": "second", "a": "first", "c": None}
    assert free_text(("c", "a", "b", "d"), given) == (("c", ""), ("a", "first"), ("b", "second"), ("d", ""))


def test_free_text_caps_length():
    (key, text), = free_text(("essay",), {"essay": "x" * 100_000})
    assert key == "essay" and 0 < len(text) <= 20_000


def test_free_text_of_a_number_is_shown_as_text():
    assert free_text(("n",), {"n": 42}) == (("n", "42"),)


def test_free_text_falsy_answer_is_not_dropped():
    assert free_text(("n",), {"n": 0}) == (("n", "0"),)
