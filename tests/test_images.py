"""grader/images.py: only re-encoded PNGs within limits reach a report."""

from __future__ import annotations

import io

from PIL import Image

from grader.images import safe_png


def _png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_png_is_re_encoded() -> None:
    out = safe_png(_png((8, 6), "L"))
    assert out is not None
    with Image.open(io.BytesIO(out)) as image:
        assert image.size == (8, 6) and image.mode == "RGBA"


def test_what_is_not_a_sane_png_is_refused() -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4)).save(jpeg, format="JPEG")
    assert safe_png(jpeg.getvalue()) is None
    assert safe_png(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10) is None
    assert safe_png(_png((4001, 2))) is None
    assert safe_png(b"") is None


def test_a_drawn_figure_becomes_a_png_and_is_closed() -> None:
    import matplotlib.pyplot as plt

    from grader.images import drawn_png

    def draw():  # type: ignore[no-untyped-def]
        figure, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0, 1], [1, 0])
        return figure

    before = len(plt.get_fignums())
    png = drawn_png(draw)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(plt.get_fignums()) == before
    assert drawn_png(lambda: png) == png  # drawn earlier (on a thread, say): as it is
