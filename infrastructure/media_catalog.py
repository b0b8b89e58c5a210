"""The `MediaCatalog` port, answered from the event store.

Commands that cite media (listing photos, avatars, condition reports) check them against
the write model, not the media view: an image uploaded a moment ago is citable at once,
whatever the projections' lag. Each lookup loads one single-event stream.
"""

from __future__ import annotations

from uuid import UUID

from application.ports import MediaCatalog
from application.store import EventStore
from domain.media import Media


class EventStoreMediaCatalog(MediaCatalog):
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def missing(self, owner_id: UUID, media_ids: list[UUID]) -> list[UUID]:
        return [m for m in dict.fromkeys(media_ids) if not self._owned(owner_id, m)]

    def _owned(self, owner_id: UUID, media_id: UUID) -> bool:
        if not self.store.exists(media_id):
            return False
        media = self.store.load(media_id, "media")
        return isinstance(media, Media) and media.is_owned_by(owner_id)
