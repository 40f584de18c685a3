"""answers.yaml: reading it as data, grading numeric answers, collecting free text."""

from __future__ import annotations

import os

import pytest

from grader.answers import MAX_BYTES, check_answer, check_form, free_text, parse_answers, read_answers
from grader.config import AnswerConfig
from grader.errors import MissingPiece, Unreadable


def write(tmp_path, text: str, name: str = "answers.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- read_answers


def test_read_valid_answers(tmp_path):
    path = write(tmp_path, "# comment\neigen_matrix: [[1, 2], [3, 4]]\nalexnet_total_params: 61100840\n"
                           "why: |\n  Because the kernel is flipped.\nempty: null\n")
    answers = read_answers(path)
    assert not answers.problems
    assert answers.values == {
        "eigen_matrix": [[1, 2], [3, 4]],
        "alexnet_total_params": 61100840,
        "why": "Because the kernel is flipped.\n",
        "empty": None,
    }


def test_read_empty_file_is_no_answers(tmp_path):
    assert read_answers(write(tmp_path, "# nothing yet\n")).values == {}


def test_keys_become_strings(tmp_path):
    assert read_answers(write(tmp_path, "1: 2\n")).values == {"1": 2}


def test_missing_file_is_a_missing_piece(tmp_path):
    with pytest.raises(MissingPiece, match=r"no answers\.yaml"):
        read_answers(tmp_path / "answers.yaml")


def test_a_folder_is_not_a_file(tmp_path):
    (tmp_path / "answers.yaml").mkdir()
    with pytest.raises(MissingPiece):
        read_answers(tmp_path / "answers.yaml")


def test_symlink_is_refused(tmp_path):
    target = write(tmp_path, "a: 1\n", name="elsewhere.yaml")
    link = tmp_path / "answers.yaml"
    os.symlink(target, link)
    with pytest.raises(MissingPiece):
        read_answers(link)


def test_symlink_to_a_secret_outside_is_refused(tmp_path):
    secret = tmp_path / "outside" / "reference_answers.yaml"
    secret.parent.mkdir()
    secret.write_text("eigen_matrix: [[1, 0], [0, 2]]\n")
    submission = tmp_path / "sub"
    submission.mkdir()
    os.symlink(secret, submission / "answers.yaml")
    with pytest.raises(MissingPiece):
        read_answers(submission / "answers.yaml")


def test_over_one_megabyte_is_refused(tmp_path):
    path = write(tmp_path, "a: 1\n" + "#" * MAX_BYTES + "\n")
    assert MAX_BYTES == 1024 * 1024
    with pytest.raises(Unreadable, match="larger than 1 MB"):
        read_answers(path)


def test_just_under_the_limit_is_read(tmp_path):
    text = "a: 1\n#"
    path = write(tmp_path, text + "x" * (MAX_BYTES - len(text) - 1) + "\n")
    assert path.stat().st_size == MAX_BYTES
    assert read_answers(path).values == {"a": 1}


def test_an_unclosed_bracket_is_named_at_its_line_and_the_rest_is_read(tmp_path):
    answers = read_answers(write(tmp_path, "a: 1\nb: 2\nc: [1, 2\nd: 4\n"))
    assert answers.values == {"a": 1, "b": 2, "d": 4}
    (problem,) = answers.problems
    assert (problem.line, problem.key) == (3, "c") and "'[' that is never closed" in problem.message


def test_every_broken_entry_is_named_with_its_line(tmp_path):
    """Two mistakes, two problems: PyYAML alone stops at the first."""
    text = ("# my answers\neigen_matrix: [[1.5, -0.5], [-0.5, 1.5]]\nalexnet_total_params:\t61100840\n"
            "conv2d_b_stride2_pad0: [[1, -1], [5, 3]\nattention_context_C: [[1, 2, 3],\n  [4, 5, 6]]\n")
    answers = read_answers(write(tmp_path, text))
    assert [(p.line, p.key) for p in answers.problems] == [(3, "alexnet_total_params"), (4, "conv2d_b_stride2_pad0")]
    assert "tab" in answers.problems[0].message and "'['" in answers.problems[1].message
    assert answers.values == {"eigen_matrix": [[1.5, -0.5], [-0.5, 1.5]], "attention_context_C": [[1, 2, 3], [4, 5, 6]]}
    assert str(answers.problems[0]).startswith("line 3: a tab character")


def test_a_key_indented_by_mistake_is_named():
    answers = parse_answers("a: 1\n  eigen_matrix: [[1, 2], [3, 4]]\nb: [1\n", keys=("eigen_matrix",))
    assert [(p.line, p.key) for p in answers.problems] == [(2, "eigen_matrix"), (3, "b")]
    assert "indented" in answers.problems[0].message and answers.values == {"a": 1}


def test_a_bracket_too_many_and_a_stray_line_before_any_key():
    answers = parse_answers("hello world\noops: [1]]\nfine: 2\n")
    assert answers.values == {"fine": 2}
    assert [(p.line, p.key) for p in answers.problems] == [(1, None), (2, "oops")]
    assert "not a line 'key: answer'" in answers.problems[0].message
    assert answers.problems[1].message == "a closing bracket too many"


def test_python_tags_are_not_executed(tmp_path):
    answers = read_answers(write(tmp_path, "a: !!python/object/apply:os.system ['echo pwned']\nb: 1\n"))
    assert answers.values == {"b": 1} and [p.key for p in answers.problems] == ["a"]


def test_aliases_are_refused_entry_by_entry():
    answers = parse_answers("a: &x [1, 2]\nb: *x\n")
    assert "b" not in answers.values and "aliases" in answers.problems_of("b")[0].message


def test_top_level_list_is_refused_with_an_example(tmp_path):
    with pytest.raises(Unreadable, match="should map each key to an answer"):
        read_answers(write(tmp_path, "- 1\n- 2\n"))


def test_top_level_scalar_is_refused(tmp_path):
    with pytest.raises(Unreadable):
        read_answers(write(tmp_path, "42\n"))


def test_invalid_utf8_does_not_crash(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_bytes(b"why: caf\xe9\n")
    assert read_answers(path).values["why"].startswith("caf")


# ---------------------------------------------------------------- check_answer


ALEXNET = AnswerConfig("alexnet_total_params", 1.0, 0.0, kind="integer")
REFERENCE = {"alexnet_total_params": 61100840, "eigen_matrix": [[1, 2], [3, 4]], "context": 0.75}
MATRIX = AnswerConfig("eigen_matrix", 1.0, 0.001, kind="matrix", shape=(2, 2))
SCALAR = AnswerConfig("context", 1.0, 0.01, kind="number")


def test_exact_int_answer_passes():
    assert check_answer(ALEXNET, {"alexnet_total_params": 61100840}, REFERENCE).ok


def test_int_written_as_float_is_accepted():
    assert check_answer(ALEXNET, {"alexnet_total_params": 61100840.0}, REFERENCE).ok


def test_int_answer_from_yaml_text(tmp_path):
    given = read_answers(write(tmp_path, "alexnet_total_params: 61100840.0\n")).values
    assert check_answer(ALEXNET, given, REFERENCE).ok


def test_wrong_int_answer_fails_with_difference():
    verdict = check_answer(ALEXNET, {"alexnet_total_params": 61100841}, REFERENCE)
    assert not verdict.ok and "61100841" in verdict.summary and "61100840" in verdict.summary


def test_int_answer_with_fraction_fails_as_not_a_whole_number():
    verdict = check_answer(ALEXNET, {"alexnet_total_params": 61100840.5}, REFERENCE)
    assert not verdict.ok and verdict.summary.startswith("should be a whole number")


def test_matrix_within_tolerance_passes():
    assert check_answer(MATRIX, {"eigen_matrix": [[1.0005, 2], [3, 3.9995]]}, REFERENCE).ok


def test_matrix_outside_tolerance_fails():
    verdict = check_answer(MATRIX, {"eigen_matrix": [[1.002, 2], [3, 4]]}, REFERENCE)
    assert not verdict.ok and "mismatched 1/4" in verdict.summary and "[0, 0]" in verdict.summary


def test_matrix_of_wrong_shape_fails_naming_the_row():
    verdict = check_answer(MATRIX, {"eigen_matrix": [[1, 2, 3], [3, 4, 5]]}, REFERENCE)
    assert not verdict.ok and verdict.summary == "should be a 2x2 matrix (a list of rows): row 1 has 3 numbers, expected 2"


def test_float_answer_within_and_outside_tolerance():
    assert check_answer(SCALAR, {"context": 0.755}, REFERENCE).ok
    assert check_answer(SCALAR, {"context": 1}, {"context": 1.0}).ok
    assert not check_answer(SCALAR, {"context": 0.8}, REFERENCE).ok


@pytest.mark.parametrize(("given", "why"), [({"eigen_matrix": None}, "replace its null by your answer"),
                                            ({}, "the key is not in your answers.yaml")], ids=["null", "absent"])
def test_an_answer_not_filled_in_says_no_answer_yet(given, why):
    verdict = check_answer(MATRIX, given, REFERENCE)
    assert not verdict.ok and verdict.summary.startswith("no answer yet") and why in verdict.summary


@pytest.mark.parametrize("value", ["61,100,840", "about 61 million", True, {"a": 1}, [61100840]])
def test_non_number_where_a_whole_number_is_expected_fails_clearly(value):
    verdict = check_answer(ALEXNET, {"alexnet_total_params": value}, REFERENCE)
    assert not verdict.ok
    assert verdict.summary.startswith("should be a whole number, written with digits only")


@pytest.mark.parametrize(("value", "why"), [
    ([[1, 2], [3]], "row 2 has 1 number, expected 2"),
    ([[1, None], [3, 4]], "row 1, column 2 is None, not a number"),
    ([["a", 2], [3, 4]], "row 1, column 1 is 'a', not a number"),
    ([{"a": 1}, [3, 4]], "row 1 is {'a': 1}, not a list"),
    ([[1, 2], [3, 4], [5, 6]], "it has 3 rows, expected 2"),
    (1.5, "got a number, not a list"),
], ids=["ragged", "null entry", "text entry", "dict row", "extra row", "scalar"])
def test_malformed_matrix_names_where_without_raising(value, why):
    verdict = check_form(MATRIX, {"eigen_matrix": value})
    assert not verdict.ok and verdict.summary == f"should be a 2x2 matrix (a list of rows): {why}"


def test_a_number_answer_takes_any_finite_number_only():
    assert check_form(SCALAR, {"context": 3}).ok and check_form(SCALAR, {"context": 0.5}).ok
    assert not check_form(SCALAR, {"context": float("nan")}).ok and not check_form(SCALAR, {"context": [1]}).ok


@pytest.mark.parametrize(("answer", "value"), [(MATRIX, [[10**400, 2], [3, 4]]), (SCALAR, 10**400)],
                         ids=["matrix", "scalar"])
def test_huge_integer_answer_fails_without_raising(answer, value):
    verdict = check_answer(answer, {answer.key: value}, REFERENCE)
    assert not verdict.ok


def test_reference_without_the_key_is_a_grader_error():
    with pytest.raises(KeyError):
        check_answer(AnswerConfig("nope", 1.0, 0.1), {"nope": 1}, REFERENCE)


def test_the_reference_answers_have_the_declared_forms(config):
    """The forms config.yaml declares are those of the course's own answers."""
    for assignment in config.assignments.values():
        reference = read_answers(assignment.reference / assignment.answers_file).values
        for exercise in assignment.exercises:
            for answer in exercise.answers:
                assert check_form(answer, reference).ok, (answer.key, check_form(answer, reference).summary)


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
