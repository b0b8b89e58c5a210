"""A Payment's deposit hold: authorised, captured (in part or whole) for the owner, released.

A capture before its authorisation implies the authorisation (of the booking's deposit); a
release (or expiry) applies to whatever of the hold is not captured, whenever the hold
becomes known; a capture after a release reverses no memo twice.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import ConflictError, RuleViolation
from domain.money import Money
from domain.payment_state import EXPIRED, HELD, RELEASED, PaymentState


class PaymentDeposit(PaymentState):
    def record_deposit_intent(self, intent_id: str, at: datetime) -> bool:
        known = self.deposit_hold["intent_id"]
        if known is not None:
            if known != intent_id:
                raise ConflictError("deposit_intent_mismatch", "the deposit has another intent")
            return False
        self._deposit_intent_recorded(intent_id, at)
        return True

    @event("DepositIntentRecorded")
    def _deposit_intent_recorded(self, intent_id: str, at: datetime) -> None:
        self.deposit_hold["intent_id"] = intent_id
        self.updated_at = at

    def record_deposit_declined(
        self, event_id: str, intent_id: str, reason: str, at: datetime
    ) -> bool:
        """The card for the hold was declined: nothing is held, the renter may confirm the
        same hold with another card until the booking's hold on the units expires."""
        hold = self.deposit_hold
        if self.has_processed(event_id) or hold["seen"] or hold["status"] in (RELEASED, EXPIRED):
            return False
        reason = reason or "card_declined"
        self._deposit_declined(event_id, intent_id, reason, at, booking_id=self.booking_id)
        return True

    @event("DepositDeclined")
    def _deposit_declined(
        self,
        event_id: str,
        intent_id: str,
        reason: str,
        at: datetime,
        booking_id: UUID | None = None,  # for the renter's notice; None in the first events
    ) -> None:
        self.deposit_hold["declined"] = reason
        self.deposit_hold["intent_id"] = self.deposit_hold["intent_id"] or intent_id
        self._seen(event_id, "DepositDeclined", at)

    def authorize_deposit(self, event_id: str, intent_id: str, amount: Money, at: datetime) -> bool:
        if self.has_processed(event_id) or self.deposit_hold["seen"]:
            return False
        self._hold_known(event_id, intent_id, self._minor(amount, "deposit"), at)
        return True

    def _hold_known(self, event_id: str, intent_id: str, amount: int, at: datetime) -> None:
        """Records the hold; released before we heard of it, it is released at once."""
        self._deposit_authorized(event_id, intent_id, amount, at, **self._ids())
        hold = self.deposit_hold
        if hold["status"] in (RELEASED, EXPIRED):
            release = self._deposit_expired if hold["status"] == EXPIRED else self._deposit_released
            release(event_id, amount - hold["captured"], at, **self._ids())

    @event("DepositAuthorized")
    def _deposit_authorized(
        self,
        event_id: str,
        intent_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.deposit_hold.update(seen=True, intent_id=intent_id, authorized=amount)
        self.deposit_hold.pop("declined", None)  # a retry with another card went through
        if self.deposit_hold["status"] == "none":
            self.deposit_hold["status"] = HELD
        self._seen(event_id, "DepositAuthorized", at)

    def record_deposit_captured(
        self, event_id: str, intent_id: str, amount: Money, fee: Money, at: datetime
    ) -> bool:
        """A (partial) capture of the hold for the owner; several may add up to the hold."""
        if self.has_processed(event_id):
            return False
        minor, fee_minor = self._minor(amount, "capture"), self._minor(fee, "fee", zero_ok=True)
        hold = self.deposit_hold
        implied = not hold["seen"]  # the capture arrived before the authorisation
        held = (self.deposit or minor) if implied else hold["authorized"]
        if hold["captured"] + minor > held:
            raise RuleViolation("deposit_capture_exceeds_hold", "captured more than was held")
        if implied:
            self._hold_known(event_id, intent_id, held, at)
        still_held = hold["authorized"] - hold["captured"] - hold["released"]
        self._deposit_captured(
            event_id=event_id,
            intent_id=intent_id,
            amount=minor,
            fee=fee_minor,
            memo_amount=max(0, min(minor, still_held)),
            at=at,
            **self._ids(),
            **self._owner_change(minor),
        )
        return True

    @event("DepositCaptured")
    def _deposit_captured(
        self,
        event_id: str,
        intent_id: str,
        amount: int,
        fee: int,
        memo_amount: int,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.deposit_hold["captured"] += amount
        self.deposit_hold["released"] -= amount - memo_amount
        self._apply_owner(owner_payable, owner_receivable)
        self._seen(event_id, "DepositCaptured", at)

    def record_deposit_released(
        self, event_id: str, at: datetime, *, expired: bool = False
    ) -> bool:
        """The hold's remainder is released (cancelled intent) or lapsed (`expired`)."""
        if self.has_processed(event_id) or self.deposit_hold["status"] in (RELEASED, EXPIRED):
            return False
        hold = self.deposit_hold
        remaining = hold["authorized"] - hold["captured"]
        method = self._deposit_expired if expired else self._deposit_released
        method(event_id, remaining, at, **self._ids())
        return True

    @event("DepositReleased")
    def _deposit_released(
        self,
        event_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.deposit_hold["status"] = RELEASED
        self.deposit_hold["released"] += amount
        self._seen(event_id, "DepositReleased", at)

    @event("DepositExpired")
    def _deposit_expired(
        self,
        event_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.deposit_hold["status"] = EXPIRED
        self.deposit_hold["released"] += amount
        self._seen(event_id, "DepositExpired", at)
