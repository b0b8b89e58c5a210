"""The notifications view: one row per (event, recipient, kind), and one email outbox row
per notification, both with ids derived from the event, so a rebuild writes the same rows.
The outbox row holds who to mail and how, not the data: that is the notification's (its
`notification_id`), written and stored once rather than twice.

Rules (projections/notification_rules.py) say who hears of what. Besides its rows the view
keeps the few facts rules need that later events do not carry: each booking's parties,
listing and dates, each listing's owner and title, each user's address and locale, each
dispute's parties. Preferences are NOT applied here (they change; a rebuild must not): every
notification gets its outbox row, and the dispatcher skips mail a user turned off.
Read marks, preferences and delivery state live in tables outside the view
(infrastructure/notification_store.py), which a rebuild leaves alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Uuid,
)

from domain.notifications import notification_id, outbox_id
from domain.user import User as _User
from projections import notification_erasure
from projections.base import Projection, Replay, upsert
from projections.event_kinds import Kinds
from projections.folding import load_rows
from projections.json_text import JSONText, encode
from projections.listings import parse_instant
from projections.notification_rules import (
    RULES,
    Booking,
    BookingReviews,
    CalendarFeed,
    Conversation,
    Dispute,
    Facts,
    Listing,
    Payment,
    Reminder,
)

User: Any = _User

FACT_EVENTS = (
    Listing.Created,
    Listing.Updated,
    User.Registered,
    User.ProfileEdited,
    User.ProfileUpdated,
)
EVENTS = tuple(RULES) + FACT_EVENTS
TOPICS = tuple(dict.fromkeys(get_topic(cls) for cls in EVENTS))
is_ours = Kinds(*EVENTS)
DEFAULT_LOCALE = "en"


class NotificationsView(Projection):
    name = "notifications"
    topics = TOPICS
    # 2: the bookings facts by renter (an erasure's repair finds theirs); 3: the outbox row
    # without the notification's data (the mailer reads it from the notification)
    version = 3

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        notifications = Table(
            f"notifications{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("recipient_id", Uuid, nullable=False),
            Column("kind", String(40), nullable=False),
            Column("position", BigInteger, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("data", JSONText, nullable=False),
        )
        Index(None, notifications.c.recipient_id, notifications.c.position, notifications.c.id)
        outbox = Table(
            f"notification_outbox{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("notification_id", Uuid, nullable=False),
            Column("recipient_id", Uuid, nullable=False),
            Column("kind", String(40), nullable=False),
            Column("to_address", String(320)),
            Column("name", String(200)),
            Column("locale", String(20), nullable=False),
            Column("position", BigInteger, nullable=False, index=True),
            Column("created_at", DateTime(timezone=True), nullable=False),
        )
        facts: dict[str, Table] = {
            name: Table(f"notification_{name}{suffix}", metadata, *columns)
            for name, columns in _fact_columns().items()
        }
        Index(None, facts["bookings"].c.renter_id)
        return {"notifications": notifications, "outbox": outbox, **facts}

    def repair_erasure(
        self, conn: Connection, tables: dict[str, Table], subject: UUID, replay: Replay
    ) -> bool:
        notification_erasure.repair(conn, tables, subject, replay, self.process_page)
        return True

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        ours: list[tuple[Any, int]] = [(e, p) for e, p in events if is_ours(e)]
        if not ours:
            return
        facts = _load_facts(conn, tables, [e for e, _ in ours])
        # Every possible recipient is loaded up front, so each outbox row takes the address
        # and locale its user had at that event, whatever the page size.
        users = load_rows(conn, tables["users"], _user_ids([e for e, _ in ours], facts))
        changed: dict[str, dict[Any, dict[str, Any]]] = {name: {} for name in FACT_TABLES}
        rows: list[dict[str, Any]] = []
        outbox: list[dict[str, Any]] = []
        # id(data) -> (data, its JSON): one encoding however many rows share a value; the
        # value is kept so that its id cannot be reused by another within the page.
        encoded: dict[int, tuple[object, str]] = {}
        texts: dict[UUID, str] = {}  # each id's text once a page: the ids' names repeat
        for event, position in ours:
            _learn(event, facts, users, changed)
            rule = RULES.get(type(event))
            drafts = rule(event, facts) if rule else None
            if not drafts:
                continue
            source = f"{_text(texts, event.originator_id)}:{event.originator_version}"
            created_at = _when(event)
            for draft in drafts:
                known = encoded.get(id(draft.data))
                if known is None:
                    known = encoded[id(draft.data)] = (draft.data, encode(draft.data))
                recipient = _text(texts, draft.recipient)
                row = {
                    "id": notification_id(source, recipient, draft.kind),
                    "recipient_id": draft.recipient,
                    "kind": draft.kind,
                    "position": position,
                    "created_at": created_at,
                    "data": known[1],
                }
                rows.append(row)
                outbox.append(_outbox_row(row, users.get(draft.recipient)))
        for name, table_rows in changed.items():
            upsert(conn, tables[name], table_rows.values())
        # Inserted once, never updated: a replayed page writes nothing new.
        _insert_new(conn, tables["notifications"], rows)
        _insert_new(conn, tables["outbox"], outbox)


FACT_TABLES = ("bookings", "listings", "users", "disputes", "reminders")


def _fact_columns() -> dict[str, list[Column[Any]]]:
    return {
        "bookings": [
            Column("id", Uuid, primary_key=True),
            Column("listing_id", Uuid, nullable=False),
            Column("renter_id", Uuid, nullable=False),
            Column("owner_id", Uuid, nullable=False),
            Column("listing_title", String(200), nullable=False),
            Column("start", String(40), nullable=False),
            Column("end", String(40), nullable=False),
            Column("start_at", String(40), nullable=False),
            Column("timezone", String(64), nullable=False),
            Column("total", BigInteger, nullable=False),
            Column("currency", String(3), nullable=False),
        ],
        "listings": [
            Column("id", Uuid, primary_key=True),
            Column("owner_id", Uuid, nullable=False),
            Column("title", String(200), nullable=False),
            Column("timezone", String(64), nullable=False),
        ],
        "users": [
            Column("id", Uuid, primary_key=True),
            Column("email", String(320), nullable=False),
            Column("name", String(200), nullable=False),
            Column("locale", String(20), nullable=False),
        ],
        "disputes": [
            Column("id", Uuid, primary_key=True),
            Column("booking_id", Uuid, nullable=False),
            Column("renter_id", Uuid, nullable=False),
            Column("owner_id", Uuid, nullable=False),
        ],
        # The reminders issued so far: the reminder deadlines skip them.
        "reminders": [
            Column("id", Uuid, primary_key=True),
            Column("booking_id", Uuid, nullable=False),
            Column("kind", String(40), nullable=False),
        ],
    }


def _load_facts(conn: Connection, tables: dict[str, Table], events: list[Any]) -> Facts:
    booking_ids: set[UUID] = set()
    listing_ids: set[UUID] = set()
    dispute_ids: set[UUID] = set()
    for e in events:
        if isinstance(e, Booking.Event):
            booking_ids.add(e.originator_id)
            if isinstance(e, Booking.Placed):
                listing_ids.add(e.listing_id)
        elif isinstance(e, Payment.Event | Reminder.Event) and getattr(e, "booking_id", None):
            booking_ids.add(e.booking_id)
        elif isinstance(e, BookingReviews.Published | Conversation.MessagePosted):
            listing_ids.add(e.listing_id)
        elif isinstance(e, Dispute.Event):
            dispute_ids.add(e.originator_id)
        elif isinstance(e, Listing.Event):
            listing_ids.add(e.originator_id)
        elif isinstance(e, CalendarFeed.Synced):
            for conflict in getattr(e, "new_conflicts", None) or []:
                booking_ids.update(UUID(str(b)) for b in conflict.get("booking_ids") or ())
    disputes = load_rows(conn, tables["disputes"], dispute_ids)
    booking_ids |= {d["booking_id"] for d in disputes.values()}
    booking_ids |= {e.booking_id for e in events if isinstance(e, Dispute.Opened)}
    return Facts(
        bookings=load_rows(conn, tables["bookings"], booking_ids),
        listings=load_rows(conn, tables["listings"], listing_ids),
        disputes=disputes,
    )


def _user_ids(events: list[Any], facts: Facts) -> set[UUID]:
    """Everyone a page's events may notify (a superset), and users it registers or edits."""
    ids: set[UUID] = set()
    for row in [*facts.bookings.values(), *facts.disputes.values()]:
        ids.update((row["renter_id"], row["owner_id"]))
    ids.update(row["owner_id"] for row in facts.listings.values())
    for e in events:
        fields = getattr(e, "__dict__", {})
        on_class = _on_class(type(e))
        for attr in RECIPIENT_ATTRS:
            value = getattr(e, attr, None) if attr in on_class else fields.get(attr)
            if isinstance(value, UUID):
                ids.add(value)
        ratings = getattr(e, "ratings", None) if "ratings" in on_class else fields.get("ratings")
        for r in ratings or []:
            ids.add(r["reviewee_id"])
    return ids


