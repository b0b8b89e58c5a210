"""The analytics view: what dashboards, analytics and exports count, per UTC day.

- `analytics_money`: one row per ledger journal entry, its postings reduced to the figures a
  dashboard shows (gross, platform fees, owner net, payout, processor fees), with the booking's
  listing and owner. Every figure is a pure function of the entry's postings, so sums over
  these rows reconcile with ledger account totals (see `money_of`).
- `analytics_listings`: each listing's owner, title, category, city and country.
- `analytics_bookings`: each booking's listing, placement day and cancellation day.
- `analytics_facts`: users registered and disputes opened (with the disputed listing).

Listing and booking dimensions live here rather than being joined from other views at query
time, so one projection position covers every figure a dashboard sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
)

from domain.booking import Booking as _Booking
from domain.dispute import Dispute as _Dispute
from domain.ledger import (
    PLATFORM_FEES,
    PLATFORM_FEES_REFUNDED,
    PROCESSOR_FEES,
)
from domain.ledger import JournalEntry as _JournalEntry
from domain.listing import Listing as _Listing
from domain.user import User as _User
from projections.base import Projection, upsert
from projections.event_kinds import Kinds
from projections.folding import load_rows
from projections.ledger import owner_of
from projections.listings import parse_instant

# @event classes are made at runtime, where mypy cannot see them.
Booking: Any = _Booking
Dispute: Any = _Dispute
JournalEntry: Any = _JournalEntry
Listing: Any = _Listing
User: Any = _User

EVENTS = (
    Listing.Created,
    Listing.Updated,
    Booking.Placed,
    Booking.Cancelled,
    JournalEntry.Recorded,
    User.Registered,
    Dispute.Opened,
)
TOPICS = tuple(get_topic(c) for c in EVENTS)
is_ours = Kinds(*EVENTS)
PAYOUT_TYPES = ("Payment.TransferSent", "Payment.TransferReversed")
USER, DISPUTE = "user", "dispute"


def money_of(source_type: str, postings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One journal entry as dashboard figures (minor units, signed):

    - fees: platform fee revenue net of fees refunded (credits minus debits on
      `revenue:platform_fees` and `revenue:platform_fees_refunded`);
    - owner movement: credits minus debits on the owner's payable and receivable accounts;
      a transfer's movement is a payout, any other entry's is the owner's net earning;
    - gross = net + fees: what renters paid and kept paid (a capture is owner share plus
      platform share; a refund takes back both parts);
    - processor_fees: what the processor kept (the platform bears it).
    """
    fees = net = processor_fees = 0
    owner_id: UUID | None = None
    for p in postings:
        amount = int(p["amount"]) * (1 if p["side"] == "credit" else -1)
        account = str(p["account"])
        if account in (PLATFORM_FEES, PLATFORM_FEES_REFUNDED):
            fees += amount
        elif account == PROCESSOR_FEES:
            processor_fees -= amount
        elif (owner := owner_of(account)) is not None:
            owner_id = owner
            net += amount
    payout = 0
    if source_type in PAYOUT_TYPES:
        payout, net = -net, 0
    return {
        "gross": net + fees,
        "fees": fees,
        "net": net,
        "payout": payout,
        "processor_fees": processor_fees,
        "owner_from_postings": owner_id,
    }


def _day(at: Any) -> Any:
    instant = parse_instant(at)
    assert instant is not None
    return instant.date()


