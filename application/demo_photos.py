"""Demo listing photos: a few pictures per owner and category, uploaded through the real
media use case (so each is that owner's own media, as the listing commands require), then
shared by the owner's listings of that category: a handful of uploads however many
listings are seeded."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from uuid import UUID

from application.context import Actor, command_context
from application.media import MediaLibrary

PER_CATEGORY = 2
# (category, n) -> the bytes of an image file; drawn by an adapter (Pillow) outside.
Draw = Callable[[str, int], bytes]
OwnerPhotos = dict[UUID, dict[str, list[str]]]


def upload_demo_photos(
    media: MediaLibrary,
    draw: Draw,
    owners: Sequence[Actor],
    categories: Iterable[str],
    at: datetime,
) -> OwnerPhotos:
    """Uploads PER_CATEGORY pictures per category for each owner; their ids by owner and
    category."""
    files = {(c, n): draw(c, n) for c in dict.fromkeys(categories) for n in range(PER_CATEGORY)}
    photos: OwnerPhotos = {}
    for owner in owners:
        mine: dict[str, list[str]] = {}
        with command_context(owner):
            for (category, _), data in files.items():
                media_item, _ = media.upload(owner, data, at)
                mine.setdefault(category, []).append(str(media_item.id))
        photos[owner.id] = mine
    return photos


def listing_photos(photos: OwnerPhotos, owner: Actor, category: str, variant: int) -> list[str]:
    """The owner's pictures of `category`, rotated by `variant` so covers differ."""
    ids = photos.get(owner.id, {}).get(category, [])
    if not ids:
        return []
    k = variant % len(ids)
    return ids[k:] + ids[:k]
