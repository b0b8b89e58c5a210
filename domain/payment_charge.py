"""A Payment's charge: requested, its intent recorded, authorised, then captured or failed.

A capture splits the money between owner and platform (pro rata for a partial capture,
rounded half up, the owner's part first) and applies the refunds the processor reported
before it (they were parked until the capture made room for them).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import ConflictError, RuleViolation
from domain.money import Money, round_half_up
from domain.payment_refunds import PaymentRefunds
from domain.payment_state import FAILED, HELD, REQUESTED


class PaymentCharge(PaymentRefunds):
    def request_charge(self, idempotency_key: str, by: UUID, at: datetime) -> bool:
        known = self.charge["idempotency_key"]
        if known is not None:
            if known != idempotency_key:
                raise ConflictError("charge_already_requested", "the charge has another key")
            return False
        self._charge_requested(idempotency_key, by, at)
        return True

    @event("ChargeRequested")
    def _charge_requested(self, idempotency_key: str, by: UUID, at: datetime) -> None:
        self.charge["idempotency_key"] = idempotency_key
        if self.charge["status"] == "created":
            self.charge["status"] = REQUESTED
        self.updated_at = at

    def join_order_charge(self, order_charge_id: UUID, order_id: UUID, at: datetime) -> bool:
        """This booking is paid by its order's one charge (domain/order_charge.py): the
        processor's charge events come through the order, which hands this payment its share."""
        known = self.charge.get("order_charge_id")
        if known is not None:
            if known != str(order_charge_id):
                raise ConflictError("charge_already_requested", "paid by another order charge")
            return False
        if self.charge["idempotency_key"] is not None:
            raise ConflictError("charge_already_requested", "the booking has its own charge")
        self._order_charge_joined(order_charge_id, order_id, at)
        return True

    @event("OrderChargeJoined")
    def _order_charge_joined(self, order_charge_id: UUID, order_id: UUID, at: datetime) -> None:
        self.charge.update(order_charge_id=str(order_charge_id), order_id=str(order_id))
        self.updated_at = at

    @property
    def order_charge_id(self) -> UUID | None:
        known = self.charge.get("order_charge_id")
        return UUID(known) if known else None

    def record_charge_intent(self, intent_id: str, at: datetime) -> bool:
        if self.charge["intent_id"] is not None:
            if self.charge["intent_id"] != intent_id:
                raise ConflictError("charge_intent_mismatch", "the charge has another intent")
            return False
        self._charge_intent_recorded(intent_id, at)
        return True

    @event("ChargeIntentRecorded")
    def _charge_intent_recorded(self, intent_id: str, at: datetime) -> None:
        self.charge["intent_id"] = intent_id
        self.updated_at = at

    def _check_intent(self, intent_id: str) -> None:
        if self.charge["intent_id"] not in (None, intent_id):
            raise ConflictError("charge_intent_mismatch", "the charge has another intent")

    def authorize_charge(self, event_id: str, intent_id: str, amount: Money, at: datetime) -> bool:
        if self.has_processed(event_id) or self.charge["status"] in (HELD, "captured"):
            return False
        self._check_intent(intent_id)
        self._charge_authorized(event_id, intent_id, self._minor(amount, "amount"), at)
        return True

    @event("ChargeAuthorized")
    def _charge_authorized(self, event_id: str, intent_id: str, amount: int, at: datetime) -> None:
        self.charge.update(status=HELD, intent_id=intent_id, authorized=amount)
        self._seen(event_id, "ChargeAuthorized", at)

    def capture_charge(
        self, event_id: str, intent_id: str, amount: Money, fee: Money, at: datetime
    ) -> bool:
        """`fee` is the processor's fee as it reports it (its balance transaction)."""
        if self.has_processed(event_id) or self.charge["status"] == "captured":
            return False
        self._check_intent(intent_id)
        gross, fee_minor = self._minor(amount, "amount"), self._minor(fee, "fee", zero_ok=True)
        if gross > self.total:
            raise RuleViolation("capture_exceeds_total", "captured more than the quote total")
        owner = (
            self.owner_payout
            if gross == self.total
            else (round_half_up(gross * self.owner_payout, self.total))
        )
        self._charge_captured(
            event_id=event_id,
            intent_id=intent_id,
            amount=gross,
            fee=fee_minor,
            owner_share=owner,
            platform_share=gross - owner,
            at=at,
            **self._ids(),
            **self._owner_change(owner),
        )
        promotion = (
            self.promotion
            if gross == self.total
            else round_half_up(gross * self.promotion, self.total)
        )
        if promotion:  # the platform pays its coupon out of the fees it just earned
            self._promotion_funded(amount=promotion, at=at, **self._ids())
        for processor_refund_id, parked in list(self.parked_refunds.items()):
            if parked["amount"] <= self.charge["captured"] - self.refunded:
                self._apply_processor_refund(
                    parked["event_id"], processor_refund_id, parked["amount"], at
                )
        return True

    @event("ChargeCaptured")
    def _charge_captured(
        self,
        event_id: str,
        intent_id: str,
        amount: int,
        fee: int,
        owner_share: int,
        platform_share: int,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.charge.update(
            status="captured",
            intent_id=intent_id,
            captured=amount,
            fee=fee,
            owner_share=owner_share,
            platform_share=platform_share,
        )
        self._apply_owner(owner_payable, owner_receivable)
        self._seen(event_id, "ChargeCaptured", at)

    @event("PromotionFunded")
    def _promotion_funded(
        self, amount: int, booking_id: UUID, owner_id: UUID, currency: str, at: datetime
    ) -> None:
        self.charge["promotion"] = amount
        self.updated_at = at

    def fail_charge(self, event_id: str, reason: str, at: datetime) -> bool:
        """A decline or a cancelled intent; a later success (another card) still captures."""
        if self.has_processed(event_id) or self.charge["status"] == "captured":
            return False
        self._charge_failed(event_id, reason or "payment failed", at)
        return True

    @event("ChargeFailed")
    def _charge_failed(self, event_id: str, reason: str, at: datetime) -> None:
        self.charge.update(status=FAILED, failure=reason)
        self._seen(event_id, "ChargeFailed", at)
