"""The `ImageProcessor` on Pillow: sniff, bound, decode, orient, strip, resize, re-encode.

Every stored byte is re-encoded from decoded pixels into a fresh image that carries no
metadata at all (EXIF, GPS, XMP, ICC, text chunks), so nothing the uploader's file held
besides its pixels survives, including data appended to it (a JPEG with a ZIP or HTML
after it is accepted and comes out as a clean JPEG). The type is sniffed from the bytes;
the pixel count is checked from the header before a single pixel is decoded, so a small
file announcing a huge image (a decompression bomb) is refused cheaply. Animated images
keep their first frame.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from application.media import ImageProcessor, ProcessedImage, Rendition
from domain.errors import DomainError
from domain.media import (
    BOUNDS,
    MAX_PIXELS,
    UnsupportedMedia,
    bounded,
    check_pixels,
    check_upload,
    too_many_pixels,
)

# Pillow's own guard, as a second line behind `check_pixels` (it raises past twice this).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is refused, never half-decoded

PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 85, "optimize": True, "progressive": True},
    "PNG": {"optimize": False, "compress_level": 6},
    "WEBP": {"quality": 85, "method": 4},
}


class PillowImages(ImageProcessor):
    def process(self, data: bytes) -> ProcessedImage:
        content_type = check_upload(data)
        pil_format = PIL_FORMAT[content_type]
        pixels = _decode(data, pil_format)
        sizes = {"original": _encode(pixels, pil_format)}
        for name, longest in BOUNDS.items():
            size = bounded(pixels.width, pixels.height, longest)
            if size != pixels.size:
                smaller = pixels.resize(size, Image.Resampling.LANCZOS)
            else:
                smaller = pixels
            sizes[name] = _encode(smaller, pil_format)
        return ProcessedImage(content_type, sizes)


def _refused(detail: str) -> UnsupportedMedia:
    return UnsupportedMedia("unreadable_image", detail)


def _decode(data: bytes, pil_format: str) -> Image.Image:
    """The upright pixels in a fresh image (RGB, or RGBA when there is transparency)."""
    try:
        with Image.open(io.BytesIO(data), formats=[pil_format]) as img:
            check_pixels(*img.size)  # header only: nothing decoded yet
            img.load()
            upright = ImageOps.exif_transpose(img)
            alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            mode = "RGBA" if alpha and pil_format != "JPEG" else "RGB"
            converted = upright.convert(mode)
            # A new image from raw pixels: no info dict, no EXIF, no ICC profile, no chunks.
            return Image.frombytes(mode, converted.size, converted.tobytes())
    except DomainError:
        raise
    except Image.DecompressionBombError:  # Pillow's own check, past twice the limit
        raise too_many_pixels() from None
    except UnidentifiedImageError:
        raise _refused("the image cannot be read") from None
    except Exception as exc:  # truncated data, corrupt chunks or EXIF: plugins raise any kind
        raise _refused(f"the image is broken or truncated ({type(exc).__name__})") from None


def _encode(image: Image.Image, pil_format: str) -> Rendition:
    out = io.BytesIO()
    image.save(out, format=pil_format, **SAVE_OPTIONS[pil_format])
    return Rendition(out.getvalue(), image.width, image.height)
