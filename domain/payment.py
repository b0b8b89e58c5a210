"""Payment: one booking's money at the processor (id = uuid5 of the booking).

What the platform earns and what the owner is owed come from the booking's quote:
owner share = `quote.owner_payout` (subtotal + cleaning - commission); platform share =
total - owner_payout = service fee + commission + tax (the chart of accounts has no tax
liability yet, so collected tax is platform revenue), less the discount of a coupon the
platform funds (`promotion`, noted at opening; its `PromotionFunded` event at the capture
is booked as `expenses:promotions`). A partial
capture splits pro rata, rounded half up, the owner's part first.

`owner_balance` is what this booking owes its owner: captures and deposit captures raise it,
refunds and transfers lower it, transfer reversals raise it. Every event that moves it carries
the change split into `owner_payable` (the part of the balance above zero) and
`owner_receivable` (the part below zero: the owner was paid out and then money went back to the
renter), so the ledger needs nothing but the event.

Processor-driven commands take the processor's `event_id`, return False when it was handled
already (or the fact is already known), and accept any arrival order; each part says how:
the charge (`payment_charge.py`), refunds (`payment_refunds.py`), the deposit hold
(`payment_deposit.py`), transfers to the owner (`payment_transfers.py`) and chargebacks
(`payment_chargebacks.py`), on the shared state of `payment_state.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleViolation
from domain.money import Money
from domain.payment_charge import PaymentCharge
from domain.payment_chargebacks import PaymentChargebacks
from domain.payment_deposit import PaymentDeposit
from domain.payment_refunds import PaymentRefunds, RefundExceedsCapturedError
from domain.payment_state import (
    EXPIRED,
    FAILED,
    HELD,
    RELEASED,
    REQUESTED,
    SUCCEEDED,
    Ids,
    OwnerChange,
    event_methods,
    owner_split,
)
from domain.payment_transfers import PaymentTransfers

__all__ = [
    "EXPIRED",
    "FAILED",
    "HELD",
    "PAYMENT_NS",
    "RELEASED",
    "REQUESTED",
    "SUCCEEDED",
    "Ids",
    "OwnerChange",
    "Payment",
    "RefundExceedsCapturedError",
    "owner_split",
    "payment_id_for",
]

PAYMENT_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/payment")


def payment_id_for(booking_id: UUID) -> UUID:
    return uuid5(PAYMENT_NS, str(booking_id))


def platform_funded_discount(quote: dict[str, Any]) -> int:
    """What the platform pays of the renter's price: its coupon's discount, if it funds one."""
    return (
        int(quote.get("coupon_discount", 0)) if quote.get("coupon_funded_by") == "platform" else 0
    )


class Payment(PaymentCharge, PaymentDeposit, PaymentTransfers, PaymentChargebacks, Aggregate):
    # The parts' @event methods go in this class body, where the library makes their event
    # classes: each stays Payment.<Name> in this module, the topic its stored events carry.
    locals().update(
        event_methods(
            PaymentCharge, PaymentRefunds, PaymentDeposit, PaymentTransfers, PaymentChargebacks
        )
    )

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
        payment = cls(
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
        promotion = platform_funded_discount(quote)
        if promotion:  # a separate event: payments without coupons store what they always did
            payment._promotion_noted(promotion, at)
        return payment

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
        self.promotion = 0  # a platform-funded coupon's discount (PromotionNoted)
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

    @event("PromotionNoted")
    def _promotion_noted(self, amount: int, at: datetime) -> None:
        self.promotion = amount
