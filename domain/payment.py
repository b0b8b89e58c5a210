"""Payment: one booking's money at the processor (id = uuid5 of the booking).

What the platform earns and what the owner is owed come from the booking's quote:
owner share = `quote.owner_payout` (subtotal + cleaning - commission); platform share =
total - owner_payout = service fee + commission + tax (the chart of accounts has no tax
liability yet, so collected tax is platform revenue). A partial capture splits pro rata,
rounded half up, the owner's part first.

`owner_balance` is what this booking owes its owner: captures and deposit captures raise it,
refunds and transfers lower it, transfer reversals raise it. Every event that moves it carries
the change split into `owner_payable` (the part of the balance above zero) and
`owner_receivable` (the part below zero: the owner was paid out and then money went back to the
renter), so the ledger needs nothing but the event.

Processor-driven commands take the processor's `event_id`, return False when it was handled
already (or the fact is already known), and accept any arrival order:
- a refund the processor reports that we did not request, or that arrives before the capture,
  is parked (`RefundParked`, no money) and applied when the capture makes room for it, as a
  `RefundRequested` + `RefundSucceeded` pair; a refund failure reported before its success
  wins (Stripe's final word), a failure after a success gives the money back;
- a transfer reversal before the transfer is parked and applied when the transfer is sent;
- chargeback facts imply their predecessors: funds reinstated or a loss imply the funds were
  withdrawn, funds withdrawn after a win are reinstated at once. Every chargeback event
  carries the dispute's amount and fee (Stripe sends the whole dispute object each time).
- a deposit capture before its authorisation implies the authorisation (of the booking's
  deposit); a release (or expiry) applies to whatever of the hold is not captured, whenever the
  hold becomes known; a capture after a release reverses no memo twice.
Refunds we request are limited to what was captured, minus refunds not failed, minus funds a
chargeback holds (`refundable`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, NotFoundError, RuleViolation
from domain.money import Money, round_half_up

PAYMENT_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/payment")

REQUESTED, SUCCEEDED, FAILED = "requested", "succeeded", "failed"
HELD, RELEASED, EXPIRED = "authorized", "released", "expired"


class Ids(TypedDict):
    booking_id: UUID
    owner_id: UUID
    currency: str


class OwnerChange(TypedDict):
    owner_payable: int
    owner_receivable: int


def payment_id_for(booking_id: UUID) -> UUID:
    return uuid5(PAYMENT_NS, str(booking_id))


def owner_split(before: int, after: int) -> tuple[int, int]:
    """The change of the owner's balance as (payable change, receivable change)."""
    return max(after, 0) - max(before, 0), max(-after, 0) - max(-before, 0)


class RefundExceedsCapturedError(ConflictError):
    def __init__(self, amount: int, refundable: int) -> None:
        super().__init__(
            "refund_exceeds_captured", f"refund of {amount} exceeds the refundable {refundable}"
        )


