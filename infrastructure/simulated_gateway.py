"""A payment processor stand-in (the default outside production) that behaves like Stripe.

It keeps Stripe-shaped objects (payment intents, charges, refunds, transfers, accounts,
disputes) in its own tables, honours idempotency keys like Stripe (same key and parameters:
the stored answer, even after a lost reply; same key, other parameters: rejected), and reports
outcomes only through webhook events signed with Stripe's scheme and `webhook_secret`, handed
to the registered delivery callbacks — the same handler as `POST /payments/webhooks/stripe`.

Faults (declines, 5xx, timeouts before or after the work, lost replies, duplicated and
reordered deliveries) are drawn from a hash of (seed, idempotency key, attempt), so a run is
reproducible whatever the thread interleaving. Ids are derived from the seed and key too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from application.payment_gateway import (
    AccountRequest,
    AccountResult,
    CaptureRequest,
    CaptureResult,
    ChargeRequest,
    ChargeResult,
    DepositRequest,
    GatewayEvent,
    GatewayRejected,
    ObjectKind,
    OnboardingLink,
    OnboardingLinkRequest,
    PaymentGateway,
    ProcessorState,
    RefundRequest,
    RefundResult,
    ReleaseRequest,
    ReleaseResult,
    TransferRequest,
    TransferResult,
    TransferReversalRequest,
    TransferReversalResult,
)
from domain.money import Money
from infrastructure.simulated_card_network import SimulatedCardNetwork
from infrastructure.simulated_faults import Faults
from infrastructure.simulated_webhooks import DEFAULT_WEBHOOK_SECRET
from infrastructure.stripe_events import state_of

__all__ = ["DEFAULT_WEBHOOK_SECRET", "Faults", "SimulatedGateway"]


class SimulatedGateway(SimulatedCardNetwork, PaymentGateway):
    """Put together from its parts, each on the one before: storage (`simulated_storage.py`),
    webhooks (`simulated_webhooks.py`), the processor's work (`simulated_processor.py`) and
    the card network's side (`simulated_card_network.py`); this module is the port."""

    def __init__(
        self,
        engine: Engine,
        *,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        faults: Faults | None = None,
        auto_confirm: bool = False,
        deliver_immediately: bool = True,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """`auto_confirm`: a charge without a payment method is confirmed at once with the
        renter's card (as if the front end did it); else the dev endpoints or tests `settle`.
        `deliver_immediately`: webhooks go out when the call that caused them returns; else
        they wait for `deliver_pending()`."""
        super().__init__(engine, faults or Faults(), now or (lambda: datetime.now(UTC)))
        self.webhook_secret = webhook_secret
        self.auto_confirm = auto_confirm
        self.deliver_immediately = deliver_immediately
        self._deliveries = []
        self._attempts = Counter()
        self._batches = 0

    def create_charge(self, request: ChargeRequest) -> ChargeResult:
        params = _intent_params(request.payment_id, request.booking_id, request.amount, "charge")
        params |= {"capture_method": request.capture_method, "pm": request.payment_method}
        if request.order_id is not None:  # an order's one charge
            params["transfer_group"] = f"order:{request.order_id}"
            params["metadata"] = _order_metadata(request.payment_id, request.order_id)
        return _charge_result(self._call(request.idempotency_key, params, self._create_intent))

    def authorize_deposit(self, request: DepositRequest) -> ChargeResult:
        params = _intent_params(request.payment_id, request.booking_id, request.amount, "deposit")
        params |= {"capture_method": "manual", "pm": request.payment_method}
        return _charge_result(self._call(request.idempotency_key, params, self._create_intent))

    def capture(self, request: CaptureRequest) -> CaptureResult:
        params = {"intent": request.intent_id, "amount": _minor(request.amount)}
        intent = self._call(request.idempotency_key, params, self._capture)
        return CaptureResult(
            intent["id"],
            intent["status"],
            _money(intent["amount_received"], intent),
            intent["latest_charge"],
        )

    def capture_deposit(self, request: CaptureRequest) -> CaptureResult:
        return self.capture(request)

    def release_deposit(self, request: ReleaseRequest) -> ReleaseResult:
        intent = self._call(request.idempotency_key, {"intent": request.intent_id}, self._cancel)
        return ReleaseResult(intent["id"], intent["status"])

    def refund(self, request: RefundRequest) -> RefundResult:
        params = {
            "target": request.charge_id,
            "amount": request.amount.amount,
            "currency": request.amount.currency.lower(),
            "reason": request.reason,
            "metadata": _metadata(request.payment_id, request.booking_id, request.idempotency_key),
        }
        refund = self._call(request.idempotency_key, params, self._refund)
        return RefundResult(refund["id"], refund["status"])

    def transfer_to_owner(self, request: TransferRequest) -> TransferResult:
        params = {
            "amount": request.amount.amount,
            "currency": request.amount.currency.lower(),
            "destination": request.destination,
            "source_transaction": request.source_transaction,
            "transfer_group": str(request.booking_id),
            "metadata": _metadata(request.payment_id, request.booking_id, request.idempotency_key),
        }
        transfer = self._call(request.idempotency_key, params, self._transfer)
        return TransferResult(
            transfer["id"], _money(transfer["amount"], transfer), request.destination
        )

    def reverse_transfer(self, request: TransferReversalRequest) -> TransferReversalResult:
        params = {
            "transfer": request.transfer_id,
            "amount": request.amount.amount,
            "metadata": _metadata(request.payment_id, request.booking_id, request.idempotency_key),
        }
        reversal = self._call(request.idempotency_key, params, self._reverse)
        return TransferReversalResult(
            reversal["id"], reversal["transfer"], _money(reversal["amount"], reversal)
        )

    def create_connected_account(self, request: AccountRequest) -> AccountResult:
        params = {
            "email": request.email,
            "country": request.country,
            "metadata": {"owner_id": str(request.owner_id)},
        }
        account = self._call(request.idempotency_key, params, self._account)
        return AccountResult(account["id"], account["charges_enabled"], account["payouts_enabled"])

    def create_onboarding_link(self, request: OnboardingLinkRequest) -> OnboardingLink:
        params = {"account": request.account_id, "return_url": request.return_url}

        def work(conn: Connection, key: str, p: dict[str, Any]) -> dict[str, Any]:
            self._get(conn, p["account"], "account")
            expires = int((self.now() + timedelta(minutes=5)).timestamp())
            url = f"https://connect.simulated.rentbook.dev/setup/{p['account']}"
            return {"object": "account_link", "url": url, "expires_at": expires}

        link = self._call(request.idempotency_key, params, work)
        return OnboardingLink(link["url"], datetime.fromtimestamp(link["expires_at"], UTC))

    def complete(self, event: GatewayEvent) -> GatewayEvent:
        """Like the Stripe adapter: a capture that carries no fee (one reconciliation
        synthesised) gets it from the charge's balance transaction."""
        if event.fee is not None or event.type != "payment_intent.succeeded":
            return event
        if not event.charge_id:
            return event
        with self.engine.connect() as conn:
            try:
                charge = self._get(conn, event.charge_id, "charge")
            except GatewayRejected:  # a hand-made event for a charge it never made
                return event
        txn = charge.get("balance_transaction")
        if not isinstance(txn, dict) or "fee" not in txn:
            return event
        return replace(event, fee=Money(int(txn["fee"]), str(txn["currency"]).upper()))

    def retrieve(self, kind: ObjectKind, object_id: str) -> ProcessorState:
        self._fault_before(f"retrieve:{object_id}")
        with self.engine.connect() as conn:
            return state_of(kind, self._get(conn, object_id, kind))


def _intent_params(payment_id: UUID, booking_id: UUID, amount: Money, step: str) -> dict[str, Any]:
    return {
        "amount": amount.amount,
        "currency": amount.currency.lower(),
        "transfer_group": str(booking_id),
        "metadata": {"payment_id": str(payment_id), "booking_id": str(booking_id), "step": step},
    }


def _order_metadata(payment_id: UUID, order_id: UUID) -> dict[str, str]:
    return {"payment_id": str(payment_id), "order_id": str(order_id), "step": "charge"}


def _metadata(payment_id: UUID, booking_id: UUID, key: str) -> dict[str, str]:
    step = key.rsplit(":", 1)[-1]
    return {"payment_id": str(payment_id), "booking_id": str(booking_id), "step": step}


def _charge_result(intent: dict[str, Any]) -> ChargeResult:
    return ChargeResult(
        intent["id"], intent["status"], intent["client_secret"], intent["latest_charge"]
    )


def _minor(amount: Money | None) -> int | None:
    return None if amount is None else amount.amount


def _money(amount: int, obj: dict[str, Any]) -> Money:
    return Money(int(amount), str(obj["currency"]).upper())