class AnalyticsView(Projection):
    name = "analytics"
    topics = TOPICS
    reads_personal = frozenset[str]()  # counts and money: no message or name
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        money = Table(
            f"analytics_money{suffix}",
            metadata,
            Column("entry_id", Uuid, primary_key=True),
            Column("position", BigInteger, nullable=False, unique=True),
            Column("day", Date, nullable=False),
            Column("at", DateTime(timezone=True), nullable=False),
            Column("booking_id", Uuid, nullable=False, index=True),
            Column("listing_id", Uuid),
            Column("owner_id", Uuid),
            Column("source_type", String(100), nullable=False),
            Column("currency", String(3), nullable=False),
            Column("gross", BigInteger, nullable=False),
            Column("fees", BigInteger, nullable=False),
            Column("net", BigInteger, nullable=False),
            Column("payout", BigInteger, nullable=False),
            Column("processor_fees", BigInteger, nullable=False),
        )
        Index(None, money.c.owner_id, money.c.day)
        Index(None, money.c.day)
        listings = Table(
            f"analytics_listings{suffix}",
            metadata,
            Column("listing_id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("owner_id", Uuid, nullable=False, index=True),
            Column("title", String(200), nullable=False),
            Column("category", String(20), nullable=False),
            Column("city", String(200), nullable=False),
            Column("country", String(2), nullable=False),
            Column("unit", String(10), nullable=False),
            Column("created_day", Date, nullable=False, index=True),
        )
        bookings = Table(
            f"analytics_bookings{suffix}",
            metadata,
            Column("booking_id", Uuid, primary_key=True),
            Column("listing_id", Uuid, nullable=False),
            Column("owner_id", Uuid, nullable=False),
            Column("placed_day", Date, nullable=False, index=True),
            Column("cancelled_day", Date, index=True),
        )
        facts = Table(
            f"analytics_facts{suffix}",
            metadata,
            Column("kind", String(10), primary_key=True),
            Column("subject_id", Uuid, primary_key=True),
            Column("day", Date, nullable=False),
            Column("listing_id", Uuid),
        )
        Index(None, facts.c.kind, facts.c.day)
        return {"money": money, "listings": listings, "bookings": bookings, "facts": facts}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        ours: list[tuple[Any, int]] = [(e, p) for e, p in events if is_ours(e)]
        if not ours:
            return
        listing_ids = {e.originator_id for e, _ in ours if isinstance(e, Listing.Updated)}
        listings = load_rows(conn, tables["listings"], listing_ids, key="listing_id")
        booking_ids = {e.originator_id for e, _ in ours if isinstance(e, Booking.Cancelled)}
        booking_ids |= {
            e.booking_id for e, _ in ours if isinstance(e, JournalEntry.Recorded | Dispute.Opened)
        }
        bookings = load_rows(conn, tables["bookings"], booking_ids, key="booking_id")
        changed_listings: dict[UUID, dict[str, Any]] = {}
        changed_bookings: dict[UUID, dict[str, Any]] = {}
        money: list[dict[str, Any]] = []
        facts: list[dict[str, Any]] = []
        for event, position in ours:
            if isinstance(event, Listing.Created | Listing.Updated):
                row = _listing(listings.get(event.originator_id), event)
                if row is not None:
                    listings[row["listing_id"]] = changed_listings[row["listing_id"]] = row
            elif isinstance(event, Booking.Placed | Booking.Cancelled):
                row = _booking(bookings.get(event.originator_id), event)
                if row is not None:
                    bookings[row["booking_id"]] = changed_bookings[row["booking_id"]] = row
            elif isinstance(event, JournalEntry.Recorded):
                money.append(_money(event, position, bookings.get(event.booking_id)))
            elif isinstance(event, User.Registered):
                facts.append(_fact(USER, event.originator_id, event.at, None))
            else:
                booking = bookings.get(event.booking_id)
                listing_id = booking["listing_id"] if booking else None
                facts.append(_fact(DISPUTE, event.originator_id, event.at, listing_id))
        upsert(conn, tables["listings"], changed_listings.values(), newer="version")
        upsert(conn, tables["bookings"], changed_bookings.values())
        # Entries and facts never change once in: a replayed one is skipped by its key.
        upsert(conn, tables["money"], money, key=["entry_id"])
        upsert(conn, tables["facts"], facts, key=["kind", "subject_id"])


def _listing(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    if isinstance(event, Listing.Created):
        if row is not None:
            return None
        spec = event.spec
        row = {"owner_id": event.owner_id, "created_day": _day(event.at)}
    else:
        if row is None or row["version"] >= event.originator_version:
            return None
        spec = event.changes  # only what changed; the rest stays as it was
    row = {**row, "listing_id": event.originator_id, "version": event.originator_version}
    if "title" in spec:
        row["title"] = str(spec["title"])[:200]
    if "category" in spec:
        row["category"] = str(spec["category"])
    if "booking_unit" in spec:
        row["unit"] = str(spec["booking_unit"])
    if "location" in spec:
        location = spec["location"] or {}
        row["city"] = str(location.get("city", ""))[:200]
        row["country"] = str(location.get("country", ""))[:2]
    return row


def _booking(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    if isinstance(event, Booking.Placed):
        if row is not None:
            return None
        return {
            "booking_id": event.originator_id,
            "listing_id": event.listing_id,
            "owner_id": event.owner_id,
            "placed_day": _day(event.at),
            "cancelled_day": None,
        }
    if row is None or row["cancelled_day"] is not None:
        return None
    return {**row, "cancelled_day": _day(event.at)}


def _money(event: Any, position: int, booking: dict[str, Any] | None) -> dict[str, Any]:
    figures = money_of(event.source_type, event.postings)
    owner = figures.pop("owner_from_postings")
    at = parse_instant(event.at)
    assert isinstance(at, datetime)
    return {
        "entry_id": event.originator_id,
        "position": position,
        "day": at.date(),
        "at": at,
        "booking_id": event.booking_id,
        "listing_id": booking["listing_id"] if booking else None,
        "owner_id": booking["owner_id"] if booking else owner,
        "source_type": event.source_type,
        "currency": event.currency,
        **figures,
    }


def _fact(kind: str, subject_id: UUID, at: Any, listing_id: UUID | None) -> dict[str, Any]:
    return {"kind": kind, "subject_id": subject_id, "day": _day(at), "listing_id": listing_id}
