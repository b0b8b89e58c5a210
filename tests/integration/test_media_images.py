"""The Pillow image processor and the file store, with real files: good images come out
re-encoded, oriented and without metadata; hostile ones are refused before decoding."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

from application.media import ProcessedImage
from domain.errors import DomainError
from domain.media import MediaTooLarge, UnsupportedMedia
from infrastructure.images import PillowImages
from infrastructure.media_files import FileMediaStore
from tests import image_files as f

images = PillowImages()


def refused(data: bytes) -> DomainError:
    with pytest.raises(DomainError) as caught:
        images.process(data)
    return caught.value


def no_metadata(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        assert dict(img.getexif()) == {}
        assert not set(img.info) & {"exif", "xmp", "icc_profile", "Comment", "Author", "comment"}
        assert img.getexif().get_ifd(f.GPS_IFD) == {}
    assert b"Exif" not in data
    assert f.SECRET.encode() not in data
    assert b"Secret Street" not in data


# -- accepted -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "pil_format"),
    [
        (f.jpeg(orientation=1), "image/jpeg", "JPEG"),
        (f.png_with_metadata(), "image/png", "PNG"),
        (f.webp_with_metadata(), "image/webp", "WEBP"),
    ],
    ids=["jpeg", "png", "webp"],
)
def test_every_size_is_reencoded_in_the_sniffed_format_without_exif_or_gps(
    data: bytes, content_type: str, pil_format: str
) -> None:
    with Image.open(io.BytesIO(data)) as before:  # the input really carries the metadata
        assert before.getexif().get(f.MAKE) == f.SECRET
        assert before.getexif().get_ifd(f.GPS_IFD)

    result = images.process(data)

    assert result.content_type == content_type
    assert set(result.sizes) == {"original", "display", "thumb"}
    for rendition in result.sizes.values():
        no_metadata(rendition.data)
        with Image.open(io.BytesIO(rendition.data)) as img:
            assert img.format == pil_format
            assert img.size == (rendition.width, rendition.height)
            assert not img.getexif().get_ifd(f.GPS_IFD)


def test_exif_orientation_is_applied_then_dropped() -> None:
    # Orientation 6: the camera was turned; viewers rotate 90 degrees clockwise.
    result = images.process(f.jpeg(64, 48, orientation=6))

    original = result.sizes["original"]
    assert (original.width, original.height) == (48, 64)
    with Image.open(io.BytesIO(original.data)) as img:
        assert img.size == (48, 64)
        assert img.getexif().get(f.ORIENTATION) is None  # nothing rotates it a second time


def test_display_and_thumb_fit_their_bounds_keeping_the_aspect_ratio() -> None:
    result = images.process(f.jpeg(3000, 2000))

    dims = {name: (r.width, r.height) for name, r in result.sizes.items()}
    assert dims == {"original": (3000, 2000), "display": (1600, 1067), "thumb": (400, 267)}


def test_a_small_image_is_never_enlarged() -> None:
    result = images.process(f.jpeg(120, 90))

    assert {(r.width, r.height) for r in result.sizes.values()} == {(120, 90)}


def test_transparency_survives_in_png() -> None:
    result = images.process(f.png_with_metadata())

    with Image.open(io.BytesIO(result.sizes["original"].data)) as img:
        assert img.mode == "RGBA"


@pytest.mark.parametrize("payload", [f.zip_bytes(), f.HTML], ids=["zip", "html"])
def test_a_polyglot_jpeg_is_accepted_and_comes_out_as_a_clean_jpeg(payload: bytes) -> None:
    # Decision: re-encoding makes it safe. Only decoded pixels are stored, so whatever
    # followed the image (a ZIP, a script) is gone; refusing would add nothing.
    polyglot = f.jpeg(80, 60) + payload

    result = images.process(polyglot)

    for rendition in result.sizes.values():
        assert payload not in rendition.data
        assert b"PK\x03\x04" not in rendition.data and b"<script" not in rendition.data
        assert rendition.data.endswith(b"\xff\xd9")  # ends where a JPEG ends


# -- refused ------------------------------------------------------------------------------


def test_a_truncated_jpeg_is_refused_as_unreadable() -> None:
    error = refused(f.truncated_jpeg())

    assert isinstance(error, UnsupportedMedia) and error.code == "unreadable_image"


def test_a_png_decompression_bomb_is_refused_without_decoding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = f.png_bomb()
    assert len(bomb) < 200_000  # a small file announcing 400 megapixels
    decoded: list[Any] = []
    real_load = ImageFile.ImageFile.load

    def spy(self: Any) -> Any:
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)

    error = refused(bomb)

    assert isinstance(error, MediaTooLarge) and error.code == "too_many_pixels"
    assert decoded == []


def test_an_image_just_over_40_megapixels_is_refused_before_decoding() -> None:
    error = refused(f.png_bomb(side=6_400))  # 40.96 MP: under Pillow's own 2x guard

    assert isinstance(error, MediaTooLarge) and error.code == "too_many_pixels"


@pytest.mark.parametrize(
    "data",
    [f.SVG, f.HTML, f.zip_bytes(), f.gif(), b"GIF89a" + b"\x00" * 20, b"RIFF\x00\x00\x00\x00WAVE"],
    ids=["svg-named-png", "html", "zip", "gif", "gif-header", "riff-wave"],
)
def test_anything_but_jpeg_png_or_webp_is_refused_by_its_bytes(data: bytes) -> None:
    error = refused(data)

    assert isinstance(error, UnsupportedMedia) and error.code == "unsupported_media_type"


def test_an_empty_file_is_refused() -> None:
    error = refused(b"")

    assert isinstance(error, UnsupportedMedia) and error.code == "empty_upload"


def test_a_file_over_10_mb_is_refused_before_anything_else() -> None:
    error = refused(f.oversized_jpeg())

    assert isinstance(error, MediaTooLarge) and error.code == "file_too_large"


def test_bytes_announcing_png_that_are_not_one_are_unreadable() -> None:
    error = refused(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)

    assert isinstance(error, UnsupportedMedia) and error.code == "unreadable_image"


# -- the content-addressed store ------------------------------------------------------------


def test_the_same_bytes_are_stored_once_under_their_sha256(tmp_path: Path) -> None:
    store = FileMediaStore(tmp_path / "media")
    data = images.process(f.jpeg()).sizes["original"].data

    first, second = store.put(data), store.put(data)

    assert first == second == hashlib.sha256(data).hexdigest()
    files = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert files == [tmp_path / "media" / first[:2] / first[2:4] / first]
    assert store.read(first) == data


def test_the_same_image_processed_twice_gives_identical_bytes() -> None:
    data = f.jpeg(orientation=3)

    one: ProcessedImage = images.process(data)
    two: ProcessedImage = images.process(data)

    assert one == two  # which is what lets content addressing share the file


def test_reading_an_unknown_or_malformed_digest_gives_none(tmp_path: Path) -> None:
    store = FileMediaStore(tmp_path)

    assert store.read("0" * 64) is None
    assert store.read("../../etc/passwd") is None
