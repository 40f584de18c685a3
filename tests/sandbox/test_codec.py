"""The wire format between grader and worker: round trips, Opaque values, hostile frames.

The decoder is the trust boundary's gate: whatever bytes arrive, it either returns plain data
(builtins, plain ``torch.Tensor``, ``numpy.ndarray``, Handle, Opaque) or raises ProtocolError.
"""

from __future__ import annotations

import json
import math
import socket

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.errors import ProtocolError
from grader.sandbox import codec
from grader.sandbox.codec import Handle, Opaque, decode_frame, encode, read_message, write_message


def roundtrip(value):
    return decode_frame(encode({"v": value}))["v"]


def raw_frame(body: dict, payload: bytes = b"") -> bytes:
    """A frame built by hand, as a hostile worker could send it."""
    header = json.dumps(body).encode()
    return codec.PREFIX.pack(len(header), len(payload)) + header + payload


def same(a, b) -> bool:
    """Equality that also requires the same types all the way down (1 != 1.0 != True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# ---------------------------------------------------------------- scalars and containers


@pytest.mark.parametrize("value", [None, True, False, 0, -7, 2**70, 1.5, -0.25, 1e300, "", "héllo ☃"])
def test_scalars_round_trip_with_their_type(value):
    assert same(roundtrip(value), value)


def test_negative_zero_keeps_its_sign():
    out = roundtrip(-0.0)
    assert out == 0.0 and math.copysign(1.0, out) == -1.0


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
def test_infinities_round_trip(value):
    assert roundtrip(value) == value


def test_nan_round_trips_as_nan():
    out = roundtrip(float("nan"))
    assert type(out) is float and math.isnan(out)


def test_nested_containers_keep_list_tuple_and_dict_with_int_and_str_keys():
    value = {"a": [1, (2, 3), {"b": (4.5, None)}], 3: ((),), "t": (float("inf"), [True])}
    out = roundtrip(value)
    assert same(out, value)
    assert type(out[3]) is tuple and type(out[3][0]) is tuple
    assert list(out) == ["a", 3, "t"]


def test_torch_size_becomes_a_tuple():
    assert same(roundtrip(torch.Size([2, 3])), (2, 3))


scalar = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)
nested = st.recursive(
    scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(-1000, 1000)), children, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(nested)
def test_property_nested_containers_round_trip(value):
    assert same(roundtrip(value), value)


# ---------------------------------------------------------------- tensors and arrays


@pytest.mark.parametrize("name", sorted(codec.TENSOR_DTYPES))
def test_tensors_of_every_allowed_dtype_round_trip(name):
    dtype = codec.TENSOR_DTYPES[name]
    if dtype == torch.bool:
        t = torch.tensor([[True, False, True], [False, False, True]])
    elif dtype.is_complex:
        t = torch.tensor([[1 + 2j, -3j, 0.5], [4, 5 - 1j, -6]], dtype=dtype)
    else:
        t = torch.tensor([[0, 1, 2], [3, 100, 7]], dtype=dtype)
    out = roundtrip(t)
    assert type(out) is torch.Tensor
    assert out.dtype == dtype and out.shape == (2, 3)
    assert torch.equal(out, t)


def test_bfloat16_keeps_its_exact_bits():
    t = torch.tensor([1.0, -2.5, 3.140625, 1e-3, float("inf")], dtype=torch.bfloat16)
    out = roundtrip(t)
    assert out.dtype == torch.bfloat16
    assert torch.equal(out.view(torch.int16), t.view(torch.int16))


def test_float_tensor_with_nan_and_inf_round_trips():
    t = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0])
    out = roundtrip(t)
    assert torch.equal(out.isnan(), t.isnan()) and torch.equal(out[1:], t[1:])


@pytest.mark.parametrize("t", [torch.tensor(3.5), torch.tensor(7, dtype=torch.int64), torch.tensor(True)])
def test_zero_dimensional_tensors_round_trip(t):
    out = roundtrip(t)
    assert out.shape == () and out.dtype == t.dtype and torch.equal(out, t)


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 4)])
def test_empty_tensors_keep_shape_and_dtype(shape):
    out = roundtrip(torch.empty(shape, dtype=torch.float64))
    assert type(out) is torch.Tensor and out.shape == shape and out.dtype == torch.float64


def test_non_contiguous_tensor_round_trips_by_value():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    views = [base.t(), base[:, ::2], base[1:3, 1:5].t(), torch.arange(3.0).expand(2, 3)]
    for view in views:
        assert not view.is_contiguous()
        out = roundtrip(view)
        assert out.shape == view.shape and torch.equal(out, view)


def test_conj_and_neg_views_are_resolved():
    z = torch.tensor([1 + 2j, 3 - 4j])
    conj = z.conj()
    assert conj.is_conj()
    assert torch.equal(roundtrip(conj), torch.tensor([1 - 2j, 3 + 4j]))
    neg = torch._neg_view(torch.tensor([1.0, -2.0]))
    assert neg.is_neg()
    assert torch.equal(roundtrip(neg), torch.tensor([-1.0, 2.0]))


def test_tensor_requiring_grad_and_parameter_arrive_as_plain_tensors():
    p = torch.nn.Parameter(torch.ones(2, 2))
    out = roundtrip({"p": p, "g": torch.ones(2, requires_grad=True) * 2})
    assert type(out["p"]) is torch.Tensor and torch.equal(out["p"], torch.ones(2, 2))
    assert type(out["g"]) is torch.Tensor and not out["g"].requires_grad


def test_decoded_tensor_is_writable_and_owns_its_memory():
    out = roundtrip(torch.zeros(3))
    out += 1  # must not raise (a read-only buffer would) and must not touch anything else
    assert torch.equal(out, torch.ones(3))


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.float64).reshape(2, 3),
        np.array([1, 2], dtype=np.uint16),
        np.array([1, 2**40], dtype=np.uint64),
        np.array([[True], [False]]),
        np.array([1 + 1j], dtype=np.complex64),
        np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2],  # non-contiguous
        np.zeros((0, 2), dtype=np.float32),
    ],
)
def test_numpy_arrays_round_trip(array):
    out = roundtrip(array)
    assert type(out) is np.ndarray and out.dtype == array.dtype and out.shape == array.shape
    assert np.array_equal(out, array)


@pytest.mark.parametrize("scalar", [np.float32(1.5), np.int64(-3), np.bool_(True), np.uint8(200)])
def test_numpy_scalars_arrive_as_zero_dimensional_arrays(scalar):
    out = roundtrip(scalar)
    assert type(out) is np.ndarray and out.shape == () and out.dtype == scalar.dtype
    assert out.item() == scalar.item()


def test_handle_round_trips():
    assert roundtrip(Handle(3, "AlexNet")) == Handle(3, "AlexNet")


def test_make_handle_keeps_objects_in_the_worker():
    model = torch.nn.Linear(2, 2)
    kept = []

    def make_handle(obj):
        kept.append(obj)
        return Handle(len(kept), type(obj).__name__)

    out = decode_frame(encode({"v": [model, 1]}, make_handle))["v"]
    assert out == [Handle(1, "Linear"), 1]
    assert kept == [model]


# ---------------------------------------------------------------- values that cannot cross


def test_set_becomes_opaque_with_its_repr():
    out = roundtrip({1, 2})
    assert type(out) is Opaque and out.type == "set" and out.repr == "{1, 2}"


def test_arbitrary_object_becomes_opaque_naming_its_class():
    class Thing:
        def __repr__(self):
            return "<thing>"

    out = roundtrip(Thing())
    assert type(out) is Opaque and out.type.endswith("Thing") and out.repr == "<thing>"


def test_object_whose_repr_raises_becomes_opaque_without_crashing():
    class Evil:
        def __repr__(self):
            raise RuntimeError("boom")

    out = roundtrip(Evil())
    assert type(out) is Opaque
    assert "Evil" in out.repr and "RuntimeError" in out.repr


def test_long_repr_is_capped():
    class Long:
        def __repr__(self):
            return "x" * 100_000

    out = roundtrip(Long())
    assert type(out) is Opaque and len(out.repr) <= 1000


def test_object_dtype_array_becomes_opaque():
    out = roundtrip(np.array([1, "a", None], dtype=object))
    assert type(out) is Opaque and "object" in out.repr


def test_dict_with_tuple_keys_becomes_opaque():
    assert type(roundtrip({(1, 2): 3})) is Opaque


def test_tensor_on_meta_device_becomes_opaque():
    assert type(roundtrip(torch.empty(2, 2, device="meta"))) is Opaque


def test_sparse_tensor_becomes_opaque():
    assert type(roundtrip(torch.eye(2).to_sparse())) is Opaque


class StudentTensor(torch.Tensor):
    """A tensor subclass as a student might return it (it could override anything)."""


def test_tensor_subclass_never_exists_in_the_parent():
    t = torch.ones(2).as_subclass(StudentTensor)
    out = roundtrip(t)
    assert type(out) is Opaque
    assert not isinstance(out, torch.Tensor)
    assert out.type == "StudentTensor"


def test_forged_subclass_header_decodes_to_opaque_not_tensor():
    frame = raw_frame({"v": {"$tensor": {"dtype": "float32", "shape": [1], "buffer": 0, "type": "Evil"}},
                       "buffers": [4]}, b"\0\0\0\0")
    out = decode_frame(frame)["v"]
    assert type(out) is Opaque


def test_subclass_named_like_parameter_still_decodes_to_plain_tensor():
    class Parameter(torch.Tensor):  # a student subclass borrowing a trusted name
        pass

    out = roundtrip(torch.ones(2).as_subclass(Parameter))
    assert type(out) is torch.Tensor


def test_too_deep_value_is_sent_as_opaque_not_crashing_the_worker():
    value: list = []
    for _ in range(codec.MAX_DEPTH + 5):
        value = [value]
    out = roundtrip(value)
    inner = out
    depth = 0
    while type(inner) is list:
        inner = inner[0]
        depth += 1
    assert type(inner) is Opaque and depth <= codec.MAX_DEPTH + 1


def test_long_string_is_capped_on_decode():
    frame = raw_frame({"v": "y" * (codec.MAX_STRING + 10), "buffers": []})
    assert len(decode_frame(frame)["v"]) <= codec.MAX_STRING


# ---------------------------------------------------------------- malformed frames


def tensor_body(**overrides):
    body = {"dtype": "float32", "shape": [2], "buffer": 0}
    body.update(overrides)
    return {"$tensor": body}


MALFORMED = {
    "truncated prefix": codec.PREFIX.pack(10, 0)[:10],
    "empty": b"",
    "truncated header": codec.PREFIX.pack(100, 0) + b'{"v": 1',
    "prefix longer than frame": raw_frame({"buffers": []})[:-1],
    "prefix shorter than frame": raw_frame({"buffers": []}) + b"x",
    "buffer length disagrees with prefix": codec.PREFIX.pack(14, 3) + b'{"buffers":[]}' + b"abc",
    "invalid JSON": codec.PREFIX.pack(9, 0) + b"{not json",
    "invalid UTF-8": codec.PREFIX.pack(4, 0) + b'"\xff\xfe"',
    "header is a list": raw_frame([1, 2]),  # type: ignore[arg-type]
    "header is a number": codec.PREFIX.pack(1, 0) + b"7",
    "no buffer list": raw_frame({"v": 1}),
    "buffer list not a list": raw_frame({"v": 1, "buffers": {"0": 4}}),
    "negative buffer size": raw_frame({"v": 1, "buffers": [-1, 5]}, b"xxxx"),
    "bool buffer size": raw_frame({"v": 1, "buffers": [True]}, b"x"),
    "buffer sizes do not add up": raw_frame({"v": tensor_body(), "buffers": [4]}, b"\0" * 8),
    "buffer smaller than shape x itemsize": raw_frame({"v": tensor_body(), "buffers": [4]}, b"\0" * 4),
    "buffer larger than shape x itemsize": raw_frame({"v": tensor_body(shape=[1]), "buffers": [8]}, b"\0" * 8),
    "ndarray buffer wrong size": raw_frame(
        {"v": {"$ndarray": {"dtype": "float64", "shape": [2], "buffer": 0}}, "buffers": [8]}, b"\0" * 8),
    "negative shape": raw_frame({"v": tensor_body(shape=[-2]), "buffers": [8]}, b"\0" * 8),
    "float shape": raw_frame({"v": tensor_body(shape=[2.0]), "buffers": [8]}, b"\0" * 8),
    "string shape": raw_frame({"v": tensor_body(shape="2"), "buffers": [8]}, b"\0" * 8),
    "bool in shape": raw_frame({"v": tensor_body(shape=[True, 2]), "buffers": [8]}, b"\0" * 8),
    "too many dimensions": raw_frame({"v": tensor_body(shape=[1] * 40), "buffers": [4]}, b"\0" * 4),
    "object tensor dtype": raw_frame({"v": tensor_body(dtype="object"), "buffers": [8]}, b"\0" * 8),
    "unknown tensor dtype": raw_frame({"v": tensor_body(dtype="float8_e4m3fn"), "buffers": [2]}, b"\0" * 2),
    "object array dtype": raw_frame(
        {"v": {"$ndarray": {"dtype": "object", "shape": [1], "buffer": 0}}, "buffers": [8]}, b"\0" * 8),
    "bfloat16 array dtype": raw_frame(
        {"v": {"$ndarray": {"dtype": "bfloat16", "shape": [1], "buffer": 0}}, "buffers": [2]}, b"\0" * 2),
    "buffer index out of range": raw_frame({"v": tensor_body(buffer=1), "buffers": [8]}, b"\0" * 8),
    "negative buffer index": raw_frame({"v": tensor_body(buffer=-1), "buffers": [8]}, b"\0" * 8),
    "missing buffer index": raw_frame({"v": {"$tensor": {"dtype": "float32", "shape": [2]}}, "buffers": [8]},
                                      b"\0" * 8),
    "buffer referenced twice": raw_frame({"v": [tensor_body(), tensor_body()], "buffers": [8]}, b"\0" * 8),
    "unknown tag": raw_frame({"v": {"$pickle": "gASVAAAA"}, "buffers": []}),
    "tag with wrong body type": raw_frame({"v": {"$tuple": "abc"}, "buffers": []}),
    "bad float tag": raw_frame({"v": {"$float": "1e999x"}, "buffers": []}),
    "dict value with two keys": raw_frame({"v": {"$tuple": [], "$dict": []}, "buffers": []}),
    "plain object value": raw_frame({"v": {"a": 1}, "buffers": []}),
    "empty object value": raw_frame({"v": {}, "buffers": []}),
    "malformed dict entry": raw_frame({"v": {"$dict": [[1, 2, 3]]}, "buffers": []}),
    "dict key a list": raw_frame({"v": {"$dict": [[[1], 2]]}, "buffers": []}),
    "malformed handle": raw_frame({"v": {"$handle": {"id": "3", "type": "Linear"}}, "buffers": []}),
    "too deep nesting": raw_frame({"v": json.loads("[" * (codec.MAX_DEPTH + 10) + "]" * (codec.MAX_DEPTH + 10)),
                                   "buffers": []}),
    "too deep tuples": raw_frame({"v": json.loads('{"$tuple": [' * (codec.MAX_DEPTH + 5) + "]}" * (codec.MAX_DEPTH + 5)),
                                  "buffers": []}),
}


@pytest.mark.parametrize("frame", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_frame_raises_protocol_error(frame):
    with pytest.raises(ProtocolError):
        decode_frame(frame)


def test_too_many_items_raise_protocol_error(monkeypatch):
    monkeypatch.setattr(codec, "MAX_ITEMS", 100)
    with pytest.raises(ProtocolError):
        decode_frame(raw_frame({"v": list(range(200)), "buffers": []}))


def test_protocol_error_is_a_sandbox_error_not_a_student_failure():
    from grader.errors import SandboxError, StudentFailure

    assert issubclass(ProtocolError, SandboxError) and not issubclass(ProtocolError, StudentFailure)


# Found while writing these tests: malformed frames that escape as other exceptions.


def test_json_nested_beyond_the_recursion_limit_raises_protocol_error():
    header = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ProtocolError):
        decode_frame(codec.PREFIX.pack(len(header), 0) + header)


@pytest.mark.parametrize(
    "value",
    [
        tensor_body(dtype=[]),
        tensor_body(type=["Tensor"]),
        {"$ndarray": {"dtype": {"a": 1}, "shape": [2], "buffer": 0}},
    ],
    ids=["tensor dtype list", "tensor type list", "ndarray dtype dict"],
)
def test_unhashable_dtype_or_type_raises_protocol_error(value):
    with pytest.raises(ProtocolError):
        decode_frame(raw_frame({"v": value, "buffers": [8]}, b"\0" * 8))


@pytest.mark.parametrize(
    "value",
    [
        tensor_body(shape=[0, 2**70]),
        {"$ndarray": {"dtype": "float32", "shape": [0, 2**62], "buffer": 0}},
    ],
    ids=["tensor", "ndarray"],
)
def test_zero_size_shape_with_huge_dimension_raises_protocol_error(value):
    with pytest.raises(ProtocolError):
        decode_frame(raw_frame({"v": value, "buffers": [0]}))


# ---------------------------------------------------------------- over a socket


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    yield a, b
    a.close()
    b.close()


def test_write_and_read_message_over_a_socketpair(pair):
    a, b = pair
    message = {"op": "call", "args": (torch.arange(16.0).reshape(4, 4), np.ones(3), {"k": [1, "x"]}), "id": 7}
    write_message(a, message)
    write_message(a, {"second": None})
    got = read_message(b)
    assert got["op"] == "call" and got["id"] == 7
    t, arr, d = got["args"]
    assert torch.equal(t, torch.arange(16.0).reshape(4, 4)) and np.array_equal(arr, np.ones(3))
    assert d == {"k": [1, "x"]}
    assert read_message(b) == {"second": None}


def test_read_message_on_a_closed_socket_raises_eof(pair):
    a, b = pair
    a.close()
    with pytest.raises(EOFError):
        read_message(b)


def test_read_message_cut_off_mid_frame_raises_eof(pair):
    a, b = pair
    frame = encode({"v": torch.ones(8)})
    a.sendall(frame[:-5])
    a.close()
    with pytest.raises(EOFError):
        read_message(b)


def test_read_message_rejects_a_header_over_the_limit(pair):
    a, b = pair
    a.sendall(codec.PREFIX.pack(codec.MAX_HEADER + 1, 0))  # and nothing else: must not wait for it
    with pytest.raises(ProtocolError, match="exceeds the limit"):
        read_message(b)


def test_read_message_rejects_a_message_over_max_bytes(pair):
    a, b = pair
    a.sendall(encode({"v": torch.zeros(1000)}))
    with pytest.raises(ProtocolError):
        read_message(b, max_bytes=1000)


def test_read_message_rejects_malformed_json(pair):
    a, b = pair
    a.sendall(codec.PREFIX.pack(5, 0) + b"{{{{{")
    with pytest.raises(ProtocolError):
        read_message(b)
