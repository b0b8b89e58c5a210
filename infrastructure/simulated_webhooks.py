"""The simulated processor's webhooks: events from the outbox, signed with Stripe's scheme
and handed to the registered delivery callbacks (the same handler as
`POST /payments/webhooks/stripe`), with the configured duplicates and reordering.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace

import sqlalchemy as sa

from application.payment_gateway import GatewayListener, WebhookDelivery
from infrastructure.simulated_storage import SimulatedStorage, outbox
from infrastructure.stripe_events import verify_and_parse
from projections.base import write_transaction

log = logging.getLogger(__name__)
DEFAULT_WEBHOOK_SECRET = "whsec_rentbook_simulated"
LEGACY_TYPES = {
    "payment_intent.succeeded": "charge.succeeded",
    "payment_intent.payment_failed": "charge.failed",
}


class SimulatedWebhooks(SimulatedStorage):
    webhook_secret: str
    deliver_immediately: bool
    _deliveries: list[WebhookDelivery]
    _batches: int

    def deliver_webhooks_to(self, delivery: WebhookDelivery) -> None:
        """Registers a receiver of (raw body, Stripe-Signature header), like an endpoint."""
        self._deliveries.append(delivery)

    def subscribe(self, listener: GatewayListener) -> None:
        """Issue #2's in-process listener, kept until `Payments.handle` speaks the processor's
        vocabulary: it hears each verified delivery, with the charge's intent outcomes renamed
        `charge.succeeded` / `charge.failed`. New code: `deliver_webhooks_to`."""

        def legacy(payload: bytes, signature: str) -> None:
            event = verify_and_parse(payload, signature, self.webhook_secret)
            if event is None:
                return
            if event.step == "charge" and event.type in LEGACY_TYPES:
                event = replace(event, type=LEGACY_TYPES[event.type])
            listener(event)

        self.deliver_webhooks_to(legacy)

    def deliver_pending(self) -> int:
        """Delivers every pending event (with the configured duplicates and shuffling); an
        event whose receiver raised stays pending, like Stripe's retries. Returns deliveries."""
        with self._lock, write_transaction(self.engine) as conn:
            rows = conn.execute(
                sa.select(outbox.c.seq, outbox.c.payload)
                .where(outbox.c.state == "pending")
                .order_by(outbox.c.seq)
            ).all()
            conn.execute(
                outbox.update()
                .where(outbox.c.seq.in_([r.seq for r in rows]))
                .values(state="claimed")
            )
            self._batches += 1
            batch = self._batches
        plan: list[tuple[int, str]] = []
        for seq, payload in rows:
            copies = 1
            if self.faults.draw(f"dup:{seq}", batch) < self.faults.duplicate_rate:
                copies += 1 + int(self.faults.draw(f"dups:{seq}", batch) * 3)
            plan.extend([(seq, payload)] * copies)
        if self.faults.reorder:
            random.Random(f"{self.faults.seed}:{batch}").shuffle(plan)
        import stripe  # signs like the real one; imported on the first delivery, not at start

        delivered, failed = 0, set()
        for seq, payload in plan:
            header = stripe.WebhookSignature.generate_signature_header(
                payload, self.webhook_secret, int(self.now().timestamp())
            )
            for deliver in list(self._deliveries):
                try:
                    deliver(payload.encode(), header)
                    delivered += 1
                except Exception:  # the receiver failed: Stripe would retry later
                    log.exception("simulated webhook delivery failed")
                    failed.add(seq)
        with self._lock, write_transaction(self.engine) as conn:
            for seq, _ in rows:
                state = "pending" if seq in failed else "delivered"
                conn.execute(outbox.update().where(outbox.c.seq == seq).values(state=state))
        return delivered

    def _after_work(self) -> None:
        if self.deliver_immediately:
            self.deliver_pending()
