"""compare(): the staged, tensor-aware verdict on a student's value (type, shape, dtype kind,
non-finite values, values with tolerance), and the words it uses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader.checks.compare import MAX_ROWS, compare, compare_shape, describe_type, fmt
from grader.checks.remote import Remote
from grader.sandbox.codec import Handle, Opaque

# An object the worker keeps, as values from the worker carry it (no calls are made on it here).
LINEAR = Remote(Handle(1, "Linear"), student=None)  # type: ignore[arg-type]

NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------- type stage


@pytest.mark.parametrize(
    ("got", "words"),
    [
        (Opaque("set", "{1, 2}"), "got a set ({1, 2})"),
        (LINEAR, "got a Linear object"),
        (None, "got None"),
        ([1.0, 2.0], "got a list of 2 values"),
        ("1, 2", "got a str"),
        (True, "got a bool"),
    ],
)
def test_wrong_type_against_a_tensor(got, words):
    verdict = compare(got, torch.tensor([1.0, 2.0]))
    assert not verdict.ok
    assert verdict.summary == f"{words}, expected a tensor of shape (2,) (float32)"


def test_python_number_accepted_as_zero_dimensional_tensor_with_note():
    verdict = compare(2.0, torch.tensor(2.0))
    assert verdict.ok
    assert any("Python number" in n for n in verdict.notes)


# ---------------------------------------------------------------- shape stage


def test_shape_mismatch_message():
    verdict = compare(torch.ones(2, 3), torch.ones(3, 2))
    assert not verdict.ok and verdict.summary == "shape (2, 3), expected (3, 2)"


def test_shape_checked_before_values():
    verdict = compare(torch.full((1, 2), NAN), torch.ones(2))
    assert verdict.summary == "shape (1, 2), expected (2,)"


# ---------------------------------------------------------------- dtype stage


def test_int_tensor_where_float_expected_fails():
    verdict = compare(torch.tensor([1, 2]), torch.tensor([1.0, 2.0]))
    assert not verdict.ok
    assert verdict.summary == "dtype int64, expected a float tensor (float32)"


def test_bool_tensor_where_float_expected_fails():
    verdict = compare(torch.tensor([True]), torch.tensor([1.0]))
    assert not verdict.ok and "dtype bool" in verdict.summary


def test_complex_where_float_expected_fails():
    verdict = compare(torch.tensor([1 + 0j]), torch.tensor([1.0]))
    assert not verdict.ok and "complex64" in verdict.summary


def test_float64_where_float32_expected_passes_with_note():
    verdict = compare(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([1.0, 2.0]))
    assert verdict.ok
    assert verdict.notes == ("returned dtype float64 where float32 is expected; judged on its values",)


def test_float64_is_judged_on_its_values():
    verdict = compare(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([1.0, 3.0]))
    assert not verdict.ok and "mismatched 1/2" in verdict.summary


def test_numpy_array_passes_with_note():
    verdict = compare(np.array([1.0, 2.0], dtype=np.float32), torch.tensor([1.0, 2.0]))
    assert verdict.ok
    assert any("numpy array" in n for n in verdict.notes)


def test_numpy_expected_value_is_accepted():
    assert compare(torch.tensor([1.0, 2.0], dtype=torch.float64), np.array([1.0, 2.0])).ok


def test_object_numpy_array_is_not_a_tensor():
    verdict = compare(np.array([1.0, None], dtype=object), torch.ones(2))
    assert not verdict.ok and "numpy array" in verdict.summary


# ---------------------------------------------------------------- non-finite stage


def test_nan_where_finite_expected_names_non_finite_and_first_index():
    got = torch.tensor([[1.0, 2.0], [NAN, INF]])
    verdict = compare(got, torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not verdict.ok
    assert verdict.summary == "got nan at [1, 0] where 3 is expected (2 of 4 values are not finite)"


def test_inf_where_finite_expected_fails():
    verdict = compare(torch.tensor([1.0, -INF]), torch.tensor([1.0, 2.0]))
    assert not verdict.ok and verdict.summary.startswith("got -inf at [1] where 2 is expected")


def test_nan_where_nan_expected_passes():
    assert compare(torch.tensor([1.0, NAN]), torch.tensor([1.0, NAN])).ok


def test_matching_infinities_pass():
    assert compare(torch.tensor([INF, -INF, 0.0]), torch.tensor([INF, -INF, 0.0])).ok


def test_finite_where_nan_expected_fails():
    assert not compare(torch.tensor([1.0, 2.0]), torch.tensor([1.0, NAN])).ok


@pytest.mark.parametrize("got", [0.0, 1e30, -INF], ids=["zero", "large", "minus inf"])
def test_anything_where_inf_expected_fails(got):
    assert not compare(torch.tensor([1.0, got]), torch.tensor([1.0, INF])).ok


# ---------------------------------------------------------------- values with tolerance


@pytest.mark.parametrize(
    ("got", "ok"),
    [(1.5, True), (0.5, True), (1.5000001, False), (0.4999999, False)],
)
def test_atol_boundary(got, ok):
    verdict = compare(torch.tensor([got], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64),
                      rtol=0.0, atol=0.5)
    assert verdict.ok is ok


@pytest.mark.parametrize(("got", "ok"), [(5.0, True), (3.0, True), (5.001, False), (2.999, False)])
def test_rtol_boundary_scales_with_expected(got, ok):
    verdict = compare(torch.tensor([got], dtype=torch.float64), torch.tensor([4.0], dtype=torch.float64),
                      rtol=0.25, atol=0.0)
    assert verdict.ok is ok


def test_rtol_and_atol_add_up():
    expected = torch.tensor([4.0], dtype=torch.float64)
    assert compare(torch.tensor([5.5], dtype=torch.float64), expected, rtol=0.25, atol=0.5).ok
    assert not compare(torch.tensor([5.51], dtype=torch.float64), expected, rtol=0.25, atol=0.5).ok


def test_default_tolerance_accepts_float32_rounding_and_rejects_real_errors():
    expected = torch.tensor([0.1, 1000.0])
    assert compare(expected + torch.tensor([1e-6, 1e-2]), expected).ok
    assert not compare(expected + torch.tensor([1e-3, 0.0]), expected).ok


def test_mismatch_message_1d():
    verdict = compare(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]))
    assert verdict.summary == "mismatched 1/2 elements, max abs difference 0.5 at [1]: got 2, expected 2.5"


def test_mismatch_message_names_the_worst_element_by_index():
    got = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    expected = torch.tensor([[1.0, 2.1, 3.0], [4.0, 5.0, 9.0]])
    verdict = compare(got, expected)
    assert verdict.summary == "mismatched 2/6 elements, max abs difference 3 at [1, 2]: got 6, expected 9"


def test_detail_rows_list_index_got_and_expected():
    verdict = compare(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0, 2.5]]))
    assert len(verdict.details) == 1
    row = verdict.details[0]
    assert row.startswith("[0, 1]") and "got" in row and "2.5" in row
    assert row.split() == ["[0,", "1]", "got", "2", "expected", "2.5"]


def test_detail_rows_are_capped_with_a_count_of_the_rest():
    verdict = compare(torch.zeros(3, 4), torch.ones(3, 4))
    assert verdict.summary.startswith("mismatched 12/12 elements")
    assert len(verdict.details) == MAX_ROWS + 1 == 6
    assert verdict.details[-1] == "... and 7 more"
    assert verdict.details[0].startswith("[0, 0]")


def test_exactly_max_rows_mismatches_have_no_more_line():
    verdict = compare(torch.zeros(MAX_ROWS), torch.ones(MAX_ROWS))
    assert len(verdict.details) == MAX_ROWS and not any("more" in d for d in verdict.details)


def test_empty_tensors_of_same_shape_pass():
    assert compare(torch.empty(0, 3), torch.empty(0, 3)).ok


def test_where_prefixes_nested_messages():
    verdict = compare(torch.ones(2), torch.zeros(2), where="['w']")
    assert verdict.summary.startswith("['w']: mismatched 2/2")


# ---------------------------------------------------------------- ints


def test_int_exact():
    assert compare(61_100_840, 61_100_840).ok
    verdict = compare(61_100_841, 61_100_840)
    assert not verdict.ok and verdict.summary == "got 61100841, expected 61100840 (off by +1)"


def test_int_off_by_negative():
    assert compare(3, 5).summary == "got 3, expected 5 (off by -2)"


def test_int_no_tolerance_for_large_values():
    assert not compare(10**12 + 1, 10**12).ok


def test_zero_dim_int_tensor_accepted_with_note():
    verdict = compare(torch.tensor(7), 7)
    assert verdict.ok and len(verdict.notes) == 1 and "tensor" in verdict.notes[0]


def test_zero_dim_numpy_int_accepted_with_note():
    verdict = compare(np.array(7), 7)
    assert verdict.ok and verdict.notes


def test_integral_float_accepted_with_note():
    verdict = compare(7.0, 7)
    assert verdict.ok
    assert verdict.notes == ("returned the float 7 where an int is expected; judged on its value",)


def test_non_integral_float_rejected():
    verdict = compare(7.5, 7)
    assert not verdict.ok and verdict.summary == "got 7.5, expected the integer 7"


@pytest.mark.parametrize("got", [True, torch.tensor(True), np.array(True)], ids=["bool", "tensor", "ndarray"])
def test_bool_rejected_where_int_expected(got):
    verdict = compare(got, 1)
    assert not verdict.ok and "bool" in verdict.summary and "expected the integer 1" in verdict.summary


@pytest.mark.parametrize("got", [torch.tensor([7]), [7], "7", None, NAN, INF])
def test_other_values_rejected_where_int_expected(got):
    verdict = compare(got, 7)
    assert not verdict.ok and "expected the integer 7" in verdict.summary


# ---------------------------------------------------------------- floats


def test_float_within_tolerance():
    assert compare(1.00001, 1.0).ok
    assert compare(1, 1.0).ok
    assert compare(torch.tensor(2.5), 2.5).ok


def test_float_outside_tolerance():
    verdict = compare(1.1, 1.0)
    assert not verdict.ok and verdict.summary == "got 1.1, expected 1"


def test_float_nan_expected_nan_passes_and_nan_elsewhere_fails():
    assert compare(NAN, NAN).ok
    assert not compare(NAN, 1.0).ok
    assert not compare(1.0, NAN).ok


def test_float_wrong_type():
    verdict = compare("1.0", 1.0)
    assert not verdict.ok and verdict.summary == "got a str, expected the number 1"


@pytest.mark.parametrize("expected", [1.0, 1], ids=["float", "int"])
def test_zero_dim_complex_where_number_expected_fails_without_raising(expected):
    verdict = compare(torch.tensor(1 + 0j), expected)
    assert not verdict.ok


# ---------------------------------------------------------------- dicts


def test_dict_missing_and_extra_keys_are_listed():
    verdict = compare({"a": 1, "c": 2, "d": 3}, {"a": 1, "b": 2})
    assert not verdict.ok
    assert verdict.summary == "missing 1 key(s): 'b'; unexpected 2 key(s): 'c', 'd'"


def test_dict_many_missing_keys_are_summarised():
    expected = {f"k{i}": i for i in range(8)}
    verdict = compare({}, expected)
    assert verdict.summary == "missing 8 key(s): 'k0', 'k1', 'k2', 'k3', 'k4' and 3 more"


def test_dict_same_keys_in_different_order_fails_naming_position():
    verdict = compare({"a": 1, "c": 3, "b": 2}, {"a": 1, "b": 2, "c": 3})
    assert not verdict.ok
    assert verdict.summary == "the right keys in a different order: at position 1 got 'c', expected 'b'"


def test_dict_nested_value_mismatch_names_the_key():
    verdict = compare({"conv1": torch.ones(2), "fc": 10}, {"conv1": torch.ones(2), "fc": 12})
    assert not verdict.ok and verdict.summary == "['fc']: got 10, expected 12 (off by -2)"


def test_dict_nested_deeper_names_the_path():
    verdict = compare({"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}})
    assert verdict.summary == "['a']['b'][1]: got 2, expected 3 (off by -1)"


def test_dict_passes_and_collects_notes():
    verdict = compare({"n": 4.0, "t": torch.ones(1, dtype=torch.float64)}, {"n": 4, "t": torch.ones(1)})
    assert verdict.ok and len(verdict.notes) == 2


def test_not_a_dict():
    verdict = compare([1, 2], {"a": 1, "b": 2})
    assert not verdict.ok and verdict.summary == "got a list of 2 values, expected a dict with 2 entries"


# ---------------------------------------------------------------- tuples and lists


def test_sequence_length_mismatch():
    verdict = compare((1, 2, 3), (1, 2))
    assert not verdict.ok and verdict.summary == "3 values, expected 2"


def test_sequence_element_index_in_message():
    verdict = compare((torch.ones(2), torch.ones(3)), (torch.ones(2), torch.ones(2)))
    assert verdict.summary == "[1]: shape (3,), expected (2,)"


def test_list_and_tuple_interchangeable():
    assert compare([1, 2], (1, 2)).ok
    assert compare((1.0, 2.0), [1.0, 2.0]).ok


def test_not_a_sequence():
    verdict = compare(torch.ones(2), (1, 2))
    assert not verdict.ok and verdict.summary == "got a tensor of shape (2,) (float32), expected a tuple of 2 values"


# ---------------------------------------------------------------- other expected values


def test_bool_none_and_str_expected():
    assert compare(True, True).ok
    assert not compare(1, True).ok
    assert compare(None, None).ok
    assert not compare(0, None).ok
    assert compare("relu", "relu").ok
    assert compare("Relu", "relu").summary == "got a str, expected 'relu'"


def test_uncomparable_expected_is_a_grader_bug():
    with pytest.raises(TypeError):
        compare(1, {1, 2})


# ---------------------------------------------------------------- compare_shape


def test_compare_shape_ok():
    assert compare_shape(torch.ones(2, 3), (2, 3)).ok


def test_compare_shape_mismatch():
    verdict = compare_shape(torch.ones(2), (3,))
    assert not verdict.ok and verdict.summary == "shape (2,), expected (3,)"


def test_compare_shape_wrong_type():
    verdict = compare_shape(Opaque("set", "{1}"), (3,))
    assert not verdict.ok and verdict.summary == "got a set ({1}), expected a tensor of shape (3,)"


def test_compare_shape_numpy_with_note():
    verdict = compare_shape(np.ones((2, 2)), (2, 2))
    assert verdict.ok and verdict.notes


def test_compare_shape_bool_rejected():
    verdict = compare_shape(torch.ones(2, dtype=torch.bool), (2,))
    assert not verdict.ok and "bool" in verdict.summary


# ---------------------------------------------------------------- fmt and describe_type


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.0, "2"),
        (0.1 + 0.2, "0.3"),
        (0.3125, "0.3125"),
        (3.14159265, "3.142"),
        (1234567.0, "1.235e+06"),
        (-1.2345e-5, "-1.234e-05"),
        (NAN, "nan"),
        (INF, "inf"),
        (-INF, "-inf"),
        (7, "7"),
        (10**20, "100000000000000000000"),
        (True, "True"),
    ],
)
def test_fmt(value, text):
    assert fmt(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "an int"),
        (1.0, "a float"),
        ("s", "a str"),
        (None, "None"),
        (False, "a bool"),
        ((1, 2), "a tuple of 2 values"),
        ([], "a list of 0 values"),
        ({}, "a dict"),
        (torch.ones(2, 3), "a tensor of shape (2, 3) (float32)"),
        (torch.ones((), dtype=torch.int64), "a tensor of shape () (int64)"),
        (np.ones(2), "a numpy array of shape (2,) (float64)"),
        (LINEAR, "a Linear object"),
        (Opaque("set", "{1}"), "a set ({1})"),
    ],
)
def test_describe_type(value, text):
    assert describe_type(value) == text


def test_fmt_is_what_messages_use():
    verdict = compare(torch.tensor([math.pi]), torch.tensor([3.0]))
    assert "got 3.142, expected 3" in verdict.summary
