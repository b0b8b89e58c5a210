"""Booking: one renter's claim on a listing's units for a period, and its status machine.

Every transition records who (actor id and role), why, and when (passed in). Deadlines are
data on the booking; a scheduler reads them from a view and issues the due command.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import stay
from domain.errors import InvalidTransition, NotFoundError, PermissionDenied, RuleViolation

PENDING_OWNER_APPROVAL = "pending_owner_approval"
PENDING_PAYMENT = "pending_payment"
CONFIRMED = "confirmed"
IN_PROGRESS = "in_progress"
AWAITING_RETURN_INSPECTION = "awaiting_return_inspection"
COMPLETED = "completed"
SETTLED = "settled"
CANCELLED = "cancelled"
REFUNDED = "refunded"
DISPUTED = "disputed"

# command -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({PENDING_OWNER_APPROVAL}), PENDING_PAYMENT),
    "decline": (frozenset({PENDING_OWNER_APPROVAL}), CANCELLED),
    "expire": (frozenset({PENDING_OWNER_APPROVAL, PENDING_PAYMENT}), CANCELLED),
    "fail_payment": (frozenset({PENDING_PAYMENT}), CANCELLED),
    "confirm": (frozenset({PENDING_PAYMENT}), CONFIRMED),
    "start": (frozenset({CONFIRMED}), IN_PROGRESS),
    "end": (frozenset({IN_PROGRESS}), AWAITING_RETURN_INSPECTION),
    "complete": (frozenset({AWAITING_RETURN_INSPECTION}), COMPLETED),
    "settle": (frozenset({COMPLETED}), SETTLED),
    "cancel": (
        frozenset({PENDING_OWNER_APPROVAL, PENDING_PAYMENT, CONFIRMED, IN_PROGRESS}),
        CANCELLED,
    ),
    "mark_refunded": (frozenset({CANCELLED}), REFUNDED),
    "open_dispute": (frozenset({AWAITING_RETURN_INSPECTION, COMPLETED}), DISPUTED),
    "resolve_dispute": (frozenset({DISPUTED}), COMPLETED),
}
ACTIVE_STATUSES = frozenset({PENDING_OWNER_APPROVAL, PENDING_PAYMENT, CONFIRMED, IN_PROGRESS})
INSPECTION_WINDOW = timedelta(hours=48)
# Where a side may still check in / out (the time window is checked too, in domain/stay.py).
CHECK_IN_STATUSES = frozenset({CONFIRMED, IN_PROGRESS})
CHECK_OUT_STATUSES = frozenset(
    {CONFIRMED, IN_PROGRESS, AWAITING_RETURN_INSPECTION, DISPUTED, COMPLETED, SETTLED}
)
PAYOUT_DELAY = timedelta(hours=24)


class Booking(Aggregate):
    @event("Placed")
    def __init__(
        self,
        id: UUID,  # chosen by the caller, so a retried placement keeps its id
        listing_id: UUID,
        owner_id: UUID,
        renter_id: UUID,
        unit: str,
        start: str,
        end: str,
        timezone: str,
        quantity: int,
        guests: int,
        message: str,
        quote: dict[str, Any],
        policy: dict[str, Any],
        deposit: dict[str, Any] | None,
        status: str,
        start_at: datetime,
        end_at: datetime,
        expires_at: datetime,
        by: UUID,
        role: str,
        at: datetime,
        order_id: UUID | None = None,  # the order holding this item (domain/order.py)
    ) -> None:
        self.listing_id = listing_id
        self.order_id = order_id
        self.owner_id = owner_id
        self.renter_id = renter_id
        self.unit = unit
        self.start = start
        self.end = end
        self.timezone = timezone
        self.quantity = quantity
        self.guests = guests
        self.message = message
        self.quote = quote
        self.policy = policy
        self.deposit = deposit
        self.status = status
        self.placed_at = at
        self.deadlines: dict[str, str | None] = {
            "expires_at": expires_at.isoformat(),
            "start_at": start_at.isoformat(),
            "end_at": end_at.isoformat(),
            "inspection_ends_at": None,
            "payout_at": (start_at + PAYOUT_DELAY).isoformat(),
        }
        self.payment_id: UUID | None = None
        self.refund_due: dict[str, Any] | None = None
        self.cancelled_by_role: str | None = None
        self.status_reason = ""
        self.updated_at = at
        self.returned_at: datetime | None = None  # entered AWAITING_RETURN_INSPECTION
        # side (renter | owner) -> {by, at, report}; see domain/stay.py
        self.check_ins: dict[str, dict[str, Any]] = {}
        self.check_outs: dict[str, dict[str, Any]] = {}
        self.checked_out_at: str | None = None  # the check-out that ended the stay, if one did

    @classmethod
    def place(
        cls,
        *,
        instant: bool,
        expires_at: datetime,
        **fields: Any,
    ) -> Booking:
        status = PENDING_PAYMENT if instant else PENDING_OWNER_APPROVAL
        return cls(status=status, expires_at=expires_at, **fields)

    # -- queries ------------------------------------------------------------------------

    def deadline(self, name: str) -> datetime | None:
        value = self.deadlines.get(name)
        return datetime.fromisoformat(value) if value else None

    @property
    def start_at(self) -> datetime:
        value = self.deadline("start_at")
        assert value is not None
        return value

    @property
    def end_at(self) -> datetime:
        value = self.deadline("end_at")
        assert value is not None
        return value

    @property
    def inspection_opened_at(self) -> datetime:
        """When the return inspection (and the window for claims) began: the check-out that
        ended the stay, else the booking's end."""
        return datetime.fromisoformat(self.checked_out_at) if self.checked_out_at else self.end_at

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def check_can_view(self, user_id: UUID, role: str) -> None:
        if role != "admin" and user_id not in (self.renter_id, self.owner_id):
            raise NotFoundError("booking_not_found", f"booking {self.id} not found")

    def check_owner(self, user_id: UUID) -> None:
        if user_id != self.owner_id:
            raise PermissionDenied("not_owner", "only the listing's owner can do that")

    def check_party(self, user_id: UUID, role: str) -> str:
        """The role the caller acts in on this booking: renter, owner or admin."""
        if role == "admin":
            return "admin"
        if user_id == self.renter_id:
            return "renter"
        if user_id == self.owner_id:
            return "owner"
        raise NotFoundError("booking_not_found", f"booking {self.id} not found")

    def check_transition(self, command: str) -> str:
        sources, target = TRANSITIONS[command]
        if self.status not in sources:
            raise InvalidTransition(
                "invalid_booking_transition",
                f"cannot {command.replace('_', ' ')} a booking that is {self.status}",
            )
        return target

    def check_due(self, name: str, at: datetime) -> None:
        due = self.deadline(name)
        if due is None or at < due:
            raise RuleViolation("not_due", f"{name} is not due yet")

    # -- transitions ----------------------------------------------------------------------

    def approve(self, by: UUID, at: datetime, payment_expires_at: datetime) -> None:
        self.check_transition("approve")
        self.check_owner(by)
        self._approved(by, "owner", "", at, payment_expires_at)

    @event("Approved")
    def _approved(
        self, by: UUID, role: str, reason: str, at: datetime, expires_at: datetime
    ) -> None:
        self._move(PENDING_PAYMENT, reason, at)
        self.deadlines["expires_at"] = expires_at.isoformat()

    def decline(self, by: UUID, reason: str, at: datetime) -> None:
        self.check_transition("decline")
        self.check_owner(by)
        self._declined(by, "owner", reason, at)

    @event("Declined")
    def _declined(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(CANCELLED, reason, at)

    def expire(self, by: UUID, at: datetime) -> None:
        self.check_transition("expire")
        self.check_due("expires_at", at)
        self._expired(by, "system", "not paid or answered in time", at)

    @event("Expired")
    def _expired(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(CANCELLED, reason, at)

    def request_payment(
        self, payment_id: UUID, amount: dict[str, Any], by: UUID, at: datetime
    ) -> None:
        if self.status != PENDING_PAYMENT:
            raise InvalidTransition(
                "not_payable", f"a booking that is {self.status} cannot be paid"
            )
        if self.payment_id is None:
            self._payment_requested(payment_id, amount, by, at)

    @event("PaymentRequested")
    def _payment_requested(
        self, payment_id: UUID, amount: dict[str, Any], by: UUID, at: datetime
    ) -> None:
        self.payment_id = payment_id
        self.updated_at = at

    def fail_payment(self, reason: str, at: datetime, by: UUID) -> None:
        self.check_transition("fail_payment")
        self._payment_failed(by, "system", reason, at)

    @event("PaymentFailed")
    def _payment_failed(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(CANCELLED, reason, at)

    def confirm(self, by: UUID, at: datetime) -> None:
        self.check_transition("confirm")
        self._confirmed(by, "system", "payment captured", at)

    @event("Confirmed")
    def _confirmed(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(CONFIRMED, reason, at)
        self.deadlines["expires_at"] = None

    def begin(self, by: UUID, at: datetime) -> None:
        self.check_transition("start")
        self.check_due("start_at", at)
        self._started(by, "system", "", at)

    @event("Started")
    def _started(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(IN_PROGRESS, reason, at)

    def finish(self, by: UUID, at: datetime) -> None:
        self.check_transition("end")
        self.check_due("end_at", at)
        self._ended(by, "system", "", at, at + INSPECTION_WINDOW)

    @event("Ended")
    def _ended(
        self, by: UUID, role: str, reason: str, at: datetime, inspection_ends_at: datetime
    ) -> None:
        self._move(AWAITING_RETURN_INSPECTION, reason, at)
        self.deadlines["inspection_ends_at"] = inspection_ends_at.isoformat()

    def complete(self, by: UUID, role: str, at: datetime) -> None:
        self.check_transition("complete")
        if role == "system":
            self.check_due("inspection_ends_at", at)
        elif role != "admin":
            self.check_owner(by)
        self._completed(by, role, "", at)

    @event("Completed")
    def _completed(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(COMPLETED, reason, at)

    def settle(self, by: UUID, at: datetime) -> None:
        self.check_transition("settle")
        self._settled(by, "system", "payout sent", at)

    @event("Settled")
    def _settled(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(SETTLED, reason, at)

    def cancel(
        self, by: UUID, role: str, reason: str, refund: dict[str, Any], at: datetime
    ) -> None:
        """`role` is the party acting (renter | owner | admin); the refund was computed
        by the policy snapshot and is recorded as data for the payment side to act on."""
        self.check_transition("cancel")
        if role not in ("renter", "owner", "admin"):
            raise PermissionDenied("not_party", "only the renter, the owner or an admin can cancel")
        if not reason.strip():
            raise RuleViolation("reason_required", "a cancellation needs a reason")
        self._cancelled(by, role, reason, at, refund)

    @event("Cancelled")
    def _cancelled(
        self, by: UUID, role: str, reason: str, at: datetime, refund: dict[str, Any]
    ) -> None:
        was_paid = self.status in (CONFIRMED, IN_PROGRESS)
        self._move(CANCELLED, reason, at)
        self.cancelled_by_role = role
        self.refund_due = refund if was_paid else None

    def mark_refunded(self, by: UUID, at: datetime) -> None:
        self.check_transition("mark_refunded")
        self._refunded(by, "system", "money returned", at)

    @event("Refunded")
    def _refunded(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(REFUNDED, reason, at)

    def open_dispute(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self.check_transition("open_dispute")
        self._dispute_opened(by, role, reason, at)

    @event("DisputeOpened")
    def _dispute_opened(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(DISPUTED, reason, at)

    def resolve_dispute(self, by: UUID, reason: str, at: datetime, *, role: str = "admin") -> None:
        """An admin's resolution, or the opener withdrawing (role renter or owner)."""
        self.check_transition("resolve_dispute")
        self._dispute_resolved(by, role, reason, at)

    @event("DisputeResolved")
    def _dispute_resolved(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._move(COMPLETED, reason, at)

    # -- check-in / check-out -----------------------------------------------------------

    def check_in(
        self, by: UUID, side: str, report: dict[str, Any] | None, grace_hours: int, at: datetime
    ) -> None:
        """A side arrives, with an optional condition report; the first check-in of a
        confirmed booking starts it (early, within the grace hours)."""
        window = stay.check_in_window(self.start_at, self.end_at, grace_hours)
        stay.check_may("check-in", self.status, CHECK_IN_STATUSES, self.check_ins, side, window, at)
        self._checked_in(by, side, report, at)
        if self.status == CONFIRMED:
            self._started(by, side, f"{side} checked in", at)

    @event("CheckedIn")
    def _checked_in(self, by: UUID, role: str, report: dict[str, Any] | None, at: datetime) -> None:
        self.check_ins[role] = {"by": str(by), "at": at.isoformat(), "report": report}
        self.updated_at = at

    def check_out(
        self, by: UUID, side: str, report: dict[str, Any] | None, grace_hours: int, at: datetime
    ) -> None:
        """A side leaves, with an optional condition report; the first check-out of a stay
        under way ends it and opens the return inspection window from now."""
        window = stay.check_out_window(self.start_at, self.end_at, grace_hours)
        allowed, done = CHECK_OUT_STATUSES, self.check_outs
        stay.check_may("check-out", self.status, allowed, done, side, window, at)
        self._checked_out(by, side, report, at)
        if self.status == CONFIRMED:  # past its start, not yet started by anyone
            self._started(by, side, f"{side} checked out before anyone checked in", at)
        if self.status == IN_PROGRESS:
            self._ended(by, side, f"{side} checked out", at, at + INSPECTION_WINDOW)

    @event("CheckedOut")
    def _checked_out(
        self, by: UUID, role: str, report: dict[str, Any] | None, at: datetime
    ) -> None:
        self.check_outs[role] = {"by": str(by), "at": at.isoformat(), "report": report}
        if self.status in (CONFIRMED, IN_PROGRESS):
            self.checked_out_at = at.isoformat()
        self.updated_at = at

    def reports(self) -> list[dict[str, Any] | None]:
        return [r["report"] for r in (*self.check_ins.values(), *self.check_outs.values())]

    def _move(self, status: str, reason: str, at: datetime) -> None:
        if status == AWAITING_RETURN_INSPECTION and self.returned_at is None:
            self.returned_at = at  # check-out or the end: opens the review window
        self.status = status
        self.status_reason = reason
        self.updated_at = at
