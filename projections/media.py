"""The media view: one row per upload, what `GET /media/{id}/{size}` serves from.

The sizes' digests, dimensions and byte counts come from the `Media.Uploaded` event; the
bytes stay in the media store. A view rather than a read of the aggregate because serving
images is the hottest read there is and is cached by id; its lag is what
`X-Rentbook-Min-Position` is for.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, String, Table, Uuid, select

from domain.media import Media as _Media
from projections.folding import RowPerAggregate
from projections.listings import JSONType, utc

# @event classes are made at runtime, where mypy cannot see them.
Media: Any = _Media


class MediaView(RowPerAggregate):
    row_table = "media"
    row_events = (Media.Uploaded,)
    name = "media"
    topics = (get_topic(Media.Uploaded),)
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        media = Table(
            f"media{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("owner_id", Uuid, nullable=False, index=True),
            Column("content_type", String(40), nullable=False),
            Column("sizes", JSONType, nullable=False),
            Column("uploaded_at", DateTime(timezone=True), nullable=False),
        )
        return {"media": media}

    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        if row is not None:  # one event per stream: a replay
            return None
        return {
            "id": event.originator_id,
            "version": event.originator_version,
            "owner_id": event.owner_id,
            "content_type": event.content_type,
            "sizes": event.sizes,
            "uploaded_at": utc(event.at),
        }


def get_media(conn: Connection, tables: Any, media_id: UUID) -> dict[str, Any] | None:
    table = tables["media"]
    row = conn.execute(select(table).where(table.c.id == media_id)).mappings().first()
    return dict(row) if row else None