RECIPIENT_ATTRS = ("originator_id", "owner_id", "renter_id", "by", "recipient_id")
_class_attributes: dict[type, frozenset[str]] = {}


def _on_class(cls: type) -> frozenset[str]:
    """Those of RECIPIENT_ATTRS and "ratings" the class itself defines (a default, a
    property): read with getattr. The others are read from the instance's dict, sparing the
    AttributeError raised and caught inside getattr for every absent one."""
    known = _class_attributes.get(cls)
    if known is None:
        names = (*RECIPIENT_ATTRS, "ratings")
        dynamic = hasattr(cls, "__getattr__") or hasattr(cls, "__slots__")
        known = frozenset(a for a in names if dynamic or hasattr(cls, a))
        _class_attributes[cls] = known
    return known


def _learn(
    event: Any,
    facts: Facts,
    users: dict[Any, dict[str, Any]],
    changed: dict[str, dict[Any, dict[str, Any]]],
) -> None:
    """Records the facts an event brings, before its rule runs."""
    if not _learns_from(type(event)):
        return
    key = event.originator_id
    if isinstance(event, Booking.Placed):
        listing = facts.listings.get(event.listing_id) or {}
        row = {
            "id": key,
            "listing_id": event.listing_id,
            "renter_id": event.renter_id,
            "owner_id": event.owner_id,
            "listing_title": listing.get("title", ""),
            "start": str(event.start),
            "end": str(event.end),
            "start_at": _instant(event.start_at),
            "timezone": event.timezone,
            "total": int(event.quote["total"]),
            "currency": str(event.quote["currency"]),
        }
        facts.bookings[key] = changed["bookings"][key] = row
    elif isinstance(event, Listing.Created):
        spec = event.spec
        row = {
            "id": key,
            "owner_id": event.owner_id,
            "title": str(spec.get("title", "")),
            "timezone": str(spec.get("location", {}).get("timezone", "UTC")),
        }
        facts.listings[key] = changed["listings"][key] = row
    elif isinstance(event, Listing.Updated) and key in facts.listings:
        title = event.changes.get("title")
        if isinstance(title, str):
            row = {**facts.listings[key], "title": title}
            facts.listings[key] = changed["listings"][key] = row
    elif isinstance(event, Dispute.Opened):
        row = {
            "id": key,
            "booking_id": event.booking_id,
            "renter_id": event.renter_id,
            "owner_id": event.owner_id,
        }
        facts.disputes[key] = changed["disputes"][key] = row
    elif isinstance(event, User.Registered):
        row = {"id": key, "email": event.email, "name": event.name, "locale": DEFAULT_LOCALE}
        users[key] = changed["users"][key] = row
    elif isinstance(event, User.ProfileEdited) and key in users:
        locale = event.languages[0] if event.languages else users[key]["locale"]
        users[key] = changed["users"][key] = {**users[key], "name": event.name, "locale": locale}
    elif isinstance(event, User.ProfileUpdated) and key in users:  # before profiles had more
        users[key] = changed["users"][key] = {**users[key], "name": event.name}
    elif isinstance(event, Reminder.Issued):
        changed["reminders"][key] = {"id": key, "booking_id": event.booking_id, "kind": event.kind}


