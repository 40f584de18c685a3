"""Ex. 3: 2D convolution (cross-correlation) by hand, single channel and full layer.

Public checks compare with ``F.conv2d`` itself; the hidden one with the reference on a
wider range of sizes. Torch's own convolutions are watched in the worker (config.yaml,
``forbidden``): a solution that calls one scores nothing.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from grader.checks import Call, Context, check
from grader.checks.strategies import tensors


@st.composite
def _geometry(draw: st.DrawFn, max_size: int, max_kernel: int, max_stride: int, max_padding: int) -> dict[str, Any]:
    padding = draw(st.integers(0, max_padding))
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    kh = draw(st.integers(1, min(max_kernel, h + 2 * padding)))
    kw = draw(st.integers(1, min(max_kernel, w + 2 * padding)))
    stride = draw(st.integers(1, max_stride))
    return {"h": h, "w": w, "kh": kh, "kw": kw, "stride": stride, "padding": padding}


def _options(draw: st.DrawFn, g: dict[str, Any]) -> dict[str, Any]:
    """stride and padding as keywords; sometimes left out when they equal the default."""
    kwargs = {}
    if g["stride"] != 1 or draw(st.booleans()):
        kwargs["stride"] = g["stride"]
    if g["padding"] != 0 or draw(st.booleans()):
        kwargs["padding"] = g["padding"]
    return kwargs


@st.composite
def single_channel_calls(draw: st.DrawFn, max_size: int = 6, max_kernel: int = 4, max_stride: int = 3,
                         max_padding: int = 2) -> Call:
    g = draw(_geometry(max_size, max_kernel, max_stride, max_padding))
    x, k = draw(tensors((g["h"], g["w"]))), draw(tensors((g["kh"], g["kw"])))
    return Call((x, k), _options(draw, g), ("x", "k"))


@st.composite
def layer_calls(draw: st.DrawFn, max_size: int = 5, max_kernel: int = 3, max_stride: int = 3,
                max_padding: int = 2, max_channels: int = 3) -> Call:
    g = draw(_geometry(max_size, max_kernel, max_stride, max_padding))
    batch, c_in, c_out = (draw(st.integers(1, n)) for n in (2, max_channels, max_channels))
    x = draw(tensors((batch, c_in, g["h"], g["w"])))
    weight = draw(tensors((c_out, c_in, g["kh"], g["kw"])))
    kwargs = _options(draw, g)
    if draw(st.booleans()):
        kwargs = {"bias": draw(tensors((c_out,))), **kwargs}
    return Call((x, weight), kwargs, ("x", "weight"))


def torch_conv2d(x: torch.Tensor, k: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    return F.conv2d(x[None, None], k[None, None], stride=stride, padding=padding)[0, 0]


def torch_conv2d_layer(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                       stride: int = 1, padding: int = 0) -> torch.Tensor:
    return F.conv2d(x, weight, bias, stride=stride, padding=padding)


@check("single_channel_matches_torch", "conv2d(x, k, stride, padding) agrees with F.conv2d")
def single_channel_matches_torch(ctx: Context) -> None:
    ctx.agree("conv2d", single_channel_calls(), torch_conv2d)


@check("layer_matches_torch", "conv2d_layer(x, weight, bias, stride, padding) agrees with F.conv2d")
def layer_matches_torch(ctx: Context) -> None:
    ctx.agree("conv2d_layer", layer_calls(), torch_conv2d_layer)


@check("matches_reference", "both functions agree with the reference on larger inputs, kernels, strides and padding")
def matches_reference(ctx: Context) -> None:
    ctx.agree("conv2d", single_channel_calls(max_size=10, max_kernel=5, max_stride=4, max_padding=3),
              ctx.reference.conv2d)
    ctx.agree("conv2d_layer", layer_calls(max_size=7, max_kernel=4, max_stride=3, max_padding=2, max_channels=4),
              ctx.reference.conv2d_layer)
