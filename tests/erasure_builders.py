"""Where erased plaintext could hide: every view table's text, the stored event bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, MetaData, select

from application.context import Actor
from application.store import EventStore
from domain.booking import Booking
from domain.money import Money
from domain.payment import Payment
from infrastructure.bootstrap import Container
from tests.builders import NOW, listing_spec
from tests.http.conftest import PASSWORD


def view_text(engine: Engine) -> str:
    """Every row of every table of the view database, as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    parts: list[str] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def stored_text(store: EventStore) -> str:
    """Every stored event's bytes (state as stored: sealed fields stay sealed)."""
    notes = store.recorder.select_notifications(0, 1_000_000, inclusive_of_start=False)
    return "\n".join(n.state.decode("utf-8", "replace") for n in notes)


@dataclass(frozen=True)
class Person:
    """A user of a generated history and the distinctive strings they wrote."""

    id: UUID
    email: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """What one user does: (edits bio, inquires, books with a message and pays, reviews,
    disputes and, as the other party, responds)."""

    bio: bool
    inquire: bool
    book: bool
    review: bool
    dispute: bool


class History:
    """Builds a random multi-user history through the use cases of one container."""

    def __init__(self, container: Container, tag: str) -> None:
        self.c = container
        self.tag = tag  # unique per example, so histories never share a string
        self.admin = Actor(
            container.identity.create_admin(f"a{tag}@example.com", PASSWORD, "Admin", at=NOW)[0],
            "admin",
        )
        self.owner = self._user(99, [])
        owner = Actor(self.owner.id, "user")
        listings = self.c.listings
        self.listing_id, _ = listings.create(owner, listing_spec(), NOW)
        listings.submit(owner, self.listing_id, NOW)
        listings.approve(self.admin, self.listing_id, NOW)
        self.slot = 0

    def word(self, n: int, what: str, text: str) -> str:
        # "~" is in no base64, hex or uuid: a match is the plaintext itself
        return f"~{self.tag}u{n}{what}~{text}"

    def person(self, n: int, plan: Plan, text: str) -> Person:
        words: list[str] = []
        person = self._user(n, words, text)
        actor = Actor(person.id, "user")
        if plan.bio:
            words.append(self.word(n, "bio", text))
            self.c.profiles.edit(person.id, bio=words[-1], at=NOW)
        if plan.inquire:
            words.append(self.word(n, "ask", text))
            self.c.conversations.inquire(actor, self.listing_id, words[-1], None, NOW)
        if plan.book or plan.review or plan.dispute:
            message, note = self.word(n, "msg", text), self.word(n, "note", text)
            returned = plan.review or plan.dispute
            words += [message, note] if returned else [message]
            booking_id, ended_at = self._stay(actor, message, note if returned else None)
            if plan.review:
                words.append(self.word(n, "rev", text))
                self.c.reviews.submit(
                    actor,
                    booking_id,
                    rating=4,
                    comment=words[-1],
                    category_ratings=None,
                    at=ended_at,
                )
            if plan.dispute:
                words.append(self.word(n, "dsp", text))
                dispute_id, _ = self.c.disputes.open(
                    actor,
                    booking_id,
                    kind="damage",
                    description=words[-1],
                    claimed_amount=None,
                    evidence=[],
                    at=ended_at,
                )
                owner = Actor(self.owner.id, "user")
                reply = self.word(99, f"re{n}", text)  # the owner's words, not erased with n
                self.c.disputes.respond(owner, dispute_id, reply, [], ended_at)
        return Person(person.id, person.email, (*person.secrets, *words))

    def _user(self, n: int, words: list[str], text: str = "x") -> Person:
        email = f"u{n}.{self.tag}@example.com"
        name = self.word(n, "name", text)
        phone = f"+{n} {self.tag.translate(DIGITS)} {len(text):04d}"
        user_id, _ = self.c.identity.register(email, PASSWORD, name, phone, at=NOW)
        self.c.identity.mark_email_verified(user_id, at=NOW)
        return Person(user_id, email, (name, phone, email))

    def _stay(self, renter: Actor, message: str, note: str | None) -> tuple[UUID, datetime]:
        """A paid booking; with a `note`, the renter checks in with it (a condition report)
        and the stay has ended."""
        self.slot += 1
        start = (NOW + timedelta(days=10 + 3 * self.slot)).date()
        booking_id, _ = self.c.bookings.place(
            renter,
            self.listing_id,
            start=start.isoformat(),
            end=(start + timedelta(days=2)).isoformat(),
            quantity=1,
            guests=1,
            message=message,
            at=NOW,
        )
        booking: Booking = self.c.bookings.get(booking_id)
        payment = Payment.open(
            booking_id, booking.owner_id, renter.id, booking.quote, None, renter.id, NOW
        )
        total = Money(int(booking.quote["total"]), str(booking.quote["currency"]))
        payment.capture_charge(
            f"evt-{booking_id}", "pi", total, Money(total.amount * 3 // 100, total.currency), NOW
        )
        system = Actor.system().id
        booking.confirm(system, NOW)
        if note is None:
            self.c.store.record(booking, payment)
            return booking_id, NOW
        booking.check_in(renter.id, "renter", report(note), 24, booking.start_at)  # starts it
        ended_at = booking.deadline("end_at")
        assert ended_at is not None
        booking.finish(system, ended_at)
        self.c.store.record(booking, payment)
        return booking_id, ended_at


DIGITS = str.maketrans("abcdef", "123456")


def report(note: str, name: str = "Front door") -> dict[str, Any]:
    """A condition report of one item with this note (its JSON form, as validated)."""
    return {"items": [{"name": name, "status": "ok", "note": note, "photo_ids": []}]}