LEARNED_FROM = (*FACT_EVENTS, Booking.Placed, Dispute.Opened, Reminder.Issued)
_learning: dict[type, bool] = {}


def _learns_from(cls: type) -> bool:
    """Whether `_learn` acts on this class, remembered per class: most events teach nothing,
    and walking its isinstance chain for each of them was a tenth of the view's time."""
    known = _learning.get(cls)
    if known is None:
        known = _learning[cls] = issubclass(cls, LEARNED_FROM)
    return known


def _instant(value: Any) -> str:
    at = parse_instant(value)
    return at.isoformat() if at is not None else ""


def _when(event: Any) -> datetime:
    at = parse_instant(getattr(event, "at", None))
    return at if at is not None else event.timestamp


def _text(texts: dict[UUID, str], value: UUID) -> str:
    text = texts.get(value)
    if text is None:
        text = texts[value] = str(value)
    return text


def _outbox_row(row: dict[str, Any], user: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": outbox_id(row["id"]),
        "notification_id": row["id"],
        "recipient_id": row["recipient_id"],
        "kind": row["kind"],
        "to_address": user["email"] if user else None,
        "name": user["name"] if user else None,
        "locale": user["locale"] if user else DEFAULT_LOCALE,
        "position": row["position"],
        "created_at": row["created_at"],
    }


def _insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    unique = list({r["id"]: r for r in rows}.values())
    upsert(conn, table, unique, keep_existing=True)
