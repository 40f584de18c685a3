"""The wire format between the grader and its worker: data only, never code.

A message is a frame::

    8 bytes  big-endian length of the JSON header
    8 bytes  big-endian length of the raw buffers that follow
    header   UTF-8 JSON; its "buffers" entry lists the byte length of each buffer
    buffers  raw tensor / array bytes, concatenated

Values inside the header are JSON, with tagged objects (exactly one key starting with
``$``) for what JSON lacks::

    {"$tuple": [...]}               {"$dict": [[key, value], ...]}
    {"$float": "nan" | "inf" | "-inf"}
    {"$tensor": {"dtype": "float32", "shape": [2, 3], "buffer": 0, "type": "Tensor"}}
    {"$ndarray": {"dtype": "float64", "shape": [2], "buffer": 1}}
    {"$handle": {"id": 3, "type": "AlexNet"}}      an object kept in the worker
    {"$opaque": {"type": "set", "repr": "{1, 2}"}} a value that cannot cross

The decoder trusts nothing: dtypes are allow-listed, the byte count of every buffer must
equal shape x itemsize, sizes, depth and string lengths are capped. It builds only plain
``torch.Tensor``, ``numpy.ndarray`` and Python builtins, so nothing the child sends can run
code in the parent.

>>> import torch
>>> frame = encode({"x": torch.ones(2)})
>>> decode_frame(frame)["x"]
tensor([1., 1.])
"""

from __future__ import annotations

import json
import math
import socket
import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from grader.errors import ProtocolError

PREFIX = struct.Struct(">QQ")
MAX_DEPTH = 64
MAX_ITEMS = 1_000_000
MAX_STRING = 64 * 1024
MAX_HEADER = 64 * 1024 * 1024

TENSOR_DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}
TENSOR_DTYPE_NAMES = {dtype: name for name, dtype in TENSOR_DTYPES.items()}
ARRAY_DTYPES = frozenset(name for name in TENSOR_DTYPES if name != "bfloat16") | {
    "uint16",
    "uint32",
    "uint64",
}
# Tensor subclasses that are plain data for our purposes (a returned weight, say).
PLAIN_TENSOR_TYPES = frozenset({"Tensor", "Parameter"})


@dataclass(frozen=True)
class Handle:
    """An object that lives in the worker (a model, a layer), referred to by number."""

    id: int
    type: str


@dataclass(frozen=True)
class Opaque:
    """A value the worker could not send as data; only its type and a capped repr cross."""

    type: str
    repr: str


def safe_repr(value: Any, limit: int = 200) -> str:
    """``repr`` that never raises and never runs long: student objects may do either."""
    try:
        text = repr(value)
    except BaseException as exc:  # a student __repr__ may raise anything  # noqa: BLE001
        text = f"<{type(value).__name__} whose repr raised {type(exc).__name__}>"
    if not isinstance(text, str):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Encoder:
    """Turns a value into JSON-able data plus a list of raw buffers."""

    def __init__(self, make_handle: Any = None) -> None:
        self.buffers: list[bytes] = []
        self.make_handle = make_handle

    def buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def value(self, v: Any, depth: int = 0) -> Any:
        if depth >= MAX_DEPTH:
            return _opaque(v, "nested too deeply")
        if v is None or type(v) in (bool, int, str):
            return v
        if type(v) is float:
            return v if math.isfinite(v) else {"$float": repr(v)}
        if isinstance(v, torch.Tensor):
            return self.tensor(v)
        if isinstance(v, np.ndarray):
            return self.ndarray(v)
        if isinstance(v, np.generic) and not isinstance(v, np.object_):
            return self.ndarray(np.asarray(v))
        if type(v) is list:
            return [self.value(x, depth + 1) for x in v]
        if type(v) is tuple or type(v) is torch.Size:
            return {"$tuple": [self.value(x, depth + 1) for x in v]}
        # A state_dict is an OrderedDict: plain data, sent as a dict.
        if type(v) in (dict, OrderedDict) and all(type(k) in (str, int) for k in v):
            return {"$dict": [[k, self.value(x, depth + 1)] for k, x in v.items()]}
        if type(v) is Handle:
            return {"$handle": {"id": v.id, "type": v.type}}
        if self.make_handle is not None:
            handle = self.make_handle(v)
            if handle is not None:
                return {"$handle": {"id": handle.id, "type": handle.type}}
        return _opaque(v)

    def tensor(self, t: torch.Tensor) -> Any:
        name = TENSOR_DTYPE_NAMES.get(t.dtype)
        if name is None or t.layout != torch.strided or t.is_quantized or t.device.type == "meta":
            return _opaque(t, f"a tensor of dtype {t.dtype}, layout {t.layout}")
        flat = t.detach().cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
        data = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
        return {
            "$tensor": {
                "dtype": name,
                "shape": list(t.shape),
                "buffer": self.buffer(data),
                "type": type(t).__name__,
            }
        }

    def ndarray(self, a: np.ndarray) -> Any:
        name = a.dtype.name
        if name not in ARRAY_DTYPES:
            return _opaque(a, f"a numpy array of dtype {a.dtype}")
        data = np.ascontiguousarray(a).tobytes()
        return {"$ndarray": {"dtype": name, "shape": list(a.shape), "buffer": self.buffer(data)}}


