"""The payments commands: paying for a booking, the money commands other contexts call
(disputes, cancellations: `refund`, `capture_deposit`, `release_deposit`) and payouts.

Load → act → save, then queue the processor call as a job: the processor is only called from
jobs (`application/payment_jobs.py`), after the intent is recorded and never inside a
transaction.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID

from application.context import Actor
from application.payment_access import PaymentAccess
from application.payment_gateway import AccountRequest, OnboardingLinkRequest, idempotency_key
from application.retry import retry_on_conflict
from domain import booking as b
from domain.deposit_order import DepositOrder
from domain.errors import ConflictError, InvalidTransition, PermissionDenied
from domain.money import Money
from domain.owner_account import OwnerAccount
from domain.payment import Payment
from domain.payment_queries import PAYOUT_STATUSES

SYSTEM = Actor.system()


class PaymentCommands(PaymentAccess):
    # -- paying ----------------------------------------------------------------------------

    def start_payment(self, actor: Actor, booking_id: UUID, at: datetime) -> dict[str, Any]:
        """Records the charge (and deposit hold) as requested, then queues the processor
        calls. `client_secret` is there when the charge job already ran (embedded default)."""

        def attempt() -> int:
            booking = self.bookings.get(booking_id, viewer=actor)
            if actor.id != booking.renter_id:
                booking.check_party(actor.id, actor.role)  # 404 for strangers
                raise PermissionDenied("not_renter", "only the renter pays for a booking")
            if booking.status != b.PENDING_PAYMENT:
                raise InvalidTransition(
                    "not_payable", f"a booking that is {booking.status} cannot be paid"
                )
            payment = self.find_payment(booking_id)
            new = [booking]
            if payment is None:
                deposit = Money.from_dict(booking.deposit) if booking.deposit else None
                payment = Payment.open(
                    booking_id=booking_id,
                    owner_id=booking.owner_id,
                    renter_id=booking.renter_id,
                    quote=booking.quote,
                    deposit=deposit,
                    by=actor.id,
                    at=at,
                )
            payment.request_charge(idempotency_key(booking_id, "charge"), actor.id, at)
            total = Money(booking.quote["total"], booking.quote["currency"])
            booking.request_payment(payment.id, total.as_dict(), by=actor.id, at=at)
            return self.store.record(*new, payment)

        position = retry_on_conflict(attempt)
        payment = self.payment(booking_id)
        job = self.enqueue("create_charge", booking_id, "charge")
        if payment.deposit:
            self.enqueue("authorize_deposit", booking_id, "deposit")
        result = job.result if isinstance(job.result, dict) else {}
        return {
            "payment_id": payment.id,
            "client_secret": result.get("client_secret"),
            "status": result.get("status") or payment.charge["status"],
            "position": position,
        }

    start = start_payment  # issue #2's name

    # -- money commands (disputes, cancellations) -----------------------------------------

    def refund(
        self,
        booking_id: UUID,
        amount: Money,
        reason: str,
        *,
        by: Actor,
        at: datetime,
        refund_id: str | None = None,
        owner_portion: Money | None = None,
    ) -> int:
        """Records a refund (at most captured minus refunded) and queues it at the processor. Pass a
        `refund_id` (letters, digits, '-') to make a retried command a no-op."""

        def attempt() -> tuple[int, str]:
            payment = self.payment(booking_id)
            rid = refund_id or f"refund-{len(payment.refunds) + 1}"
            new = payment.request_refund(
                rid, amount, reason, by.id, by.role, at, owner_portion=owner_portion
            )
            return (self.store.record(payment) if new else 0), rid

        position, rid = retry_on_conflict(attempt)
        self.enqueue("refund", booking_id, rid, refund_id=rid)
        return position

    def capture_deposit(
        self, booking_id: UUID, amount: Money, reason: str, *, by: Actor, at: datetime
    ) -> int:
        """Captures `amount` of the deposit hold for the owner; the rest is released."""
        order = self._order(booking_id, at)
        if amount.currency != order.currency:
            raise ConflictError("currency_mismatch", f"the deposit is in {order.currency}")
        new = order.order_capture(amount.amount, reason, by.id, by.role, at)
        position = self.store.record(order) if new else 0
        self.enqueue("capture_deposit", booking_id, "capture-deposit")
        return position

    def release_deposit(
        self, booking_id: UUID, *, by: Actor, at: datetime, reason: str = "released"
    ) -> int:
        """Releases the whole deposit hold (nothing captured)."""
        order = self._order(booking_id, at)
        new = order.order_release(reason, by.id, by.role, at)
        position = self.store.record(order) if new else 0
        self.enqueue("release_deposit", booking_id, "release-deposit")
        return position

    def _order(self, booking_id: UUID, at: datetime) -> DepositOrder:
        payment = self.payment(booking_id)
        if not payment.deposit:
            raise ConflictError("no_deposit", "the booking has no deposit")
        order = self.deposit_order(booking_id)
        return order or DepositOrder(
            booking_id=booking_id, deposit=payment.deposit, currency=payment.currency, at=at
        )

    # -- payouts ---------------------------------------------------------------------------

    def schedule_payout(self, booking_id: UUID, at: datetime) -> int:
        """The payout deadline (`payout_at`, 24 h after the start) passed: record it, and
        queue the transfer when the owner's account takes payouts."""
        booking = self.bookings.get(booking_id)
        due = booking.deadline("payout_at")
        payment = self.find_payment(booking_id)
        if (
            due is None
            or at < due
            or payment is None
            or payment.charge["status"] != "captured"
            or booking.status not in PAYOUT_STATUSES
        ):
            return 0
        position = 0
        if payment.transfer_due_at is None:
            payment.schedule_transfer(due, SYSTEM.id, at)
            position = self.store.record(payment)
        account = self.owner_account(booking.owner_id)
        if account is not None and account.payouts_enabled and payment.owner_balance > 0:
            self.enqueue("transfer_to_owner", booking_id, "payout", f"{at:%Y%m%d%H%M}")
        return position

    def payout_account_link(
        self, owner: Actor, email: str, *, refresh_url: str, return_url: str, at: datetime
    ) -> dict[str, Any]:
        """The owner's onboarding link at the processor (its connected account is created
        once, then remembered on `OwnerAccount`)."""
        account = self.owner_account(owner.id)
        if account is None:
            created = self.gateway.create_connected_account(
                AccountRequest(owner.id, email, f"rentbook:owner:{owner.id}:account")
            )
            account = OwnerAccount(owner_id=owner.id, account_id=created.account_id, at=at)
            try:
                self.store.record(account)
            except Exception:  # a racing request recorded it first: same key, same account
                account = self.owner_account(owner.id)
                if account is None:
                    raise
        link = self.gateway.create_onboarding_link(
            OnboardingLinkRequest(
                account.account_id,
                refresh_url,
                return_url,
                # Same URLs within a minute → the same link; other URLs → a new link.
                f"rentbook:owner:{owner.id}:link:{at:%Y%m%d%H%M}:"
                + hashlib.sha256(f"{refresh_url}\n{return_url}".encode()).hexdigest()[:16],
            )
        )
        return {
            "account_id": account.account_id,
            "url": link.url,
            "expires_at": link.expires_at,
            "payouts_enabled": account.payouts_enabled,
        }
