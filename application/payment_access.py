"""What every part of the payments use cases shares: the wiring, loading a booking's money
aggregates, and queuing the processor jobs.

The parts build on it in one direction: the jobs (`payment_jobs.py`) and the processor-event
rules (`payment_events.py`) need only this; the commands (`payment_commands.py`) add what
other contexts call; `payments.py` puts them together with the process manager.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from application.bookings import Bookings
from application.jobs import InlineJobQueue, JobQueue
from application.payment_gateway import PaymentGateway, idempotency_key, payment_id_for
from domain.booking import Booking
from domain.deposit_order import DepositOrder, deposit_order_id_for
from domain.errors import NotFoundError
from domain.order_charge import OrderCharge
from domain.owner_account import OwnerAccount, owner_account_id_for
from domain.payment import Payment
from domain.payment_queries import PaymentQueries

# Intents remembered per process: the view has any older one long before (a bound, so a
# long-running process does not keep every intent it ever made).
INTENTS_HELD = 10_000


class NoQueries(PaymentQueries):
    def payment_for(self, processor_id: str) -> UUID | None:
        return None

    def owner_for_account(self, account_id: str) -> UUID | None:
        return None

    def due_payouts(self, at: datetime, limit: int, owner_id: UUID | None = None) -> list[UUID]:
        return []

    def needing_attention(self, stuck_before: datetime, limit: int) -> list[UUID]:
        return []


class PaymentAccess:
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
        self.bookings = bookings
        self.store = bookings.store
        self.gateway = gateway
        self.jobs = jobs if jobs is not None else InlineJobQueue()
        self.queries = queries or NoQueries()
        self.stuck_after = stuck_after
        self.clock = clock
        self._intents: OrderedDict[str, UUID] = OrderedDict()  # until the view has them
        self._intents_lock = threading.Lock()

    def now(self) -> datetime:
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

    def enqueue_order_charge(self, order_id: UUID, suffix: str = "") -> Any:
        """Queues the processor call of an order's one charge (application/payment_jobs.py)."""
        job_id = idempotency_key(order_id, "charge") + (f"#{suffix}" if suffix else "")
        return self.jobs.enqueue("create_order_charge", {"order_id": str(order_id)}, job_id=job_id)

    def order_charge(self, order_charge_id: UUID) -> OrderCharge:
        charge: OrderCharge = self.store.load(order_charge_id, "order_charge")
        return charge

    def booking(self, booking_id: UUID) -> Booking:
        return self.bookings.get(booking_id)

    def remember_intent(self, intent_id: str, payment_id: UUID) -> None:
        with self._intents_lock:
            self._intents[intent_id] = payment_id
            self._intents.move_to_end(intent_id)
            while len(self._intents) > INTENTS_HELD:
                self._intents.popitem(last=False)  # the oldest

    def payment_for(self, processor_id: str) -> UUID | None:
        """The payment an intent or charge id belongs to: just created here, or in the view."""
        return self._intents.get(processor_id) or self.queries.payment_for(processor_id)
