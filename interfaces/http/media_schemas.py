"""Media schemas: an upload's answer and a photo as listings show it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.media import Media, media_url, media_urls


class MediaSizes(BaseModel):
    original: str = Field(description="URL of the re-encoded original")
    display: str = Field(description="URL of the display size (longest side at most 1600 px)")
    thumb: str = Field(description="URL of the thumbnail (longest side at most 400 px)")


class MediaPublic(BaseModel):
    """An accepted image: re-encoded, without metadata, in three sizes."""

    id: UUID
    url: str = Field(description="URL of the original size")
    width: int = Field(description="Of the original, after applying its EXIF orientation")
    height: int
    content_type: str = Field(examples=["image/jpeg"])
    sizes: MediaSizes

    @classmethod
    def of(cls, media: Media) -> MediaPublic:
        original = media.sizes["original"]
        return cls(
            id=media.id,
            url=media_url(media.id, "original"),
            width=original["width"],
            height=original["height"],
            content_type=media.content_type,
            sizes=MediaSizes(**media_urls(media.id)),
        )


class PhotoPublic(BaseModel):
    id: UUID
    urls: MediaSizes

    @classmethod
    def of(cls, media_id: Any) -> PhotoPublic:
        return cls(id=media_id, urls=MediaSizes(**media_urls(media_id)))
