"""The search documents view's tables: one row per listing as the search index should hold
it, plus the calendar state that says which keys are fully blocked (see
`search_documents.py` for the whole picture). A page of events is folded by
`search_documents_page.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Double,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from projections.availability import CALENDAR_EVENTS
from projections.base import Projection
from projections.listings import EVENTS as LISTING_EVENTS
from projections.listings import JSONType
from projections.reviews import RATING_EVENTS as REVIEW_EVENTS
from projections.search_documents_page import SearchDocumentsPage


class SearchDocumentsView(Projection):
    name = "search_documents"
    topics = tuple(get_topic(cls) for cls in (*LISTING_EVENTS, *CALENDAR_EVENTS, *REVIEW_EVENTS))
    version = 3  # 2: cover_thumbnail_url; 3: ratings from reviews

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        def table(name: str, *columns: Column[Any]) -> Table:
            return Table(f"{name}{suffix}", metadata, *columns)

        return {
            "documents": table(
                "search_documents",
                Column("id", Uuid, primary_key=True),
                Column("version", Integer, nullable=False),
                Column("position", BigInteger, nullable=False, index=True),
                Column("status", String(20), nullable=False),
                Column("deleted", Boolean, nullable=False),
                Column("title", String(200), nullable=False),
                Column("description", Text, nullable=False),
                Column("category", String(20), nullable=False),
                Column("category_data", JSONType, nullable=False),
                Column("city", String(120), nullable=False),
                Column("country", String(2), nullable=False),
                Column("lat", Double, nullable=False),
                Column("lng", Double, nullable=False),
                Column("price_amount", BigInteger, nullable=False),
                Column("currency", String(3), nullable=False),
                Column("capacity", Integer, nullable=False),
                Column("units", Integer, nullable=False),
                Column("amenities", JSONType, nullable=False),
                Column("booking_mode", String(10), nullable=False),
                Column("booking_unit", String(10), nullable=False),
                Column("rating", Double, nullable=False),
                Column("review_count", Integer, nullable=False),
                Column("rating_total", BigInteger, nullable=False),  # of review_count ratings
                Column("created_at", BigInteger, nullable=False),  # epoch seconds
                Column("cover_thumbnail_url", String(200)),
            ),
            "calendars": table(
                "search_calendars",
                Column("calendar_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False, unique=True),
                Column("version", Integer, nullable=False),
                Column("units", Integer, nullable=False),
                Column("step", Integer, nullable=False),
                Column("buffer_slots", Integer, nullable=False),
            ),
            "allocations": table(  # holds and reservations: the keys they occupy, widened
                "search_allocations",
                Column("booking_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False),
                Column("keys", JSONType, nullable=False),
                Column("quantity", Integer, nullable=False),
            ),
            "blocks": table(
                "search_blocks",
                Column("block_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False),
                Column("keys", JSONType, nullable=False),
            ),
            "keys": table(
                "search_keys",
                Column("listing_id", Uuid, primary_key=True),
                Column("key", BigInteger, primary_key=True),
                Column("used", Integer, nullable=False),
                Column("blocked", Integer, nullable=False),
            ),
        }

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        SearchDocumentsPage(conn, tables, events).apply()
