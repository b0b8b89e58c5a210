"""Media uploads: validate and re-encode an image, store its sizes, record who uploaded it.

Ports: `ImageProcessor` (decoding and re-encoding; Pillow in infrastructure) and
`MediaStore` (content-addressed bytes; a directory in infrastructure). Nothing is stored
before the image has been accepted, and the bytes are stored before the event, so an
event never names bytes that are not there (a crash between the two leaves an unreferenced
file, harmless in a content-addressed store).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from application.context import Actor
from application.store import EventStore
from domain.media import Media

# -- ports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    content_type: str
    sizes: dict[str, Rendition]  # "original", "display", "thumb"


class ImageProcessor(ABC):
    @abstractmethod
    def process(self, data: bytes) -> ProcessedImage:
        """Every size of an acceptable image, re-encoded without metadata; raises
        `UnsupportedMedia` or `MediaTooLarge` (domain.media) otherwise."""


class MediaStore(ABC):
    """Immutable bytes addressed by their sha-256 (lowercase hex)."""

    @abstractmethod
    def put(self, data: bytes) -> str:
        """Stores the bytes (once: the same bytes twice are one copy); returns the digest."""

    @abstractmethod
    def read(self, digest: str) -> bytes | None:
        """The bytes of `digest`, or None when they are not stored."""


# -- use case ------------------------------------------------------------------------------


class MediaLibrary:
    def __init__(self, store: EventStore, files: MediaStore, images: ImageProcessor) -> None:
        self.store = store
        self.files = files
        self.images = images

    def upload(self, uploader: Actor, data: bytes, at: datetime) -> tuple[Media, int]:
        """Accepts an image for `uploader`; returns the new media and its position."""
        image = self.images.process(data)
        sizes = {
            name: {
                "sha256": self.files.put(r.data),
                "width": r.width,
                "height": r.height,
                "bytes": len(r.data),
            }
            for name, r in image.sizes.items()
        }
        media = Media(owner_id=uploader.id, content_type=image.content_type, sizes=sizes, at=at)
        return media, self.store.record(media)
