"""Media's pure rules: sniffing by leading bytes, the byte and pixel limits checked before
decoding, the size bounds, and the aggregate's single event."""

from __future__ import annotations

import uuid

import pytest

from domain.media import (
    MAX_BYTES,
    Media,
    MediaTooLarge,
    UnsupportedMedia,
    bounded,
    check_pixels,
    check_upload,
    media_urls,
    sniff_content_type,
)
from tests.builders import NOW

SIZES = {"original": {"sha256": "a" * 64, "width": 10, "height": 5, "bytes": 99}}


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"GIF89a", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"\x00\x00\x00\x0cjP  ", None),  # JPEG 2000
        (b"", None),
    ],
)
def test_the_type_comes_from_the_leading_bytes_only(head: bytes, expected: str | None) -> None:
    assert sniff_content_type(head) == expected


def test_limits_are_checked_before_anything_is_decoded() -> None:
    with pytest.raises(UnsupportedMedia):
        check_upload(b"")
    with pytest.raises(MediaTooLarge):
        check_upload(b"\xff\xd8\xff" + b"\x00" * MAX_BYTES)
    with pytest.raises(MediaTooLarge):
        check_pixels(8000, 5001)
    check_pixels(8000, 5000)  # exactly 40 megapixels is allowed
    assert check_upload(b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES - 3)) == "image/jpeg"


def test_bounded_scales_the_longest_side_down_only() -> None:
    assert bounded(3000, 2000, 1600) == (1600, 1067)
    assert bounded(2000, 3000, 400) == (267, 400)
    assert bounded(300, 200, 400) == (300, 200)
    assert bounded(100_000, 1, 400) == (400, 1)


def test_an_upload_is_one_event_that_replays_to_the_same_media() -> None:
    owner = uuid.uuid4()
    media = Media(owner_id=owner, content_type="image/png", sizes=SIZES, at=NOW)

    events = media.collect_events()
    replayed = None
    for e in events:
        replayed = e.mutate(replayed)

    assert [type(e).__name__ for e in events] == ["Uploaded"]
    assert isinstance(replayed, Media)
    assert (replayed.owner_id, replayed.sizes, replayed.uploaded_at) == (owner, SIZES, NOW)
    assert replayed.is_owned_by(owner) and not replayed.is_owned_by(uuid.uuid4())
    assert media_urls(media.id)["thumb"] == f"/api/v1/media/{media.id}/thumb"
