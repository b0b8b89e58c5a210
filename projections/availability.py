"""The availability view: per listing and per night/day/slot key, what is held, reserved and
blocked, mirroring `ListingCalendar` (allocations widened by the turnover buffer they were
placed with), plus what a calendar page needs to price and close keys.

Listing events keep the pricing inputs here; a page of calendar events is applied by
`availability_page.py`; the calendar endpoint reads through `availability_calendar.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
)

from domain.calendar import ListingCalendar
from domain.listing import Listing as _Listing
from projections.availability_page import CalendarPage
from projections.base import Projection, upsert
from projections.event_kinds import Kinds
from projections.folding import load_rows
from projections.listings import JSONType

# @event classes are made at runtime, where mypy cannot see them.
Listing: Any = _Listing

C: Any = ListingCalendar
CALENDAR_EVENTS = (
    C.Opened,
    C.HoldPlaced,
    C.HoldExtended,
    C.ReservationConfirmed,
    C.Released,
    C.Blocked,
    C.Unblocked,
    C.UnitsChanged,
    C.RulesChanged,
)
LISTING_EVENTS = (
    Listing.Created,
    Listing.Updated,
    Listing.PriceOverrideSet,
    Listing.PriceOverrideCleared,
)

is_listing, is_calendar = Kinds(*LISTING_EVENTS), Kinds(*CALENDAR_EVENTS)


class AvailabilityView(Projection):
    name = "availability"
    topics = tuple(get_topic(cls) for cls in (*CALENDAR_EVENTS, *LISTING_EVENTS))
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        def table(name: str, *columns: Column[Any]) -> Table:
            return Table(f"availability_{name}{suffix}", metadata, *columns)

        return {
            "listings": table(  # pricing inputs, from Listing events
                "listings",
                Column("listing_id", Uuid, primary_key=True),
                Column("version", Integer, nullable=False),
                Column("unit", String(10), nullable=False),
                Column("timezone", String(64), nullable=False),
                Column("pricing", JSONType, nullable=False),
                Column("price_overrides", JSONType, nullable=False),
            ),
            "calendars": table(  # inventory rules, from ListingCalendar events
                "calendars",
                Column("calendar_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False, unique=True),
                Column("version", Integer, nullable=False),
                Column("unit", String(10), nullable=False),
                Column("units", Integer, nullable=False),
                Column("step", Integer, nullable=False),
                Column("buffer_slots", Integer, nullable=False),
                Column("opening_hours", JSONType, nullable=False),
            ),
            "allocations": table(
                "allocations",
                Column("booking_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False, index=True),
                Column("kind", String(20), nullable=False),
                Column("keys", JSONType, nullable=False),
                Column("quantity", Integer, nullable=False),
                Column("buffer", Integer, nullable=False),
                Column("expires_at", DateTime(timezone=True)),
            ),
            "blocks": table(
                "blocks",
                Column("block_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False, index=True),
                Column("keys", JSONType, nullable=False),
            ),
            "keys": table(
                "keys",
                Column("listing_id", Uuid, primary_key=True),
                Column("key", BigInteger, primary_key=True),
                Column("held", Integer, nullable=False),
                Column("reserved", Integer, nullable=False),
                Column("blocked", Integer, nullable=False),
            ),
        }

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        listing_events = [e for e, _ in events if is_listing(e)]
        calendar_events = [e for e, _ in events if is_calendar(e)]
        if listing_events:
            self._listings(conn, tables["listings"], listing_events)
        if calendar_events:
            CalendarPage(conn, tables, calendar_events).apply()

    def _listings(self, conn: Connection, table: Table, events: list[Any]) -> None:
        rows = load_rows(conn, table, {e.originator_id for e in events}, key="listing_id")
        changed: dict[UUID, dict[str, Any]] = {}
        for e in events:
            row, version = rows.get(e.originator_id), e.originator_version
            if isinstance(e, Listing.Created):
                if row is not None:
                    continue
                row = {"listing_id": e.originator_id, "price_overrides": {}, **_pricing(e.spec)}
            elif row is None or row["version"] >= version:
                continue
            elif isinstance(e, Listing.Updated):
                row = {**row, **_pricing({**pricing_spec(row), **e.changes})}
            elif isinstance(e, Listing.PriceOverrideSet):
                row = {**row, "price_overrides": {**row["price_overrides"], e.day: e.amount}}
            else:
                overrides = {d: a for d, a in row["price_overrides"].items() if d != e.day}
                row = {**row, "price_overrides": overrides}
            row["version"] = version
            rows[e.originator_id] = changed[e.originator_id] = row
        upsert(conn, table, changed.values(), newer="version")


def _pricing(spec: dict[str, Any]) -> dict[str, Any]:
    tz = spec["location"]["timezone"]
    return {"unit": spec["booking_unit"], "timezone": tz, "pricing": spec["pricing"]}


def pricing_spec(row: dict[str, Any]) -> dict[str, Any]:
    """The part of a listing spec the pricing rules read."""
    location = {"timezone": row["timezone"]}
    return {"pricing": row["pricing"], "booking_unit": row["unit"], "location": location}
