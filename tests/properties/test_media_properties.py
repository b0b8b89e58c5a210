"""Any accepted image comes back in its own format, upright, within the size bounds, with
its aspect ratio, decodable, and without a byte of metadata; the same input always gives
the same bytes (so content addressing shares them)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from domain.media import BOUNDS, MediaTooLarge, UnsupportedMedia, bounded
from infrastructure.images import PillowImages
from tests import image_files as f

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
images = PillowImages()


@st.composite
def uploads(draw: st.DrawFn) -> tuple[bytes, str, tuple[int, int]]:
    """(bytes, PIL format, upright size) of a real image with EXIF, GPS and an orientation."""
    width = draw(st.integers(1, 2400))
    height = draw(st.integers(1, 2400 if width <= 600 else 600))
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(["RGB", "L", "RGBA", "P"] if fmt != "JPEG" else ["RGB", "L"]))
    orientation = draw(st.integers(1, 8))
    img = f.image(width, height, mode)
    data = f.encode(img, fmt, exif=f.exif_with_gps(orientation).tobytes())
    # Orientations 5-8 swap width and height.
    upright = (height, width) if orientation >= 5 else (width, height)
    return data, fmt, upright


@settings(max_examples=25, deadline=None)
@given(upload=uploads())
def test_an_accepted_image_is_bounded_upright_and_free_of_metadata(
    upload: tuple[bytes, str, tuple[int, int]],
) -> None:
    data, fmt, upright = upload

    result = images.process(data)

    assert result.content_type == FORMATS[fmt]
    original = result.sizes["original"]
    assert (original.width, original.height) == upright
    for name, longest in BOUNDS.items():
        rendition = result.sizes[name]
        assert max(rendition.width, rendition.height) <= longest
        assert (rendition.width, rendition.height) == bounded(*upright, longest)
    for rendition in result.sizes.values():
        with Image.open(io.BytesIO(rendition.data)) as img:
            assert img.format == fmt
            assert img.size == (rendition.width, rendition.height)
            img.load()  # decodes completely
            assert dict(img.getexif()) == {}
            assert "exif" not in img.info and "icc_profile" not in img.info
        assert f.SECRET.encode() not in rendition.data
    assert images.process(data) == result


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 100_000),
    height=st.integers(1, 100_000),
    longest=st.sampled_from(sorted(BOUNDS.values())),
)
def test_bounded_never_enlarges_and_fits_the_longest_side(
    width: int, height: int, longest: int
) -> None:
    w, h = bounded(width, height, longest)

    assert 1 <= w <= width and 1 <= h <= height
    assert max(w, h) <= max(longest, 1)
    if max(width, height) <= longest:
        assert (w, h) == (width, height)
    else:
        assert max(w, h) == longest


SEEDS = {fmt: f.encode(f.image(48, 32), fmt, exif=f.exif_with_gps(6).tobytes()) for fmt in FORMATS}


@settings(max_examples=60, deadline=None)
@given(
    fmt=st.sampled_from(sorted(FORMATS)),
    cut=st.integers(0, 2000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=8),
    tail=st.binary(max_size=64),
)
def test_damaged_images_are_accepted_clean_or_refused_never_an_error(
    fmt: str, cut: int, flips: list[tuple[int, int]], tail: bytes
) -> None:
    """Truncated, bit-flipped or padded files: a 413/415 domain refusal or a clean image,
    never another exception (which would be a 500)."""
    data = bytearray(SEEDS[fmt][: max(0, len(SEEDS[fmt]) - cut)])
    for at, value in flips:
        if data:
            data[at % len(data)] = value
    try:
        result = images.process(bytes(data) + tail)
    except (UnsupportedMedia, MediaTooLarge):
        return
    for rendition in result.sizes.values():
        with Image.open(io.BytesIO(rendition.data)) as img:
            assert dict(img.getexif()) == {}
            assert max(img.size) <= max(
                result.sizes["original"].width, result.sizes["original"].height
            )
