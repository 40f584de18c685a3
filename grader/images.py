"""Figures drawn by student code arrive as PNG bytes; only re-encoded pixels reach a report.

The bytes come from the untrusted worker: they are decoded by Pillow within size limits and
encoded again, so a report embeds an image the grader made, never the child's file.

>>> import io
>>> from PIL import Image
>>> buffer = io.BytesIO()
>>> Image.new("RGB", (4, 3)).save(buffer, format="PNG")
>>> safe_png(buffer.getvalue())[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
>>> safe_png(b"not a png") is None
True
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

MAX_SIDE = 4000
MAX_BYTES = 20 * 1024 * 1024


def safe_png(data: bytes) -> bytes | None:
    """The image re-encoded as PNG, or None when it is not a PNG within the limits."""
    from PIL import Image

    if len(data) > MAX_BYTES or not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or max(image.size) > MAX_SIDE:
                return None
            pixels = image.convert("RGBA")
    except Exception:  # Pillow raises many kinds of errors on malformed images  # noqa: BLE001
        return None
    out = io.BytesIO()
    pixels.save(out, format="PNG")
    return out.getvalue()


def figure_png(figure: Any) -> bytes:
    """A matplotlib figure drawn in the grader's own process (a reference figure) as PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    return buffer.getvalue()


def drawn_png(draw: Callable[[], Any]) -> bytes:
    """What ``draw()`` returns, as PNG: a matplotlib figure it made, drawn headless (Agg,
    whatever the machine has) and closed after, or PNG bytes (a figure drawn earlier) as they are."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = draw()
    if isinstance(figure, bytes):
        return figure
    try:
        return figure_png(figure)
    finally:
        plt.close(figure)


def thumbnail_jpeg(png: bytes, width: int = 640) -> bytes:
    """A PNG the grader made, at most ``width`` pixels wide, as JPEG on white: small enough
    for a page that shows one per student (summary.html's marking views)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        image.thumbnail((width, 4 * width))
        pixels = image.convert("RGBA")
    flat = Image.new("RGB", pixels.size, "white")
    flat.paste(pixels, mask=pixels.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, format="JPEG", quality=80)
    return out.getvalue()
