"""Processor webhooks: verify the `Stripe-Signature`, then normalise the event.

Used by `POST /payments/webhooks/stripe` and by the simulated gateway's deliveries alike (the
simulator signs with the same scheme), so one handler serves both.

What each normalised field holds, per type (object = `data.object`; amounts in its currency):

- payment_intent.succeeded: object pi_, amount = amount_received, charge_id = latest_charge,
  fee = latest_charge.balance_transaction.fee when expanded (simulator) else None
  (`StripeGateway.complete` retrieves it).
- payment_intent.payment_failed: amount = amount, reason = last_payment_error.decline_code
  (or code, or message).
- payment_intent.amount_capturable_updated: amount = amount_capturable (the authorisation).
- payment_intent.canceled: amount = amount, reason = cancellation_reason.
- charge.refunded: object ch_, amount = amount_refunded (the running total), refund_id = the
  newest listed refund, fee = balance_transaction.fee when expanded.
- refund.updated | refund.failed: object re_, amount, status, reason = failure_reason.
- charge.dispute.created | funds_withdrawn | funds_reinstated | closed: object dp_, amount,
  status (needs_response ... won | lost), reason, fee = sum of balance_transactions[].fee
  (withdrawals' fees on funds_withdrawn, the reinstatement's on funds_reinstated).
- transfer.created: object tr_, amount, account_id = destination, charge_id =
  source_transaction, status paid.
- transfer.reversed: amount = amount_reversed (running total), reversal_id = newest reversal,
  status reversed | partially_reversed.
- account.updated: account_id, charges_enabled, payouts_enabled, status enabled | restricted.

payment/booking ids come from the object's metadata (set by our adapter on every intent, refund
and transfer; Stripe copies an intent's metadata to its charges). Disputes carry none: resolve
them by `intent_id`/`charge_id`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from application.payment_gateway import GatewayEvent, ObjectKind, ProcessorState
from domain.money import Money

HANDLED_TYPES = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.amount_capturable_updated",
        "payment_intent.canceled",
        "charge.refunded",
        "refund.updated",
        "refund.failed",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
        "transfer.created",
        "transfer.reversed",
        "account.updated",
    }
)


class InvalidSignature(Exception):
    """The webhook is not from the processor (or is stale, or malformed): answer 400 and
    record nothing."""


def verify_and_parse(
    payload: bytes, sig_header: str, secret: str, tolerance: int = 300
) -> GatewayEvent | None:
    """Verifies the signature with the SDK's own check, then normalises. Unknown event types
    give None: acknowledge them (2xx) and ignore them."""
    import stripe  # here: with the simulated gateway the SDK (and httpx, rich...) waits until
    # the first webhook, ~6 MB a process that takes none never holds

    try:
        stripe.WebhookSignature.verify_header(payload, sig_header, secret, tolerance)
        data = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise InvalidSignature(str(error)) from None
    if not isinstance(data, dict) or data.get("object") != "event":
        raise InvalidSignature("not a processor event")
    return normalise(data)


def normalise(event: dict[str, Any]) -> GatewayEvent | None:
    kind = str(event.get("type", ""))
    if kind not in HANDLED_TYPES:
        return None
    obj: dict[str, Any] = event["data"]["object"]
    common: dict[str, Any] = {
        "id": str(event["id"]),
        "type": kind,
        "object_id": str(obj.get("id", "")),
        "created": datetime.fromtimestamp(int(event.get("created", 0)), UTC),
        "livemode": bool(event.get("livemode", False)),
        **_metadata_ids(obj.get("metadata") or {}),
    }
    family = kind.split(".", 1)[0]
    if kind.startswith("charge.dispute."):
        return GatewayEvent(**common, **_dispute_fields(obj, kind))
    parse = _PARSERS[family]
    return GatewayEvent(**common, **parse(obj))


def _metadata_ids(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "payment_id": _uuid(metadata.get("payment_id")),
        "booking_id": _uuid(metadata.get("booking_id")),
        "owner_id": _uuid(metadata.get("owner_id")),
        "step": str(metadata.get("step", "")),
    }


def _payment_intent(obj: dict[str, Any]) -> dict[str, Any]:
    status = str(obj.get("status", ""))
    error = obj.get("last_payment_error") or {}
    reason = str(
        obj.get("cancellation_reason")
        or error.get("decline_code")
        or error.get("code")
        or error.get("message")
        or ""
    )
    field = {"succeeded": "amount_received", "requires_capture": "amount_capturable"}.get(
        status, "amount"
    )
    latest = obj.get("latest_charge")
    charge = latest if isinstance(latest, dict) else None
    return {
        "charge_id": _id(latest),
        "amount": _money(obj.get(field), obj),
        "intent_id": obj.get("id"),
        "status": status,
        "reason": reason,
        "fee": _fee(charge.get("balance_transaction")) if charge else None,
    }


def _charge(obj: dict[str, Any]) -> dict[str, Any]:
    refunds = (obj.get("refunds") or {}).get("data") or []
    return {
        "charge_id": obj.get("id"),
        "amount": _money(obj.get("amount_refunded"), obj),
        "intent_id": _id(obj.get("payment_intent")),
        "status": str(obj.get("status", "")),
        "refund_id": _id(refunds[0]) if refunds else None,  # Stripe lists newest first
        "fee": _fee(obj.get("balance_transaction")),
    }


def _refund(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "charge_id": _id(obj.get("charge")),
        "amount": _money(obj.get("amount"), obj),
        "intent_id": _id(obj.get("payment_intent")),
        "status": str(obj.get("status", "")),
        "reason": str(obj.get("failure_reason") or ""),
        "refund_id": obj.get("id"),
    }


def _dispute_fields(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    # funds_withdrawn: the withdrawal's fee (the dispute fee); funds_reinstated: the
    # reinstatement's fee (negative when the fee comes back); other types carry no fee.
    sign = {"charge.dispute.funds_withdrawn": -1, "charge.dispute.funds_reinstated": 1}.get(kind)
    transactions = [t for t in obj.get("balance_transactions") or [] if isinstance(t, dict)]
    fees = [int(t.get("fee", 0)) for t in transactions if sign and int(t["amount"]) * sign > 0]
    return {
        "charge_id": _id(obj.get("charge")),
        "amount": _money(obj.get("amount"), obj),
        "intent_id": _id(obj.get("payment_intent")),
        "status": str(obj.get("status", "")),
        "reason": str(obj.get("reason") or ""),
        "dispute_id": obj.get("id"),
        "fee": Money(int(sum(fees)), _currency(obj)) if fees else None,
    }


def _transfer(obj: dict[str, Any]) -> dict[str, Any]:
    reversals = (obj.get("reversals") or {}).get("data") or []
    reversed_amount = int(obj.get("amount_reversed") or 0)
    if reversed_amount == 0:
        status = "paid"
    else:
        status = "reversed" if obj.get("reversed") else "partially_reversed"
    return {
        "charge_id": _id(obj.get("source_transaction")),
        "amount": _money(reversed_amount or obj.get("amount"), obj),
        "status": status,
        "transfer_id": obj.get("id"),
        "reversal_id": _id(reversals[0]) if reversals else None,  # newest first
        "account_id": _id(obj.get("destination")),
    }


def _account(obj: dict[str, Any]) -> dict[str, Any]:
    charges, payouts = bool(obj.get("charges_enabled")), bool(obj.get("payouts_enabled"))
    return {
        "charge_id": None,
        "amount": None,
        "status": "enabled" if charges and payouts else "restricted",
        "account_id": obj.get("id"),
        "charges_enabled": charges,
        "payouts_enabled": payouts,
    }


def state_of(kind: ObjectKind, obj: Mapping[str, Any]) -> ProcessorState:
    """A processor object (Stripe's JSON shape) as the reconciliation needs it."""
    metadata = obj.get("metadata") or {}
    currency = str(obj.get("currency") or "").upper()

    def money(field: str) -> Money | None:
        value = obj.get(field)
        return None if value is None or not currency else Money(int(value), currency)

    status = str(obj.get("status") or "")
    if kind == "transfer":
        reversed_amount = int(obj.get("amount_reversed") or 0)
        status = (
            "paid"
            if not reversed_amount
            else ("reversed" if obj.get("reversed") else "partially_reversed")
        )
    if kind == "account":
        enabled = bool(obj.get("charges_enabled")) and bool(obj.get("payouts_enabled"))
        status = "enabled" if enabled else "restricted"
    return ProcessorState(
        kind=kind,
        id=str(obj["id"]),
        status=status,
        amount=money("amount"),
        amount_received=money("amount_received" if kind == "payment_intent" else "amount_captured"),
        amount_capturable=money("amount_capturable"),
        amount_refunded=money("amount_reversed" if kind == "transfer" else "amount_refunded"),
        charge_id=_id(obj.get("latest_charge") or obj.get("charge")),
        intent_id=_id(obj.get("payment_intent"))
        or (obj["id"] if kind == "payment_intent" else None),
        payment_id=_uuid(metadata.get("payment_id")),
        booking_id=_uuid(metadata.get("booking_id")),
        charges_enabled=obj.get("charges_enabled"),
        payouts_enabled=obj.get("payouts_enabled"),
    )


_PARSERS = {
    "payment_intent": _payment_intent,
    "charge": _charge,
    "refund": _refund,
    "transfer": _transfer,
    "account": _account,
}


def _id(value: Any) -> str | None:
    """An expandable field: an id, an expanded object, or null."""
    if isinstance(value, dict):
        return str(value["id"]) if "id" in value else None
    return None if value is None else str(value)


def _fee(balance_transaction: Any) -> Money | None:
    if not isinstance(balance_transaction, dict) or "fee" not in balance_transaction:
        return None  # not expanded: `PaymentGateway.complete` reads it
    return Money(int(balance_transaction["fee"]), str(balance_transaction["currency"]).upper())


def _currency(obj: dict[str, Any]) -> str:
    return str(obj.get("currency", "")).upper()


def _money(amount: Any, obj: dict[str, Any]) -> Money | None:
    return None if amount is None or not obj.get("currency") else Money(int(amount), _currency(obj))


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None
