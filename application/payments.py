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

The parts, one direction each: `payment_access.py` (wiring, loading, queuing) ←
`payment_jobs.py`, `payment_events.py` ← `payment_commands.py` ← `payment_followups.py` ←
this module, which handles processor events and runs the process manager.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from application.bookings import Bookings
from application.context import Actor
from application.jobs import JobQueue
from application.order_charges import OrderRoute, apply_order_event, route
from application.payment_commands import PaymentCommands
from application.payment_events import apply_event, refund_amount_hint
from application.payment_followups import follow_up, missed_events
from application.payment_gateway import GatewayEvent, PaymentGateway
from application.payment_jobs import PaymentJobs
from application.retry import retry_on_conflict
from domain.errors import ConflictError, NotFoundError
from domain.owner_account import OwnerAccount
from domain.payment import Payment
from domain.payment_queries import PaymentQueries

log = logging.getLogger(__name__)
LEGACY_TYPES = {
    "charge.succeeded": "payment_intent.succeeded",
    "charge.failed": "payment_intent.payment_failed",
}


class Payments(PaymentCommands):
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
        super().__init__(bookings, gateway, jobs, queries, stuck_after=stuck_after, clock=clock)
        self.job_handlers = PaymentJobs(self)
        self.job_handlers.register(self.jobs)

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
                payment_id = payment_id or (ref and self.payment_for(ref)) or None
        if payment_id is None:
            log.info("processor event %s (%s) is not one of ours", event.id, event.type)
            return 0
        complete = getattr(self.gateway, "complete", None)  # duck-typed fakes lack it
        if event.type == "payment_intent.succeeded" and event.fee is None and complete:
            event = complete(event)  # a read, outside any transaction
        target = route(self, payment_id, event)  # an order's one charge, or one of its items
        if isinstance(target, OrderRoute):
            position, booking_ids = apply_order_event(self, target, event, at)
            for item in booking_ids if position else []:
                self.follow_up(item, at)
            return position
        payment_id = target
        hint = refund_amount_hint(self, payment_id, event)

        def attempt() -> tuple[int, UUID | None]:
            try:
                payment: Payment = self.store.load(payment_id, "payment")
            except NotFoundError:
                log.warning("processor event %s for unknown payment %s", event.id, payment_id)
                return 0, None
            if not isinstance(payment, Payment) or payment.has_processed(event.id):
                return 0, None  # (an order charge's events go through `apply_order_event`)
            others = apply_event(self, payment, event, at, hint)
            return self.store.record(payment, *others), payment.booking_id

        position, booking_id = retry_on_conflict(attempt)
        if booking_id is not None:
            self.follow_up(booking_id, at)
        return position

    handle = handle_event  # issue #2's name

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
        position = follow_up(self, booking_id, at, suffix=f"r{at:%Y%m%d%H%M}" if reconcile else "")
        if reconcile:
            # Outcomes the processor has and we never heard of, through the same path as a
            # webhook: a lost one converges to the same state as a delivered one.
            payment = self.find_payment(booking_id)
            for event in missed_events(self, payment) if payment is not None else []:
                try:
                    self.handle_event(event, at)
                except ConflictError as error:
                    log.info("reconciled event %s not applied: %s", event.id, error)
        return position

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
