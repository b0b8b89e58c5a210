"""Media: an uploaded image, as its uploader sent it and as it is served.

One aggregate per upload, holding one event: who uploaded it and, per size, the sha-256 of
the stored bytes and the dimensions. The bytes themselves live in a content-addressed store
(two uploads of the same picture share a file); the aggregate is what makes an upload owned
and citable (listing photos, avatars, condition reports check the owner through it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Longest side of each derived size; the original keeps its own dimensions.
BOUNDS = {"display": 1600, "thumb": 400}
SIZES = ("original", "display", "thumb")
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
# Where the API serves a size; fixed so projections can put URLs in views and documents.
MEDIA_PATH = "/api/v1/media"


class UnsupportedMedia(DomainError):
    """Not a JPEG, PNG or WebP we can decode (HTTP 415)."""


class MediaTooLarge(DomainError):
    """Over the byte or pixel limit (HTTP 413)."""


def sniff_content_type(data: bytes) -> str | None:
    """The image type the leading bytes announce (never the file name or a header)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_upload(data: bytes) -> str:
    """The sniffed content type of acceptable bytes; raises before anything is decoded."""
    if not data:
        raise UnsupportedMedia("empty_upload", "the upload is empty")
    if len(data) > MAX_BYTES:
        raise MediaTooLarge("file_too_large", f"an image is at most {MAX_BYTES} bytes")
    kind = sniff_content_type(data)
    if kind is None:
        raise UnsupportedMedia("unsupported_media_type", "send a JPEG, PNG or WebP image")
    return kind


def too_many_pixels() -> MediaTooLarge:
    return MediaTooLarge(
        "too_many_pixels", f"an image is at most {MAX_PIXELS // 1_000_000} megapixels"
    )


def check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise too_many_pixels()


def bounded(width: int, height: int, longest: int) -> tuple[int, int]:
    """The dimensions scaled (down only) so the longest side fits `longest`, at least 1 px."""
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def media_url(media_id: UUID | str, size: str) -> str:
    return f"{MEDIA_PATH}/{media_id}/{size}"


def media_urls(media_id: UUID | str) -> dict[str, str]:
    return {size: media_url(media_id, size) for size in SIZES}


class Media(Aggregate):
    @event("Uploaded")
    def __init__(
        self, owner_id: UUID, content_type: str, sizes: dict[str, dict[str, Any]], at: datetime
    ) -> None:
        # sizes: {"original" | "display" | "thumb": {sha256, width, height, bytes}}
        self.owner_id = owner_id
        self.content_type = content_type
        self.sizes = sizes
        self.uploaded_at = at

    def is_owned_by(self, user_id: UUID) -> bool:
        return self.owner_id == user_id