def _opaque(v: Any, note: str | None = None) -> dict[str, Any]:
    kind = type(v)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return {"$opaque": {"type": name[:200], "repr": note or safe_repr(v)}}


def encode(message: dict[str, Any], make_handle: Any = None) -> bytes:
    """Encode a message dict into one frame. ``make_handle(obj)`` may keep objects by handle.

    The message's own top-level keys are plain JSON; its values are encoded with tags.
    """
    encoder = _Encoder(make_handle)
    body = {key: encoder.value(value) for key, value in message.items()}
    body["buffers"] = [len(b) for b in encoder.buffers]
    header = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
    return PREFIX.pack(len(header), sum(body["buffers"])) + header + b"".join(encoder.buffers)


class _Decoder:
    """Rebuilds values from a header and its buffers, validating everything."""

    def __init__(self, buffers: list[memoryview]) -> None:
        self.buffers = buffers
        self.used: set[int] = set()
        self.items = 0

    def value(self, v: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > MAX_ITEMS or depth > MAX_DEPTH:
            raise ProtocolError("message too large or nested too deeply")
        if v is None or type(v) in (bool, int, float):
            return v
        if type(v) is str:
            # A lone surrogate (JSON allows "\ud800") could not be written to a report.
            text = v if len(v) <= MAX_STRING else v[: MAX_STRING - 3] + "..."
            return text.encode("utf-8", "replace").decode("utf-8")
        if type(v) is list:
            return [self.value(x, depth + 1) for x in v]
        if type(v) is not dict or len(v) != 1:
            raise ProtocolError("malformed value")
        (tag, body), = v.items()
        if tag == "$tuple" and type(body) is list:
            return tuple(self.value(x, depth + 1) for x in body)
        if tag == "$dict" and type(body) is list:
            out: dict[Any, Any] = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
                    raise ProtocolError("malformed dict entry")
                out[self.value(pair[0], depth + 1)] = self.value(pair[1], depth + 1)
            return out
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$tensor" and type(body) is dict:
            return self.tensor(body)
        if tag == "$ndarray" and type(body) is dict:
            return self.ndarray(body)
        if tag == "$handle" and type(body) is dict:
            if type(body.get("id")) is not int or type(body.get("type")) is not str:
                raise ProtocolError("malformed handle")
            return Handle(body["id"], body["type"][:200])
        if tag == "$opaque" and type(body) is dict:
            return Opaque(str(body.get("type", "?"))[:200], str(body.get("repr", ""))[:1000])
        raise ProtocolError(f"unknown tag {str(tag)[:40]!r}")

    def raw(self, body: dict[str, Any], itemsize: int) -> tuple[tuple[int, ...], memoryview]:
        shape, index = body.get("shape"), body.get("buffer")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError("malformed shape")
        if len(shape) > 32 or any(n >= 2**40 for n in shape):
            raise ProtocolError("too many dimensions, or a dimension too large")
        if type(index) is not int or not 0 <= index < len(self.buffers) or index in self.used:
            raise ProtocolError("malformed buffer reference")
        self.used.add(index)
        data = self.buffers[index]
        if len(data) != math.prod(shape) * itemsize:
            raise ProtocolError("buffer size does not match shape and dtype")
        return tuple(shape), data

    def tensor(self, body: dict[str, Any]) -> torch.Tensor | Opaque:
        name = body.get("dtype")
        dtype = TENSOR_DTYPES.get(name) if type(name) is str else None
        if dtype is None:
            raise ProtocolError("tensor dtype not allowed")
        kind = body.get("type", "Tensor")
        if type(kind) is not str:
            raise ProtocolError("malformed tensor type")
        if kind not in PLAIN_TENSOR_TYPES:
            # Only plain data crosses; the subclass itself never exists in the parent.
            return Opaque(str(kind)[:200], "a subclass of torch.Tensor")
        shape, data = self.raw(body, torch.empty((), dtype=dtype).element_size())
        if not data:
            return torch.empty(shape, dtype=dtype)
        return torch.frombuffer(bytearray(data), dtype=dtype).reshape(shape)

    def ndarray(self, body: dict[str, Any]) -> np.ndarray:
        name = body.get("dtype")
        if type(name) is not str or name not in ARRAY_DTYPES:
            raise ProtocolError("array dtype not allowed")
        dtype = np.dtype(name)
        shape, data = self.raw(body, dtype.itemsize)
        return np.frombuffer(bytes(data), dtype=dtype).reshape(shape)


def decode_frame(frame: bytes) -> dict[str, Any]:
    """Decode one complete frame (as made by :func:`encode`) into a message dict."""
    if len(frame) < PREFIX.size:
        raise ProtocolError("truncated message")
    header_len, buffers_len = PREFIX.unpack_from(frame)
    if len(frame) != PREFIX.size + header_len + buffers_len:
        raise ProtocolError("message length does not match its prefix")
    header = frame[PREFIX.size : PREFIX.size + header_len]
    return _decode_parts(header, memoryview(frame)[PREFIX.size + header_len :])


def _decode_parts(header: bytes, payload: memoryview) -> dict[str, Any]:
    try:
        body = json.loads(header)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError("header is not valid JSON") from exc
    if type(body) is not dict:
        raise ProtocolError("header is not an object")
    sizes = body.pop("buffers", None)
    if type(sizes) is not list or not all(type(n) is int and n >= 0 for n in sizes):
        raise ProtocolError("malformed buffer list")
    if sum(sizes) != len(payload):
        raise ProtocolError("buffer sizes do not add up")
    buffers, offset = [], 0
    for size in sizes:
        buffers.append(payload[offset : offset + size])
        offset += size
    decoder = _Decoder(buffers)
    return {str(key): decoder.value(value) for key, value in body.items()}


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(sock: socket.socket, max_bytes: int = 512 * 1024 * 1024) -> dict[str, Any]:
    """Read and decode one frame from a socket. Raises ``EOFError`` when it closes."""
    header_len, buffers_len = PREFIX.unpack(_recv_exact(sock, PREFIX.size))
    if header_len > MAX_HEADER or header_len + buffers_len > max_bytes:
        raise ProtocolError(f"message of {header_len + buffers_len} bytes exceeds the limit")
    header = _recv_exact(sock, header_len)
    payload = _recv_exact(sock, buffers_len) if buffers_len else b""
    return _decode_parts(header, memoryview(payload))


def write_message(sock: socket.socket, message: dict[str, Any], make_handle: Any = None) -> None:
    """Encode and send one message."""
    sock.sendall(encode(message, make_handle))
