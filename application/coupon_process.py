"""The coupon process: follows the log and acts on what happened elsewhere.

- A user signed up → a `issue_welcome_coupon` job (job id per user, so queued once; the
  coupon's id comes from the user's, so a retried or repeated job issues it once).
- A booking was declined, expired, failed payment, or was cancelled before its start → its
  coupon redemption is given back (idempotent: a redemption is released once). An order's
  item gives back the order's one redemption only when the whole order ended before it
  began (application/order_coupons.py).

Like the ledger process, the position is a `Tracking` record written after a page is
handled; a crash in between replays the page, which changes nothing the second time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.utils import get_topic

from application.context import Actor, command_context
from application.coupons import WELCOME_VALIDITY, Coupons
from application.jobs import JobQueue
from application.order_coupons import release_for_order
from application.store import EventStore
from domain.booking import Booking as _Booking
from domain.user import User as _User

log = logging.getLogger(__name__)

# @event classes are made at runtime, where mypy cannot see them.
Booking: Any = _Booking
User: Any = _User

TRACKING_NAME = "coupons"
WELCOME_JOB = "issue_welcome_coupon"
RELEASING = {
    Booking.Declined: "declined",
    Booking.Expired: "expired",
    Booking.PaymentFailed: "payment failed",
    Booking.Cancelled: "cancelled before the start",
}
TOPICS = tuple(sorted(get_topic(cls) for cls in (User.Registered, *RELEASING)))


class CouponProcess:
    def __init__(
        self,
        store: EventStore,
        coupons: Coupons,
        jobs: JobQueue,
        tracking: TrackingRecorder | None = None,
        *,
        batch_size: int = 200,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.now = now
        self.coupons = coupons
        self.jobs = jobs
        self.tracking = tracking if tracking is not None else store.factory.tracking_recorder()
        self.batch_size = batch_size
        self._lock = threading.Lock()
        jobs.register(WELCOME_JOB, self.issue_welcome)

    def issue_welcome(self, user_id: str, registered_at: str) -> str:
        """The job: issues (or finds) the user's welcome coupon; returns its code's id."""
        with command_context(Actor.system()):
            coupon_id = self.coupons.issue_welcome(
                UUID(user_id), datetime.fromisoformat(registered_at)
            )
        return str(coupon_id)

    def position(self) -> int:
        return self.tracking.max_tracking_id(TRACKING_NAME) or 0

    def step(self) -> bool:
        """Handles one page after the tracked position; True when there may be more."""
        with self._lock:
            start, head = self.position(), self.store.current_position()
            if start >= head:
                return False
            notes = self.store.recorder.select_notifications(
                start, self.batch_size, stop=head, topics=TOPICS, inclusive_of_start=False
            )
            for note in notes:
                self._handle(self.store.mapper.to_domain_event(note))
            full = len(notes) == self.batch_size
            self._advance(notes[-1].id if full else head)
            return full

    def catch_up(self) -> int:
        while self.step():
            pass
        return self.position()

    def _handle(self, event: Any) -> None:
        if isinstance(event, User.Registered):
            if event.at + WELCOME_VALIDITY <= self.now():
                return  # its coupon would be expired already (a first run over an old log)
            user_id = str(event.originator_id)
            kwargs = {"user_id": user_id, "registered_at": event.at.isoformat()}
            self.jobs.enqueue(WELCOME_JOB, kwargs, job_id=f"welcome-coupon-{user_id}")
            return
        reason = _release_reason(event)
        if reason is None:
            return
        booking = self.store.load(event.originator_id, "booking")
        if booking.order_id is not None:  # an order's one redemption: when it all ended
            with command_context(Actor.system()):
                release_for_order(self.coupons, booking.order_id, reason, event.at)
            return
        if isinstance(event, Booking.Cancelled) and event.at >= booking.start_at:
            return  # cancelled once under way: the coupon was used
        with command_context(Actor.system()):
            self.coupons.release_for(booking, reason, event.at)

    def _advance(self, position: int) -> None:
        try:
            self.tracking.insert_tracking(Tracking(TRACKING_NAME, position))
        except IntegrityError:
            if self.position() < position:
                raise

    def run_forever(self, stop: threading.Event, interval: float = 0.5) -> None:
        wake = threading.Event()

        def on_recorded(_position: int) -> None:
            wake.set()

        self.store.add_listener(on_recorded)
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    more = self.step()
                except Exception:
                    log.exception("coupon process failed")
                    stop.wait(2.0)
                    continue
                if not more:
                    wake.wait(interval)
        finally:
            self.store.remove_listener(on_recorded)


def _release_reason(event: Any) -> str | None:
    return next((why for cls, why in RELEASING.items() if isinstance(event, cls)), None)
