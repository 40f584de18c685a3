"""Make the two images shipped with problem set 5: ``sample_image.png`` and ``dog_and_cat.png``.

Run ``python3 make_sample_images.py``: it (re)writes both PNGs next to this script. The
output is the same on every run (a fixed random seed, no fonts, no photographs).

``sample_image.png`` (Ex. 7) is a 128x128 grayscale test card built to tell iterated max
pooling from iterated Gaussian blur at a glance: a fine checkerboard and fine stripes (the
textures both filters remove), shapes with sharp edges (blur softens them, max pooling moves
bright edges outward), isolated bright dots (max pooling grows each into a square, blur
fades them away), a dark ring on a bright disk (max pooling closes it), and mild noise.

``dog_and_cat.png`` (Ex. 9) stands in for the sheet's photograph of a bulldog and a cat,
which we cannot ship: a 320x256 RGB drawing of a brown dog-like figure and a grey cat-like
figure on a sky-and-grass background. A pretrained ResNet-50 will not be sure what it sees,
but the guided gradients still show which edges and colours drive a class score.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent


def make_sample_image(size: int = 128, seed: int = 0) -> np.ndarray:
    """Return the Ex. 7 test card as a ``(size, size)`` uint8 array."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    img = np.full((size, size), 0.25)

    # Top left: a checkerboard of 2x2-pixel squares, the finest texture a 3x3 pool destroys
    # in one step.
    block = (rows < 48) & (cols < 48)
    img[block] = np.where(((rows // 2 + cols // 2) % 2) == 0, 0.75, 0.35)[block]

    # Top right: vertical stripes, 2 pixels bright and 2 dark, so the texture has a direction.
    block = (rows < 48) & (cols >= 80)
    img[block] = np.where((cols // 2) % 2 == 0, 0.7, 0.3)[block]

    # Centre top: a bright disk with a dark ring in it; max pooling closes the ring
    # after one step while the blur only greys it.
    r = np.hypot(rows - 24, cols - 64)
    img[r <= 13] = 0.9
    img[(r >= 6) & (r <= 7.5)] = 0.1

    # Bottom left: a dark square with a one-pixel bright outline (sharp edges both ways).
    img[64:104, 8:48] = 0.05
    img[64, 8:48] = img[103, 8:48] = img[64:104, 8] = img[64:104, 47] = 1.0

    # Bottom right: a bright triangle with straight, slanted edges.
    triangle = (rows >= 64) & (rows < 112) & (np.abs(cols - 96) <= (rows - 64) // 2)
    img[triangle] = 0.85

    # Small bright spots on the dark background: single pixels and 2x2 dots.
    for y, x in [(54, 10), (56, 30), (58, 60), (52, 100), (116, 20), (120, 60), (118, 110)]:
        img[y, x] = 1.0
    for y, x in [(60, 76), (110, 66), (122, 36)]:
        img[y : y + 2, x : x + 2] = 1.0
    # ... and a few dots inside the dark square, where growing bright regions stand out most.
    for y, x in [(75, 20), (90, 35), (96, 16)]:
        img[y, x] = 0.95

    img += rng.normal(0.0, 0.03, img.shape)
    return (np.clip(img, 0.0, 1.0) * 255).round().astype(np.uint8)


def make_dog_and_cat(width: int = 320, height: int = 256, seed: int = 1) -> Image.Image:
    """Return the Ex. 9 stand-in picture: a dog-like and a cat-like figure, RGB."""
    rng = np.random.default_rng(seed)
    # Background: a sky gradient above a grass band.
    t = np.linspace(0.0, 1.0, height)[:, None, None]
    sky = (1 - t) * np.array([150, 190, 235]) + t * np.array([205, 225, 245])
    bg = np.broadcast_to(sky, (height, width, 3)).copy()
    horizon = int(height * 0.62)
    bg[horizon:] = np.array([90, 150, 70])
    bg += rng.normal(0.0, 6.0, bg.shape)
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)

    # The dog, on the left: a broad brown body, a big head with dark floppy ears and a
    # light muzzle.
    brown, dark, light = (150, 95, 50), (80, 50, 25), (215, 185, 150)
    draw.ellipse((25, 120, 165, 205), fill=brown)  # body
    for x in (40, 70, 115, 140):
        draw.rectangle((x, 190, x + 14, 232), fill=brown)  # legs
    draw.ellipse((95, 60, 185, 145), fill=brown)  # head
    draw.ellipse((85, 65, 112, 120), fill=dark)  # left ear
    draw.ellipse((168, 65, 195, 120), fill=dark)  # right ear
    draw.ellipse((118, 105, 162, 140), fill=light)  # muzzle
    draw.ellipse((132, 108, 148, 120), fill=(30, 20, 15))  # nose
    for x in (118, 150):
        draw.ellipse((x, 84, x + 10, 94), fill=(20, 15, 10))  # eyes

    # The cat, on the right: a smaller grey body, a round head with pointed ears and
    # green eyes, and a tail.
    grey, pale = (120, 120, 128), (185, 185, 190)
    draw.line((285, 200, 305, 150, 295, 120), fill=grey, width=9)  # tail
    draw.ellipse((215, 140, 300, 215), fill=grey)  # body
    draw.ellipse((225, 190, 290, 222), fill=pale)  # paws
    draw.ellipse((220, 95, 280, 150), fill=grey)  # head
    draw.polygon([(222, 112), (228, 78), (246, 100)], fill=grey)  # left ear
    draw.polygon([(278, 112), (272, 78), (254, 100)], fill=grey)  # right ear
    for x in (234, 256):
        draw.ellipse((x, 110, x + 10, 120), fill=(90, 170, 60))  # eyes
    draw.polygon([(246, 127), (254, 127), (250, 132)], fill=(210, 130, 140))  # nose
    return img


if __name__ == "__main__":
    Image.fromarray(make_sample_image(), "L").save(HERE / "sample_image.png")
    make_dog_and_cat().save(HERE / "dog_and_cat.png")
    print("wrote", HERE / "sample_image.png", "and", HERE / "dog_and_cat.png")
