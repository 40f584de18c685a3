"""A canonical digest of a call's arguments, the key of a recorded mistake output.

Equal values give equal digests in any process: tensors and arrays by dtype, shape and
bytes, modules by class and state, images by mode, size and pixels, containers item by
item. A value of any other type cannot be keyed, and :func:`fingerprint` raises
``LookupError`` (a lookup that cannot succeed, which diagnosis skips).

>>> import torch
>>> fingerprint(((torch.ones(2),), {"stride": 2})) == fingerprint(((torch.ones(2),), {"stride": 2}))
True
>>> fingerprint(((torch.ones(2),), {})) == fingerprint(((torch.ones(2, dtype=torch.float64),), {}))
False
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch

from grader.checks.remote import Remote


def fingerprint(value: Any) -> str:
    """The hex digest of ``value`` (32 characters)."""
    digest = hashlib.blake2b(digest_size=16)
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if value is None or type(value) in (bool, int, float, str):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, torch.Tensor):
        flat = value.detach().cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
        digest.update(f"tensor:{value.dtype}:{tuple(value.shape)};".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    elif isinstance(value, np.ndarray) and value.dtype != object:
        digest.update(f"ndarray:{value.dtype}:{value.shape};".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif type(value) in (tuple, list):
        digest.update(f"{type(value).__name__}:{len(value)}(".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b")")
    elif isinstance(value, dict):
        digest.update(f"dict:{len(value)}(".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
        digest.update(b")")
    elif isinstance(value, torch.nn.Module):
        # Structure (the repr names every submodule), state, and the training flag, which
        # changes what forward computes.
        digest.update(f"module:{value!r}:{value.training}(".encode())
        _feed(digest, dict(value.state_dict()))
        digest.update(b")")
    elif isinstance(value, Remote):
        digest.update(f"handle:{value.type}:{value.handle.id};".encode())
    elif _is_image(value):
        digest.update(f"image:{value.mode}:{value.size};".encode())
        digest.update(value.tobytes())
    else:
        raise LookupError(f"a {type(value).__name__} cannot be fingerprinted")


def _is_image(value: Any) -> bool:
    from PIL import Image

    return isinstance(value, Image.Image)