class Payment(Aggregate):
    @staticmethod
    def create_id(booking_id: UUID, **_: Any) -> UUID:
        return payment_id_for(booking_id)

    @classmethod
    def open(
        cls,
        booking_id: UUID,
        owner_id: UUID,
        renter_id: UUID,
        quote: dict[str, Any],
        deposit: Money | None,
        by: UUID,
        at: datetime,
    ) -> Payment:
        currency = str(quote["currency"])
        if deposit is not None and (deposit.currency != currency or deposit.amount <= 0):
            raise RuleViolation("bad_deposit", "a deposit is a positive amount in the currency")
        if not 0 <= int(quote["owner_payout"]) <= int(quote["total"]):
            raise RuleViolation("bad_quote", "the owner payout must be between 0 and the total")
        return cls(
            booking_id=booking_id,
            owner_id=owner_id,
            renter_id=renter_id,
            currency=currency,
            total=int(quote["total"]),
            owner_payout=int(quote["owner_payout"]),
            service_fee=int(quote["service_fee"]),
            commission=int(quote["commission"]),
            tax=int(quote["tax"]),
            deposit=deposit.amount if deposit else None,
            by=by,
            at=at,
        )

    @event("Created")
    def __init__(
        self,
        booking_id: UUID,
        owner_id: UUID,
        renter_id: UUID,
        currency: str,
        total: int,
        owner_payout: int,
        service_fee: int,
        commission: int,
        tax: int,
        deposit: int | None,
        by: UUID,
        at: datetime,
    ) -> None:
        self.booking_id, self.owner_id, self.renter_id = booking_id, owner_id, renter_id
        self.currency = currency
        self.total, self.owner_payout = total, owner_payout
        self.fees = {"service_fee": service_fee, "commission": commission, "tax": tax}
        self.deposit = deposit
        self.charge: dict[str, Any] = {
            "status": "created",
            "idempotency_key": None,
            "intent_id": None,
            "authorized": 0,
            "captured": 0,
            "fee": 0,
            "owner_share": 0,
            "platform_share": 0,
            "failure": "",
        }
        self.deposit_hold: dict[str, Any] = {
            "status": "none",
            "intent_id": None,
            "seen": False,  # the hold is known (reported, or implied by a capture)
            "authorized": 0,
            "captured": 0,
            "released": 0,
        }
        self.refunds: dict[str, dict[str, Any]] = {}
        self.refund_by_processor_id: dict[str, str] = {}
        self.parked_refunds: dict[str, dict[str, Any]] = {}
        self.failed_processor_refunds: list[str] = []
        self.owner_balance = 0
        self.transfer_due_at: str | None = None
        self.transfers: dict[str, dict[str, Any]] = {}
        self.parked_reversals: dict[str, dict[str, Any]] = {}
        self.reversal_ids: list[str] = []
        self.chargebacks: dict[str, dict[str, Any]] = {}
        self.processed: dict[str, str] = {}  # processor event id -> the first event it made
        self.created_at = self.updated_at = at

    # -- queries ------------------------------------------------------------------------

    def has_processed(self, event_id: str) -> bool:
        return event_id in self.processed

    @property
    def processed_event_ids(self) -> list[str]:
        return list(self.processed)

    def _active_refunds(self, key: str) -> int:
        return sum(r[key] for r in self.refunds.values() if r["status"] != FAILED)

    @property
    def refunded(self) -> int:
        """Refunds requested or succeeded (not failed), in minor units."""
        return self._active_refunds("amount")

    @property
    def held_by_chargebacks(self) -> int:
        return sum(c["withdrawn"] - c["reinstated"] for c in self.chargebacks.values())

    @property
    def refundable(self) -> int:
        return max(0, self.charge["captured"] - self.refunded - self.held_by_chargebacks)

    @property
    def deposit_capturable(self) -> int:
        hold = self.deposit_hold
        return hold["authorized"] - hold["captured"] if hold["status"] == HELD else 0

    def _ids(self) -> Ids:
        return Ids(booking_id=self.booking_id, owner_id=self.owner_id, currency=self.currency)

    def _owner_change(self, delta: int) -> OwnerChange:
        payable, receivable = owner_split(self.owner_balance, self.owner_balance + delta)
        return OwnerChange(owner_payable=payable, owner_receivable=receivable)

    def _minor(self, money: Money, what: str, *, zero_ok: bool = False) -> int:
        if money.currency != self.currency:
            raise RuleViolation("currency_mismatch", f"{what} is not in {self.currency}")
        if money.amount < 0 or (money.amount == 0 and not zero_ok):
            raise RuleViolation("bad_amount", f"{what} must be positive")
        return money.amount

    def _apply_owner(self, owner_payable: int, owner_receivable: int) -> None:
        self.owner_balance += owner_payable - owner_receivable

    def _seen(self, event_id: str, kind: str, at: datetime) -> None:
        self.processed.setdefault(event_id, kind)
        self.updated_at = at

    # -- charge -------------------------------------------------------------------------

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

    # -- refunds --------------------------------------------------------------------------

    def request_refund(
        self,
        refund_id: str,
        amount: Money,
        reason: str,
        by: UUID,
        role: str,
        at: datetime,
        owner_portion: Money | None = None,
    ) -> bool:
        """Records the decision to refund before the processor is asked; `owner_portion` is
        the part taken back from the owner (pro rata to the capture when not given)."""
        minor = self._minor(amount, "refund")
        if refund_id in self.refunds:
            if self.refunds[refund_id]["amount"] != minor:
                raise ConflictError("refund_id_reused", f"refund {refund_id} has another amount")
            return False
        if self.charge["status"] != "captured":
            raise ConflictError("not_captured", "nothing was captured to refund")
        if not reason.strip():
            raise RuleViolation("reason_required", "a refund needs a reason")
        if minor > self.refundable:
            raise RefundExceedsCapturedError(minor, self.refundable)
        portion = (
            None
            if owner_portion is None
            else self._minor(owner_portion, "owner portion", zero_ok=True)
        )
        owner = self._refund_split(minor, portion)
        self._refund_requested(
            refund_id=refund_id,
            amount=minor,
            owner_portion=owner,
            platform_portion=minor - owner,
            reason=reason,
            by=by,
            role=role,
            at=at,
            **self._ids(),
            **self._owner_change(-owner),
        )
        return True

    def _refund_split(self, amount: int, owner_portion: int | None) -> int:
        owner_share, captured = self.charge["owner_share"], self.charge["captured"]
        owner_left = owner_share - self._active_refunds("owner_portion")
        platform_left = self.charge["platform_share"] - self._active_refunds("platform_portion")
        lo, hi = max(0, amount - platform_left), min(amount, owner_left)
        if owner_portion is not None:
            if not lo <= owner_portion <= hi:
                raise RuleViolation("bad_refund_split", f"owner portion must be in [{lo}, {hi}]")
            return owner_portion
        before = self.refunded
        pro_rata = round_half_up(owner_share * (before + amount), captured) - round_half_up(
            owner_share * before, captured
        )
        return min(max(pro_rata, lo), hi)

    @event("RefundRequested")
    def _refund_requested(
        self,
        refund_id: str,
        amount: int,
        owner_portion: int,
        platform_portion: int,
        reason: str,
        by: UUID | None,
        role: str,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.refunds[refund_id] = {
            "amount": amount,
            "owner_portion": owner_portion,
            "platform_portion": platform_portion,
            "reason": reason,
            "status": REQUESTED,
            "processor_id": None,
            "requested_at": at.isoformat(),
        }
        self._apply_owner(owner_payable, owner_receivable)
        self.updated_at = at

    def record_refund_id(self, refund_id: str, processor_refund_id: str, at: datetime) -> bool:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise NotFoundError("refund_not_found", f"refund {refund_id} not found")
        other = self.refund_by_processor_id.get(processor_refund_id)
        if refund["processor_id"] not in (None, processor_refund_id) or other not in (
            None,
            refund_id,
        ):
            raise ConflictError("refund_id_mismatch", "the refund has another processor id")
        if refund["processor_id"] == processor_refund_id:
            return False
        self._refund_id_recorded(refund_id, processor_refund_id, at)
        return True

    @event("RefundIdRecorded")
    def _refund_id_recorded(self, refund_id: str, processor_refund_id: str, at: datetime) -> None:
        self.refunds[refund_id]["processor_id"] = processor_refund_id
        self.refund_by_processor_id[processor_refund_id] = refund_id
        self.updated_at = at

    def _known_refund(self, processor_refund_id: str, refund_id: str | None) -> str | None:
        if refund_id is not None and refund_id in self.refunds:
            return refund_id
        return self.refund_by_processor_id.get(processor_refund_id)

    def record_refund_succeeded(
        self,
        event_id: str,
        processor_refund_id: str,
        amount: Money,
        at: datetime,
        refund_id: str | None = None,
    ) -> bool:
        """`refund_id` is ours when the processor echoes it (metadata); unknown refunds were
        made at the processor (dashboard, or before we heard of the capture)."""
        if self.has_processed(event_id) or processor_refund_id in self.failed_processor_refunds:
            return False
        minor = self._minor(amount, "refund")
        known = self._known_refund(processor_refund_id, refund_id)
        if known is not None:
            refund = self.refunds[known]
            if refund["status"] != REQUESTED:
                return False
            if refund["amount"] != minor:
                raise ConflictError("refund_amount_mismatch", "the processor refunded another sum")
            self._refund_succeeded(event_id, known, processor_refund_id, minor, at, **self._ids())
            return True
        if processor_refund_id in self.parked_refunds or (
            f"processor:{processor_refund_id}" in self.refunds
        ):
            return False
        captured = self.charge["captured"]
        if self.charge["status"] == "captured" and minor <= captured - self.refunded:
            self._apply_processor_refund(event_id, processor_refund_id, minor, at)
        else:
            self._refund_parked(event_id, processor_refund_id, minor, at)
        return True

    def _apply_processor_refund(
        self, event_id: str, processor_refund_id: str, amount: int, at: datetime
    ) -> None:
        refund_id = f"processor:{processor_refund_id}"
        owner = self._refund_split(amount, None)
        self._refund_requested(
            refund_id=refund_id,
            amount=amount,
            owner_portion=owner,
            platform_portion=amount - owner,
            reason="refunded at the processor",
            by=None,
            role="processor",
            at=at,
            **self._ids(),
            **self._owner_change(-owner),
        )
        self._refund_succeeded(event_id, refund_id, processor_refund_id, amount, at, **self._ids())

    @event("RefundParked")
    def _refund_parked(
        self, event_id: str, processor_refund_id: str, amount: int, at: datetime
    ) -> None:
        self.parked_refunds[processor_refund_id] = {"amount": amount, "event_id": event_id}
        self._seen(event_id, "RefundParked", at)

    @event("RefundSucceeded")
    def _refund_succeeded(
        self,
        event_id: str,
        refund_id: str,
        processor_refund_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        refund = self.refunds[refund_id]
        refund.update(status=SUCCEEDED, processor_id=processor_refund_id)
        self.refund_by_processor_id[processor_refund_id] = refund_id
        self.parked_refunds.pop(processor_refund_id, None)
        self._seen(event_id, "RefundSucceeded", at)

    def record_refund_failed(
        self,
        event_id: str,
        processor_refund_id: str,
        reason: str,
        at: datetime,
        refund_id: str | None = None,
    ) -> bool:
        if self.has_processed(event_id):
            return False
        known = self._known_refund(processor_refund_id, refund_id)
        if known is None:
            if processor_refund_id in self.failed_processor_refunds:
                return False
            self._unknown_refund_failed(event_id, processor_refund_id, reason, at)
            return True
        refund = self.refunds[known]
        if refund["status"] == FAILED:
            return False
        self._refund_failed(
            event_id=event_id,
            refund_id=known,
            processor_refund_id=processor_refund_id,
            stage=refund["status"],
            amount=refund["amount"],
            platform_portion=refund["platform_portion"],
            reason=reason,
            at=at,
            **self._ids(),
            **self._owner_change(refund["owner_portion"]),
        )
        return True

    @event("RefundFailed")
    def _refund_failed(
        self,
        event_id: str,
        refund_id: str,
        processor_refund_id: str,
        stage: str,
        amount: int,
        platform_portion: int,
        reason: str,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.refunds[refund_id].update(status=FAILED, failure=reason)
        if processor_refund_id:
            self.refunds[refund_id]["processor_id"] = processor_refund_id
            self.refund_by_processor_id[processor_refund_id] = refund_id
        self._apply_owner(owner_payable, owner_receivable)
        self._seen(event_id, "RefundFailed", at)

    @event("UnknownRefundFailed")
    def _unknown_refund_failed(
        self, event_id: str, processor_refund_id: str, reason: str, at: datetime
    ) -> None:
        self.failed_processor_refunds.append(processor_refund_id)
        self.parked_refunds.pop(processor_refund_id, None)
        self._seen(event_id, "UnknownRefundFailed", at)

    # -- deposit hold ---------------------------------------------------------------------

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

    # -- owner transfer -------------------------------------------------------------------

    def schedule_transfer(self, due_at: datetime, by: UUID, at: datetime) -> bool:
        if self.transfer_due_at is not None:
            if self.transfer_due_at != due_at.isoformat():
                raise ConflictError("transfer_already_scheduled", "the payout has another time")
            return False
        self._transfer_scheduled(due_at, by, at)
        return True

    @event("TransferScheduled")
    def _transfer_scheduled(self, due_at: datetime, by: UUID, at: datetime) -> None:
        self.transfer_due_at = due_at.isoformat()
        self.updated_at = at

    def record_transfer_id(self, transfer_id: str, at: datetime) -> bool:
        if transfer_id in self.transfers:
            return False
        self._transfer_id_recorded(transfer_id, at)
        return True

    @event("TransferIdRecorded")
    def _transfer_id_recorded(self, transfer_id: str, at: datetime) -> None:
        self.transfers[transfer_id] = {"status": "created", "amount": 0, "reversed": 0}
        self.updated_at = at

    def record_transfer_sent(
        self, event_id: str, transfer_id: str, amount: Money, at: datetime
    ) -> bool:
        known = self.transfers.get(transfer_id)
        if self.has_processed(event_id) or (known is not None and known["status"] == "sent"):
            return False
        minor = self._minor(amount, "transfer")
        self._transfer_sent(
            event_id=event_id,
            transfer_id=transfer_id,
            amount=minor,
            at=at,
            **self._ids(),
            **self._owner_change(-minor),
        )
        for reversal_id, parked in list(self.parked_reversals.items()):
            if (
                parked["transfer_id"] == transfer_id
                and self._reversible(transfer_id) >= (parked["amount"])
            ):
                self._reverse(parked["event_id"], transfer_id, reversal_id, parked["amount"], at)
        return True

    @event("TransferSent")
    def _transfer_sent(
        self,
        event_id: str,
        transfer_id: str,
        amount: int,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.transfers[transfer_id] = {"status": "sent", "amount": amount, "reversed": 0}
        self._apply_owner(owner_payable, owner_receivable)
        self._seen(event_id, "TransferSent", at)

    def _reversible(self, transfer_id: str) -> int:
        transfer = self.transfers.get(transfer_id)
        if transfer is None or transfer["status"] != "sent":
            return 0
        return int(transfer["amount"] - transfer["reversed"])

    def record_transfer_reversed(
        self, event_id: str, transfer_id: str, reversal_id: str, amount: Money, at: datetime
    ) -> bool:
        if (
            self.has_processed(event_id)
            or reversal_id in self.reversal_ids
            or reversal_id in self.parked_reversals
        ):
            return False
        minor = self._minor(amount, "reversal")
        if self._reversible(transfer_id) >= minor:
            self._reverse(event_id, transfer_id, reversal_id, minor, at)
        else:
            self._transfer_reversal_parked(event_id, transfer_id, reversal_id, minor, at)
        return True

    def _reverse(
        self, event_id: str, transfer_id: str, reversal_id: str, amount: int, at: datetime
    ) -> None:
        self._transfer_reversed(
            event_id=event_id,
            transfer_id=transfer_id,
            reversal_id=reversal_id,
            amount=amount,
            at=at,
            **self._ids(),
            **self._owner_change(amount),
        )

    @event("TransferReversalParked")
    def _transfer_reversal_parked(
        self, event_id: str, transfer_id: str, reversal_id: str, amount: int, at: datetime
    ) -> None:
        self.parked_reversals[reversal_id] = {
            "transfer_id": transfer_id,
            "amount": amount,
            "event_id": event_id,
        }
        self._seen(event_id, "TransferReversalParked", at)

    @event("TransferReversed")
    def _transfer_reversed(
        self,
        event_id: str,
        transfer_id: str,
        reversal_id: str,
        amount: int,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.transfers[transfer_id]["reversed"] += amount
        self.reversal_ids.append(reversal_id)
        self.parked_reversals.pop(reversal_id, None)
        self._apply_owner(owner_payable, owner_receivable)
        self._seen(event_id, "TransferReversed", at)

    # -- processor disputes (chargebacks) -------------------------------------------------

    def open_chargeback(
        self, event_id: str, dispute_id: str, amount: Money, fee: Money, reason: str, at: datetime
    ) -> bool:
        if self.has_processed(event_id) or dispute_id in self.chargebacks:
            return False
        self._open_chargeback(event_id, dispute_id, amount, fee, reason, at)
        return True

    def _open_chargeback(
        self, event_id: str, dispute_id: str, amount: Money, fee: Money, reason: str, at: datetime
    ) -> dict[str, Any]:
        if dispute_id not in self.chargebacks:
            minor, fee_minor = self._minor(amount, "dispute"), self._minor(fee, "fee", zero_ok=True)
            self._chargeback_opened(event_id, dispute_id, minor, fee_minor, reason, at)
        return self.chargebacks[dispute_id]

    @event("ChargebackOpened")
    def _chargeback_opened(
        self, event_id: str, dispute_id: str, amount: int, fee: int, reason: str, at: datetime
    ) -> None:
        self.chargebacks[dispute_id] = {
            "amount": amount,
            "fee": fee,
            "reason": reason,
            "status": "open",
            "withdrawn": 0,
            "reinstated": 0,
            "withdrawn_once": False,
        }
        self._seen(event_id, "ChargebackOpened", at)

    def record_chargeback_funds_withdrawn(
        self, event_id: str, dispute_id: str, amount: Money, fee: Money, at: datetime
    ) -> bool:
        if self.has_processed(event_id):
            return False
        minor, fee_minor = self._minor(amount, "dispute"), self._minor(fee, "fee", zero_ok=True)
        dispute = self._open_chargeback(event_id, dispute_id, amount, fee, "", at)
        if dispute["withdrawn_once"]:
            return False
        self._withdraw(event_id, dispute_id, minor, fee_minor, at)
        if dispute["status"] == "won":
            self._reinstate(event_id, dispute_id, at)
        return True

    def _withdraw(
        self, event_id: str, dispute_id: str, amount: int, fee: int, at: datetime
    ) -> None:
        self._chargeback_funds_withdrawn(event_id, dispute_id, amount, fee, at, **self._ids())

    def _reinstate(self, event_id: str, dispute_id: str, at: datetime) -> None:
        amount = self.chargebacks[dispute_id]["withdrawn"]
        self._chargeback_funds_reinstated(event_id, dispute_id, amount, at, **self._ids())

    @event("ChargebackFundsWithdrawn")
    def _chargeback_funds_withdrawn(
        self,
        event_id: str,
        dispute_id: str,
        amount: int,
        fee: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.chargebacks[dispute_id].update(withdrawn=amount, withdrawn_once=True)
        self._seen(event_id, "ChargebackFundsWithdrawn", at)

    def record_chargeback_funds_reinstated(
        self, event_id: str, dispute_id: str, amount: Money, fee: Money, at: datetime
    ) -> bool:
        """The disputed amount comes back; the dispute fee stays an expense."""
        if self.has_processed(event_id):
            return False
        dispute = self._open_chargeback(event_id, dispute_id, amount, fee, "", at)
        if dispute["reinstated"] or dispute["status"] == "lost":
            return False
        if not dispute["withdrawn_once"]:
            self._withdraw(event_id, dispute_id, dispute["amount"], dispute["fee"], at)
        self._reinstate(event_id, dispute_id, at)
        return True

    @event("ChargebackFundsReinstated")
    def _chargeback_funds_reinstated(
        self,
        event_id: str,
        dispute_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.chargebacks[dispute_id]["reinstated"] = amount
        self._seen(event_id, "ChargebackFundsReinstated", at)

    def close_chargeback(
        self,
        event_id: str,
        dispute_id: str,
        outcome: str,
        amount: Money,
        fee: Money,
        at: datetime,
    ) -> bool:
        if outcome not in ("won", "lost"):
            raise RuleViolation("bad_chargeback_outcome", "a chargeback is won or lost")
        if self.has_processed(event_id):
            return False
        dispute = self._open_chargeback(event_id, dispute_id, amount, fee, "", at)
        if dispute["status"] != "open":
            return False
        if outcome == "won":
            if dispute["withdrawn"] and not dispute["reinstated"]:
                self._reinstate(event_id, dispute_id, at)
            self._chargeback_won(event_id, dispute_id, at)
            return True
        if not dispute["withdrawn_once"]:
            self._withdraw(event_id, dispute_id, dispute["amount"], dispute["fee"], at)
        lost = dispute["withdrawn"] - dispute["reinstated"]
        self._chargeback_lost(event_id, dispute_id, lost, at, **self._ids())
        return True

    @event("ChargebackWon")
    def _chargeback_won(self, event_id: str, dispute_id: str, at: datetime) -> None:
        self.chargebacks[dispute_id]["status"] = "won"
        self._seen(event_id, "ChargebackWon", at)

    @event("ChargebackLost")
    def _chargeback_lost(
        self,
        event_id: str,
        dispute_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.chargebacks[dispute_id]["status"] = "lost"
        self._seen(event_id, "ChargebackLost", at)
