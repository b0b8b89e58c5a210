"""Payments use cases: record the intent, let a job ask the processor, act on its webhooks.

Load → act → save; the processor is only called from jobs (`application/payment_jobs.py`),
after the intent is recorded and never inside a transaction. Processor outcomes come back as
`GatewayEvent`s (`handle_event`), de-duplicated by event id and tolerated in any order, and
move the Payment — and, in the same `store.record(...)`, the Booking and its ListingCalendar.

Money commands other contexts call (disputes): `refund`, `capture_deposit`,
`release_deposit`. Every follow-up the processor needs (a refund after a cancellation, the
deposit release when a booking completes, a payout, anything stuck) is also found again by
`reconcile`/`run_due` from the payments view, so a lost job or webhook never leaves money
stuck.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from application.bookings import Bookings
from application.context import Actor
from application.jobs import JobQueue
from application.payment_gateway import (
    AccountRequest,
    GatewayEvent,
    OnboardingLinkRequest,
    PaymentGateway,
    idempotency_key,
    payment_id_for,
)
from application.retry import retry_on_conflict
from domain import booking as b
from domain.booking import Booking
from domain.deposit_order import DepositOrder, deposit_order_id_for
from domain.errors import ConflictError, InvalidTransition, NotFoundError, PermissionDenied
from domain.money import Money
from domain.owner_account import OwnerAccount, owner_account_id_for
from domain.payment import SUCCEEDED, Payment
from domain.payment_queries import PAYOUT_STATUSES, PaymentQueries

log = logging.getLogger(__name__)
SYSTEM = Actor.system()
LEGACY_TYPES = {
    "charge.succeeded": "payment_intent.succeeded",
    "charge.failed": "payment_intent.payment_failed",
}


class NoQueries(PaymentQueries):
    def payment_for(self, processor_id: str) -> UUID | None:
        return None

    def owner_for_account(self, account_id: str) -> UUID | None:
        return None

    def due_payouts(self, at: datetime, limit: int, owner_id: UUID | None = None) -> list[UUID]:
        return []

    def needing_attention(self, stuck_before: datetime, limit: int) -> list[UUID]:
        return []


def succeeded_refunds(payment: Payment) -> int:
    return sum(r["amount"] for r in payment.refunds.values() if r["status"] == SUCCEEDED)


class Payments:
    def __init__(
        self,
        bookings: Bookings,
        gateway: PaymentGateway,
        jobs: JobQueue | None = None,
        queries: PaymentQueries | None = None,
        *,
        stuck_after: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        from application.payment_jobs import PaymentJobs  # the jobs need this class

        self.bookings = bookings
        self.store = bookings.store
        self.gateway = gateway
        if jobs is None:
            from application.jobs import InlineJobQueue

            jobs = InlineJobQueue()
        self.jobs = jobs
        self.queries = queries or NoQueries()
        self.stuck_after = stuck_after
        self.clock = clock
        self._intents: dict[str, UUID] = {}  # intent id -> payment id, until the view has it
        self.job_handlers = PaymentJobs(self)
        self.job_handlers.register(jobs)

    def now(self) -> datetime:
        from datetime import UTC

        return self.clock() if self.clock else datetime.now(UTC)

    # -- loading ---------------------------------------------------------------------------

    def payment(self, booking_id: UUID) -> Payment:
        payment: Payment = self.store.load(payment_id_for(booking_id), "payment")
        return payment

    def find_payment(self, booking_id: UUID) -> Payment | None:
        try:
            return self.payment(booking_id)
        except NotFoundError:
            return None

    def deposit_order(self, booking_id: UUID) -> DepositOrder | None:
        try:
            order: DepositOrder = self.store.load(deposit_order_id_for(booking_id), "deposit")
            return order
        except NotFoundError:
            return None

    def owner_account(self, owner_id: UUID) -> OwnerAccount | None:
        try:
            account: OwnerAccount = self.store.load(owner_account_id_for(owner_id), "account")
            return account
        except NotFoundError:
            return None

    def enqueue(self, name: str, booking_id: UUID, step: str, suffix: str = "", **kw: Any) -> Any:
        job_id = idempotency_key(booking_id, step) + (f"#{suffix}" if suffix else "")
        return self.jobs.enqueue(name, {"booking_id": str(booking_id), **kw}, job_id=job_id)

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

    # -- processor events ------------------------------------------------------------------

    def handle_event(self, event: GatewayEvent, at: datetime) -> int:
        """One processor event → Payment commands (+ Booking/Calendar in the same save).
        Returns the position recorded (0: duplicate, ignored or nothing new)."""
        if event.type in LEGACY_TYPES:
            event = replace(event, type=LEGACY_TYPES[event.type], step=event.step or "charge")
        if event.type == "account.updated":
            return self._account_updated(event, at)
        payment_id = event.payment_id
        if payment_id is None:
            for ref in (event.intent_id, event.charge_id):
                payment_id = payment_id or (ref and self._payment_for(ref)) or None
        if payment_id is None:
            log.info("processor event %s (%s) is not one of ours", event.id, event.type)
            return 0
        complete = getattr(self.gateway, "complete", None)  # duck-typed fakes lack it
        if event.type == "payment_intent.succeeded" and event.fee is None and complete:
            event = complete(event)  # a read, outside any transaction
        from application.payment_events import apply_event, refund_amount_hint

        hint = refund_amount_hint(self, payment_id, event)

        def attempt() -> tuple[int, UUID | None]:
            try:
                payment: Payment = self.store.load(payment_id, "payment")
            except NotFoundError:
                log.warning("processor event %s for unknown payment %s", event.id, payment_id)
                return 0, None
            if payment.has_processed(event.id):
                return 0, None
            others = apply_event(self, payment, event, at, hint)
            return self.store.record(payment, *others), payment.booking_id

        position, booking_id = retry_on_conflict(attempt)
        if booking_id is not None:
            self.follow_up(booking_id, at)
        return position

    handle = handle_event  # issue #2's name

    def _payment_for(self, processor_id: str) -> UUID | None:
        return self._intents.get(processor_id) or self.queries.payment_for(processor_id)

    def remember_intent(self, intent_id: str, payment_id: UUID) -> None:
        self._intents[intent_id] = payment_id

    def _account_updated(self, event: GatewayEvent, at: datetime) -> int:
        account_id = event.account_id or event.object_id
        owner_id = event.owner_id or self.queries.owner_for_account(account_id)
        if owner_id is None:
            return 0

        def attempt() -> int:
            account = self.owner_account(owner_id)
            if account is None:  # created elsewhere (dashboard): adopt it
                account = OwnerAccount(owner_id=owner_id, account_id=account_id, at=at)
            changed = account.update_status(
                event.id,
                account_id,
                charges_enabled=bool(event.charges_enabled),
                payouts_enabled=bool(event.payouts_enabled),
                reported_at=event.created or at,
                at=at,
            )
            return self.store.record(account) if changed else 0

        position = retry_on_conflict(attempt)
        if event.payouts_enabled:
            for booking_id in self.queries.due_payouts(at, 500, owner_id=owner_id):
                self.schedule_payout(booking_id, at)
        return position

    # -- follow-ups and reconciliation -----------------------------------------------------

    def follow_up(self, booking_id: UUID, at: datetime, *, reconcile: bool = False) -> int:
        """Does whatever the booking's money still needs (idempotent)."""
        from application.payment_followups import follow_up

        return follow_up(self, booking_id, at, reconcile=reconcile)

    def after_cancel(self, booking_id: UUID, at: datetime) -> None:
        """Hook after a cancellation or an expiry is recorded: refund per `refund_due`,
        release holds."""
        try:
            self.follow_up(booking_id, at)
        except Exception:  # the scheduler's `run_due` finds it again
            log.exception("payment follow-up of booking %s failed", booking_id)

    def observe(self, bookings: Bookings) -> None:
        """Runs `after_cancel` after `bookings.cancel`/`expire` record (wraps the instance:
        the booking use cases stay unaware of payments)."""
        cancel, expire = bookings.cancel, bookings.expire

        def cancelled(actor: Actor, booking_id: UUID, reason: str, at: datetime) -> int:
            position = cancel(actor, booking_id, reason, at)
            self.after_cancel(booking_id, at)
            return position

        def expired(booking_id: UUID, at: datetime, *, if_version: int | None = None) -> int:
            position = expire(booking_id, at, if_version=if_version)
            if position:
                self.after_cancel(booking_id, at)
            return position

        bookings.cancel = cancelled  # type: ignore[method-assign]
        bookings.expire = expired  # type: ignore[method-assign]

    def reconcile(self, at: datetime, *, limit: int = 500) -> int:
        """Re-reads the processor's state of everything stuck longer than `stuck_after`
        and synthesises the outcomes it missed; returns how many bookings were looked at."""
        ids = self.queries.needing_attention(at - self.stuck_after, limit)
        for booking_id in ids:
            self.reconcile_booking(booking_id, at)
        return len(ids)

    def reconcile_booking(self, booking_id: UUID, at: datetime) -> int:
        try:
            return self.follow_up(booking_id, at, reconcile=True)
        except Exception:
            log.exception("reconciliation of booking %s failed", booking_id)
            return 0

    def run_due(self, at: datetime) -> int:
        """The payments scheduler's tick: payouts that fell due, then reconciliation."""
        done = 0
        for booking_id in self.queries.due_payouts(at, 500):
            try:
                done += 1 if self.schedule_payout(booking_id, at) else 0
            except (ConflictError, NotFoundError) as error:
                log.info("payout of %s skipped: %s", booking_id, error)
        return done + self.reconcile(at)

    def booking(self, booking_id: UUID) -> Booking:
        return self.bookings.get(booking_id)
