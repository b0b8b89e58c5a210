"""Real image files, good and hostile, generated in the test (nothing checked in)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
SECRET = "Secret Camera 3000"


def image(width: int = 64, height: int = 48, mode: str = "RGB") -> Image.Image:
    """A picture with some structure (a gradient), so encoders have work to do."""
    img = Image.linear_gradient("L").resize((width, height))
    if mode == "RGB":
        return Image.merge("RGB", (img, img.transpose(Image.Transpose.FLIP_LEFT_RIGHT), img))
    if mode == "RGBA":
        return Image.merge("RGBA", (img, img, img, img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    return img.convert(mode)


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = SECRET
    exif[ORIENTATION] = orientation
    # Lisbon, as degrees/minutes/seconds rationals: what a phone records.
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (38.0, 42.0, 36.0), 3: "W", 4: (9.0, 8.0, 24.0)})
    return exif


def encode(img: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48, *, orientation: int | None = None) -> bytes:
    """A JPEG; with `orientation`, EXIF carrying GPS, a camera make and that orientation."""
    img = image(width, height)
    if orientation is None:
        return encode(img, "JPEG", quality=90)
    return encode(img, "JPEG", quality=90, exif=exif_with_gps(orientation).tobytes())


def png_with_metadata(width: int = 40, height: int = 30) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "shot at home, 12 Secret Street")
    info.add_itxt("Author", SECRET)
    return encode(image(width, height, "RGBA"), "PNG", pnginfo=info, exif=exif_with_gps().tobytes())


def webp_with_metadata(width: int = 40, height: int = 30) -> bytes:
    return encode(image(width, height), "WEBP", exif=exif_with_gps().tobytes(), quality=80)


def truncated_jpeg() -> bytes:
    whole = jpeg(400, 300)
    return whole[: len(whole) // 2]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (400 MP) in about 50 KB: zero rows compress
    to almost nothing, and decoding would take gigabytes."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row * 1000) for _ in range(side // 1000)]
    idat = b"".join(chunks) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)


def gif() -> bytes:
    return encode(image(20, 20, "L"), "GIF")


def oversized_jpeg() -> bytes:
    """A real JPEG over 10 MB: a valid image followed by padding in a COM-like tail."""
    return jpeg(64, 48) + b"\x00" * (10 * 1024 * 1024)
