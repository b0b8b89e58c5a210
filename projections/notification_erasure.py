"""The notifications view's part of an erasure's repair (`projections/erasure_repair.py`).

What the view copied of a user's sealed fields: their address and name (the `users` facts,
and each outbox row addressed to them), and the message of each booking they requested (in
the owner's `booking_requested` notification, which its outbox row reads the data of).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table, delete, select, update

from domain.booking import Booking as _Booking
from domain.personal_data import PERSONAL_EVENTS
from domain.user import User as _User
from projections.base import Replay
from projections.folding import CHUNK, chunks
from projections.json_text import encode

Booking: Any = _Booking
User: Any = _User

_REGISTERED = PERSONAL_EVENTS[get_topic(User.Registered)].fields
_ERASED_MESSAGE = PERSONAL_EVENTS[get_topic(Booking.Placed)].fields["message"]
REQUESTED = "booking_requested"  # the one kind whose data holds personal text

Apply = Callable[[Connection, dict[str, Table], list[tuple[object, int]]], None]


def repair(
    conn: Connection, tables: dict[str, Table], subject: UUID, replay: Replay, apply: Apply
) -> None:
    users, outbox = tables["users"], tables["outbox"]
    # The facts row made again from the user's stream (every name and address they had
    # reads as erased now; the locale stays). Its notifications exist: none is added.
    conn.execute(delete(users).where(users.c.id == subject))
    apply(conn, tables, replay([subject]))
    # An outbox row took the recipient's facts of its time: erased too, whichever they were.
    conn.execute(
        update(outbox)
        .where(outbox.c.recipient_id == subject, outbox.c.to_address.is_not(None))
        .values(to_address=_REGISTERED["email"], name=_REGISTERED["name"])
    )
    _erase_request_messages(conn, tables, subject)


def _erase_request_messages(conn: Connection, tables: dict[str, Table], subject: UUID) -> None:
    bookings, table = tables["bookings"], tables["notifications"]
    query = select(bookings.c.id, bookings.c.owner_id).where(bookings.c.renter_id == subject)
    placed = {str(row.id): row.owner_id for row in conn.execute(query)}
    for owners in chunks(set(placed.values()), CHUNK):
        query = select(table.c.id, table.c.data).where(
            table.c.recipient_id.in_(owners), table.c.kind == REQUESTED
        )
        for row in conn.execute(query).all():
            data = row.data
            if data.get("booking_id") not in placed or "message" not in data:
                continue
            text = encode({**data, "message": _ERASED_MESSAGE})  # the rebuild's key order
            conn.execute(update(table).where(table.c.id == row.id).values(data=text))
