"""Pictures for demo listings, drawn with Pillow: a sky-to-ground gradient in the
category's colours with a sun and a few blocks, different for each (category, n)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 480, 320
# (sky, ground, accent) per category; anything else gets the last.
PALETTES = {
    "stay": ((135, 190, 235), (200, 160, 120), (180, 60, 50)),
    "vehicle": ((170, 200, 230), (90, 90, 95), (30, 110, 200)),
    "equipment": ((220, 220, 210), (150, 140, 120), (240, 170, 20)),
    "space": ((235, 230, 220), (170, 150, 130), (60, 140, 120)),
    "court": ((120, 180, 240), (70, 150, 80), (240, 240, 240)),
    "other": ((200, 210, 230), (120, 160, 110), (200, 90, 160)),
}


def draw_demo_photo(category: str, n: int) -> bytes:
    """A JPEG of WIDTH x HEIGHT for the `n`th picture of `category`."""
    sky, ground, accent = PALETTES.get(category, PALETTES["other"])
    img = Image.new("RGB", (WIDTH, HEIGHT))
    pen = ImageDraw.Draw(img)
    horizon = HEIGHT * (3 + n % 2) // 5
    for y in range(HEIGHT):
        base = sky if y < horizon else ground
        shade = 1 - 0.3 * y / HEIGHT  # darker towards the bottom
        pen.line([(0, y), (WIDTH, y)], fill=tuple(int(c * shade) for c in base))
    sun_x = 60 + (n * 170) % (WIDTH - 120)
    pen.ellipse([sun_x, 30, sun_x + 50, 80], fill=(250, 220, 120))
    for k in range(3 + n % 3):
        x = 40 + k * (WIDTH - 80) // (3 + n % 3)
        h = 40 + (k * 37 + n * 23) % 70
        pen.rectangle([x, horizon - h, x + 60, horizon + 10], fill=accent, outline=(40, 40, 40))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()
