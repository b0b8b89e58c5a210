"""Dispute use cases: a party opens a claim on a finished booking, an admin decides it.

The booking is DISPUTED while a dispute is live (so neither its inspection deadline nor the
deposit release fires) and COMPLETED again once it is resolved or withdrawn; both sides of
each change are saved in one `record`. The money a resolution decides moves only through the
payment commands afterwards, so the ledger follows from payment events alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from application.bookings import Bookings
from application.context import Actor
from application.ports import MediaCatalog
from application.retry import retry_on_conflict
from application.stays import check_media
from application.store import EventStore
from domain import stay
from domain.booking import Booking
from domain.dispute import Dispute
from domain.errors import NotFoundError, RuleViolation
from domain.money import Money
from domain.payment import Payment, payment_id_for
from domain.user import ADMIN, User


class PaymentCommands(Protocol):
    """The part of the Payments use cases a resolution moves money through; each returns
    the position of the payment events it recorded."""

    def refund(
        self, booking_id: UUID, amount: Money, reason: str, *, by: Actor, at: datetime
    ) -> int: ...

    def capture_deposit(
        self, booking_id: UUID, amount: Money, reason: str, *, by: Actor, at: datetime
    ) -> int: ...

    def release_deposit(self, booking_id: UUID, *, by: Actor, at: datetime) -> int: ...


class Disputes:
    def __init__(
        self,
        store: EventStore,
        bookings: Bookings,
        payments: PaymentCommands,
        media: MediaCatalog | None = None,
    ) -> None:
        self.store = store
        self.bookings = bookings
        self.payments = payments
        self.media = media

    # -- queries --------------------------------------------------------------------------

    def get(self, actor: Actor, dispute_id: UUID) -> Dispute:
        """The dispute, for its renter, its owner and admins (404 for anyone else)."""
        dispute = self.store.load(dispute_id, "dispute")
        if not isinstance(dispute, Dispute) or (
            actor.role != ADMIN and dispute.party_role(actor.id) is None
        ):
            raise NotFoundError("dispute_not_found", f"dispute {dispute_id} not found")
        return dispute

    def limits(self, booking: Booking) -> tuple[Money, Money]:
        """(what can still be refunded to the renter, the deposit still held); zero without
        a payment."""
        currency = str(booking.quote["currency"])
        try:
            payment = self.store.load(payment_id_for(booking.id), "payment")
        except NotFoundError:
            payment = None
        if not isinstance(payment, Payment):
            return Money.zero(currency), Money.zero(currency)
        return Money(payment.refundable, currency), Money(payment.deposit_capturable, currency)

    # -- parties --------------------------------------------------------------------------

    def open(
        self,
        actor: Actor,
        booking_id: UUID,
        *,
        kind: str,
        description: str,
        claimed_amount: Money | None,
        evidence: list[str],
        at: datetime,
        cited_items: list[str] | None = None,
        photo_ids: list[UUID] | None = None,
    ) -> tuple[UUID, int]:
        """The renter or the owner disputes the booking within 48 h after its end (or after
        the check-out that ended it); the booking goes DISPUTED in the same save. A claim may
        cite items of the booking's condition reports by name, and photos the opener uploaded."""

        def attempt() -> tuple[UUID, int]:
            booking = self.bookings.get(booking_id, viewer=actor)
            known = stay.report_item_names(booking.reports())
            cited = stay.validate_cited_items(list(cited_items or []), known)
            dispute = Dispute.open(
                booking_id=booking_id,
                renter_id=booking.renter_id,
                owner_id=booking.owner_id,
                booking_ends_at=booking.inspection_opened_at,
                kind=kind,
                description=description,
                claimed_amount=claimed_amount,
                evidence=evidence,
                by=actor.id,
                at=at,
                cited_items=cited,
                photo_ids=photo_ids,
            )
            check_media(self.media, actor.id, list(photo_ids or []))
            booking.open_dispute(actor.id, dispute.opener_role, f"{kind} dispute opened", at)
            return dispute.id, self.store.record(booking, dispute)

        return retry_on_conflict(attempt)

    def respond(
        self, actor: Actor, dispute_id: UUID, message: str, evidence: list[str], at: datetime
    ) -> int:
        """The other party answers the claim, or a party answers an information request."""

        def attempt() -> int:
            dispute = self.get(actor, dispute_id)
            dispute.respond(message, evidence, actor.id, at)
            return self.store.record(dispute)

        return retry_on_conflict(attempt)

    def withdraw(self, actor: Actor, dispute_id: UUID, reason: str, at: datetime) -> int:
        """The opener drops the claim: the booking completes and any deposit still held is
        released, as if the inspection window had closed without a dispute."""

        def attempt() -> tuple[Booking, int]:
            dispute = self.get(actor, dispute_id)
            booking = self.bookings.get(dispute.booking_id)
            dispute.withdraw(reason, actor.id, at)
            role = "renter" if actor.id == booking.renter_id else "owner"
            booking.resolve_dispute(actor.id, f"dispute withdrawn: {reason}", at, role=role)
            return booking, self.store.record(dispute, booking)

        booking, position = retry_on_conflict(attempt)
        if self.limits(booking)[1].amount:
            position = max(position, self.payments.release_deposit(booking.id, by=actor, at=at))
        return position

    # -- admins ---------------------------------------------------------------------------

    def assign(self, admin: Actor, dispute_id: UUID, admin_id: UUID | None, at: datetime) -> int:
        """Assigns the dispute to an admin (the caller when `admin_id` is None)."""
        target = admin_id or admin.id

        def attempt() -> int:
            dispute = self.get(admin, dispute_id)
            dispute.check_admin(admin.role)
            if target != admin.id:
                self._check_is_admin(target)
            dispute.assign(target, admin.id, admin.role, at)
            return self.store.record(dispute)

        return retry_on_conflict(attempt)

    def request_information(
        self,
        admin: Actor,
        dispute_id: UUID,
        *,
        to: str,
        question: str,
        due_at: datetime,
        at: datetime,
    ) -> int:
        """Asks the renter or the owner a question, answered by their next response."""

        def attempt() -> int:
            dispute = self.get(admin, dispute_id)
            dispute.request_information(to, question, due_at, admin.id, admin.role, at)
            return self.store.record(dispute)

        return retry_on_conflict(attempt)

    def resolve(
        self,
        admin: Actor,
        dispute_id: UUID,
        *,
        outcome: str,
        refund_to_renter: Money | None,
        deposit_to_owner: Money | None,
        note: str,
        at: datetime,
    ) -> int:
        """Decides the dispute within what the booking's payment allows (refundable amount,
        deposit still held), completes the booking in the same save, then moves the money
        through the payment commands: the refund, the deposit capture (a partial capture
        releases the rest) or, when nothing is captured, the deposit release."""

        def attempt() -> tuple[Dispute, Money, int]:
            dispute = self.get(admin, dispute_id)
            dispute.check_admin(admin.role)
            booking = self.bookings.get(dispute.booking_id)
            refund_limit, deposit_limit = self.limits(booking)
            dispute.resolve(
                outcome,
                refund_to_renter,
                deposit_to_owner,
                note,
                refund_limit,
                deposit_limit,
                admin.id,
                admin.role,
                at,
            )
            booking.resolve_dispute(admin.id, f"dispute resolved: {outcome}", at)
            return dispute, deposit_limit, self.store.record(dispute, booking)

        dispute, deposit_held, position = retry_on_conflict(attempt)
        assert dispute.resolution is not None
        refund = Money.from_dict(dispute.resolution["refund_to_renter"])
        deposit = Money.from_dict(dispute.resolution["deposit_to_owner"])
        reason = f"dispute {dispute_id} resolved: {outcome}"
        booking_id = dispute.booking_id
        positions = [position]
        if refund.amount:
            positions.append(self.payments.refund(booking_id, refund, reason, by=admin, at=at))
        if deposit.amount:
            positions.append(
                self.payments.capture_deposit(booking_id, deposit, reason, by=admin, at=at)
            )
        elif deposit_held.amount:
            positions.append(self.payments.release_deposit(booking_id, by=admin, at=at))
        return max(positions)

    def _check_is_admin(self, user_id: UUID) -> None:
        try:
            user = self.store.load(user_id, "user")
        except NotFoundError:
            user = None
        if not isinstance(user, User) or not user.is_active or not user.has_role(ADMIN):
            raise RuleViolation("not_an_admin", f"user {user_id} is not an active admin")
