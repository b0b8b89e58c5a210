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

import hashlib
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
import stripe
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
    GatewayDeclined,
    GatewayListener,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
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
    WebhookDelivery,
)
from domain.errors import ConflictError, NotFoundError
from domain.money import Money
from infrastructure.stripe_events import state_of, verify_and_parse
from projections.base import write_transaction

log = logging.getLogger(__name__)
DEFAULT_WEBHOOK_SECRET = "whsec_rentbook_simulated"
DECLINING_CARDS = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedExpiredCard": "expired_card",
}
DISPUTE_FEE = 1500  # minor units, like Stripe's 15.00

metadata = sa.MetaData()
objects = sa.Table(
    "simulated_objects",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payment_id", sa.String(36), index=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)
idempotency = sa.Table(
    "simulated_idempotency",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=False),
)
outbox = sa.Table(
    "simulated_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),  # pending|claimed|delivered
)


@dataclass(frozen=True)
class Faults:
    """Per-instance fault injection; rates are probabilities per attempt."""

    seed: int = 0
    decline_rate: float = 0.0
    declined_cards: dict[str, str] = field(default_factory=lambda: dict(DECLINING_CARDS))
    error_rate: float = 0.0  # 5xx before any work
    timeout_rate: float = 0.0  # GatewayTimeout; half of them after the work was done
    lost_reply_rate: float = 0.0  # the work is done, the caller gets GatewayUnavailable
    duplicate_rate: float = 0.0  # a delivery is repeated 1-3 more times
    reorder: bool = False  # each batch of deliveries is shuffled


class SimulatedGateway(PaymentGateway):
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
        self.engine = engine
        self.webhook_secret = webhook_secret
        self.faults = faults or Faults()
        self.auto_confirm = auto_confirm
        self.deliver_immediately = deliver_immediately
        self.now = now or (lambda: datetime.now(UTC))
        self._deliveries: list[WebhookDelivery] = []
        self._attempts: Counter[str] = Counter()
        self._batches = 0
        self._lock = threading.RLock()
        with write_transaction(engine) as conn:  # BEGIN IMMEDIATE: SQLite waits for writers
            metadata.create_all(conn)

    # -- webhooks ----------------------------------------------------------------------------

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
            if event.step == "charge" and event.type in _LEGACY:
                event = replace(event, type=_LEGACY[event.type])
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
            if self._draw(f"dup:{seq}", batch) < self.faults.duplicate_rate:
                copies += 1 + int(self._draw(f"dups:{seq}", batch) * 3)
            plan.extend([(seq, payload)] * copies)
        if self.faults.reorder:
            random.Random(f"{self.faults.seed}:{batch}").shuffle(plan)
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

    # -- the port ----------------------------------------------------------------------------

    def create_charge(self, request: ChargeRequest) -> ChargeResult:
        params = _intent_params(request.payment_id, request.booking_id, request.amount, "charge")
        params |= {"capture_method": request.capture_method, "pm": request.payment_method}
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

    def retrieve(self, kind: ObjectKind, object_id: str) -> ProcessorState:
        self._fault_before(f"retrieve:{object_id}")
        with self.engine.connect() as conn:
            return state_of(kind, self._get(conn, object_id, kind))

    # -- the card network's side (dev endpoints and tests) -----------------------------------

    def settle(
        self, payment_id: UUID, *, succeed: bool, reason: str = "", step: str = "charge"
    ) -> ProcessorState:
        """Confirms (or declines) the payment's newest unconfirmed intent for `step`."""
        with self._lock, write_transaction(self.engine) as conn:
            rows = conn.execute(
                sa.select(objects.c.data)
                .where(objects.c.payment_id == str(payment_id), objects.c.kind == "payment_intent")
                .order_by(objects.c.seq.desc())
            ).all()
            intents = [json.loads(r.data) for r in rows]
            intents = [i for i in intents if i["metadata"]["step"] == step]
            if not intents:
                raise NotFoundError("payment_not_found", f"payment {payment_id} not found")
            intent = intents[0]
            if intent["status"] not in ("requires_confirmation", "requires_payment_method"):
                raise ConflictError("payment_settled", f"the charge is already {intent['status']}")
            decline = "" if succeed else (reason or "card_declined")
            self._confirm(conn, intent, decline)
        self._after_work()
        return state_of("payment_intent", intent)

    def complete_onboarding(self, account_id: str) -> None:
        with self._lock, write_transaction(self.engine) as conn:
            account = self._get(conn, account_id, "account")
            account |= {"charges_enabled": True, "payouts_enabled": True, "details_submitted": True}
            self._put(conn, account, "account.updated")
        self._after_work()

    def expire_authorization(self, intent_id: str) -> None:
        """Stripe cancels an uncaptured authorisation after 7 days."""
        with self._lock, write_transaction(self.engine) as conn:
            intent = self._get(conn, intent_id, "payment_intent")
            if intent["status"] != "requires_capture":
                raise ConflictError("not_authorized", f"the intent is {intent['status']}")
            intent |= {"status": "canceled", "cancellation_reason": "automatic"}
            intent["amount_capturable"] = 0
            self._put(conn, intent, "payment_intent.canceled")
        self._after_work()

    def fail_refund(self, refund_id: str, reason: str = "expired_or_canceled_card") -> None:
        with self._lock, write_transaction(self.engine) as conn:
            refund = self._get(conn, refund_id, "refund")
            refund |= {"status": "failed", "failure_reason": reason}
            charge = self._get(conn, refund["charge"], "charge")
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            self._put(conn, charge)
            self._put(conn, refund, "refund.failed")
        self._after_work()

    def open_dispute(self, intent_id: str, *, reason: str = "fraudulent") -> str:
        """A chargeback on the intent's charge: created, then the funds withdrawn."""
        with self._lock, write_transaction(self.engine) as conn:
            intent = self._get(conn, intent_id, "payment_intent")
            charge = self._get(conn, intent["latest_charge"], "charge")
            amount = charge["amount_captured"] - charge["amount_refunded"]
            dispute = {
                "id": self._new_id("dp", f"dispute:{charge['id']}"),
                "object": "dispute",
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": intent_id,
                "reason": reason,
                "status": "needs_response",
                "balance_transactions": [],
                "metadata": {},  # as at Stripe: resolve by charge or intent id
            }
            self._put(conn, dispute, "charge.dispute.created")
            dispute["balance_transactions"] = [
                _txn(dispute["id"] + ":w", -amount, DISPUTE_FEE, charge["currency"])
            ]
            dispute["status"] = "needs_response"
            self._put(conn, dispute, "charge.dispute.funds_withdrawn")
        self._after_work()
        return str(dispute["id"])

    def close_dispute(self, dispute_id: str, *, won: bool) -> None:
        with self._lock, write_transaction(self.engine) as conn:
            dispute = self._get(conn, dispute_id, "dispute")
            dispute["status"] = "won" if won else "lost"
            if won:  # the amount comes back; the dispute fee does not
                dispute["balance_transactions"].append(
                    _txn(dispute_id + ":r", dispute["amount"], 0, dispute["currency"])
                )
                self._put(conn, dispute, "charge.dispute.funds_reinstated")
            self._put(conn, dispute, "charge.dispute.closed")
        self._after_work()

    # -- idempotent calls with faults --------------------------------------------------------

    def _call(
        self,
        key: str,
        params: dict[str, Any],
        work: Callable[[Connection, str, dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        attempt = self._fault_before(key)
        late = self._draw(f"late:{key}", attempt) < 0.5
        fingerprint = hashlib.sha256(
            json.dumps(params, sort_keys=True, default=str).encode()
        ).hexdigest()
        with self._lock, write_transaction(self.engine) as conn:
            row = conn.execute(sa.select(idempotency).where(idempotency.c.key == key)).first()
            if row is not None:
                if row.fingerprint != fingerprint:
                    raise GatewayRejected(
                        "idempotency_error", f"idempotency key {key} reused with other parameters"
                    )
                response = json.loads(row.response)
            else:
                response = work(conn, key, params)  # GatewayRejected rolls back, stores nothing
                conn.execute(
                    idempotency.insert().values(
                        key=key, fingerprint=fingerprint, response=json.dumps(response)
                    )
                )
        self._after_work()
        if self._draw(f"timeout:{key}", attempt) < self.faults.timeout_rate and late:
            raise GatewayTimeout("processor_timeout", "simulated timeout after the work")
        if self._draw(f"lost:{key}", attempt) < self.faults.lost_reply_rate:
            raise GatewayUnavailable("processor_unavailable", "simulated lost reply")
        if "_declined" in response:
            raise GatewayDeclined(response["_declined"], "the card was declined")
        return response

    def _fault_before(self, key: str) -> int:
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
        if self._draw(f"error:{key}", attempt) < self.faults.error_rate:
            raise GatewayUnavailable("processor_unavailable", "simulated 500")
        timeout = self._draw(f"timeout:{key}", attempt) < self.faults.timeout_rate
        if timeout and self._draw(f"late:{key}", attempt) >= 0.5:
            raise GatewayTimeout("processor_timeout", "simulated timeout before the work")
        return attempt

    def _draw(self, what: str, attempt: int) -> float:
        digest = hashlib.sha256(f"{self.faults.seed}:{what}:{attempt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def _after_work(self) -> None:
        if self.deliver_immediately:
            self.deliver_pending()

    # -- the processor's work (inside one transaction, under the lock) -----------------------

    def _create_intent(self, conn: Connection, key: str, p: dict[str, Any]) -> dict[str, Any]:
        intent = {
            "id": self._new_id("pi", key),
            "object": "payment_intent",
            "amount": p["amount"],
            "amount_capturable": 0,
            "amount_received": 0,
            "currency": p["currency"],
            "capture_method": p["capture_method"],
            "status": "requires_confirmation",
            "latest_charge": None,
            "last_payment_error": None,
            "cancellation_reason": None,
            "transfer_group": p["transfer_group"],
            "metadata": p["metadata"],
        }
        intent["client_secret"] = f"{intent['id']}_secret_{key[-8:].replace(':', '')}"
        self._put(conn, intent)
        card = p["pm"] or ("pm_card_visa" if self.auto_confirm else None)
        if card is None:
            return intent
        decline = self.faults.declined_cards.get(card, "")
        if not decline and self._draw(f"decline:{key}", 0) < self.faults.decline_rate:
            decline = "generic_decline"
        self._confirm(conn, intent, decline)
        if decline and p["pm"]:  # a server-side confirmation answers 402, like Stripe
            return {"_declined": decline, **intent}
        return intent

    def _confirm(self, conn: Connection, intent: dict[str, Any], decline: str) -> None:
        charge = {
            "id": self._new_id("ch", f"charge:{intent['id']}:{intent['latest_charge']}"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "failed" if decline else "succeeded",
            "captured": False,
            "refunded": False,
            "balance_transaction": None,
            "transfer_group": intent["transfer_group"],
            "metadata": intent["metadata"],  # Stripe copies the intent's metadata
        }
        intent["latest_charge"] = charge["id"]
        if decline:
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline,
                "message": "Your card was declined.",
            }
            self._put(conn, charge)
            self._put(conn, intent, "payment_intent.payment_failed")
        elif intent["capture_method"] == "manual":
            intent["status"] = "requires_capture"
            intent["amount_capturable"] = intent["amount"]
            self._put(conn, charge)
            self._put(conn, intent, "payment_intent.amount_capturable_updated")
        else:
            self._capture_charge(conn, intent, charge, intent["amount"])

    def _capture_charge(
        self, conn: Connection, intent: dict[str, Any], charge: dict[str, Any], amount: int
    ) -> None:
        fee = round(amount * 0.015) + 25  # the "processor-reported" fee, deterministic
        charge |= {"amount_captured": amount, "captured": True}
        charge["balance_transaction"] = _txn(charge["id"], amount, fee, charge["currency"])
        intent |= {"status": "succeeded", "amount_received": amount, "amount_capturable": 0}
        self._put(conn, charge)
        self._put(conn, intent, "payment_intent.succeeded", expand_charge=charge)

    def _capture(self, conn: Connection, key: str, p: dict[str, Any]) -> dict[str, Any]:
        intent = self._get(conn, p["intent"], "payment_intent")
        if intent["status"] != "requires_capture":
            raise GatewayRejected("payment_intent_unexpected_state", f"it is {intent['status']}")
        amount = intent["amount_capturable"] if p["amount"] is None else p["amount"]
        if not 0 < amount <= intent["amount_capturable"]:
            raise GatewayRejected("amount_too_large", "more than the authorisation")
        charge = self._get(conn, intent["latest_charge"], "charge")
        self._capture_charge(conn, intent, charge, amount)
        return intent

    def _cancel(self, conn: Connection, key: str, p: dict[str, Any]) -> dict[str, Any]:
        intent = self._get(conn, p["intent"], "payment_intent")
        if intent["status"] in ("succeeded", "canceled", "processing"):
            raise GatewayRejected("payment_intent_unexpected_state", f"it is {intent['status']}")
        intent |= {"status": "canceled", "cancellation_reason": "abandoned", "amount_capturable": 0}
        self._put(conn, intent, "payment_intent.canceled")
        return intent

    def _refund(self, conn: Connection, key: str, p: dict[str, Any]) -> dict[str, Any]:
        target = p["target"]
        if target.startswith("pi_"):
            target = self._get(conn, target, "payment_intent")["latest_charge"] or ""
        charge = self._get(conn, target, "charge")
        if not charge["captured"]:
            raise GatewayRejected("charge_not_captured", "only captured money can be refunded")
        if p["currency"] != charge["currency"]:
            raise GatewayRejected("currency_mismatch", "refund in the charge's currency")
        if not 0 < p["amount"] <= charge["amount_captured"] - charge["amount_refunded"]:
            raise GatewayRejected("amount_too_large", "a refund cannot exceed what is left")
        refund = {
            "id": self._new_id("re", key),
            "object": "refund",
            "amount": p["amount"],
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "reason": p["reason"] or None,
            "status": "succeeded",
            "failure_reason": None,
            "metadata": p["metadata"],
        }
        self._put(conn, refund)
        charge["amount_refunded"] += p["amount"]
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        listed = charge.setdefault("refunds", {"object": "list", "data": []})
        listed["data"].insert(0, refund)
        self._put(conn, charge, "charge.refunded")
        return refund

    def _transfer(self, conn: Connection, key: str, p: dict[str, Any]) -> dict[str, Any]:
        account = self._get(conn, p["destination"], "account")
        if not account["payouts_enabled"]:
            raise GatewayRejected("insufficient_capabilities_for_transfer", "not onboarded")
        charge = self._get(conn, p["source_transaction"], "charge")
        if not charge["captured"] or p["amount"] > charge["amount_captured"]:
            raise GatewayRejected("transfer_source_too_small", "more than the source charge")
        transfer = {
            "id": self._new_id("tr", key),
            "object": "transfer",
            "amount": p["amount"],
            "amount_reversed": 0,
            "currency": p["currency"],
            "destination": p["destination"],
            "source_transaction": p["source_transaction"],
            "transfer_group": p["transfer_group"],
            "reversed": False,
            "reversals": {"object": "list", "data": []},
            "metadata": p["metadata"],
        }
        self._put(conn, transfer, "transfer.created")
        return transfer

    def _reverse(self, conn: Connection, key: str, p: dict[str, Any]) -> dict[str, Any]:
        transfer = self._get(conn, p["transfer"], "transfer")
        if not 0 < p["amount"] <= transfer["amount"] - transfer["amount_reversed"]:
            raise GatewayRejected("amount_too_large", "more than is left on the transfer")
        reversal = {
            "id": self._new_id("trr", key),
            "object": "transfer_reversal",
            "amount": p["amount"],
            "currency": transfer["currency"],
            "transfer": transfer["id"],
            "metadata": p["metadata"],
        }
        transfer["amount_reversed"] += p["amount"]
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, reversal)
        self._put(conn, transfer, "transfer.reversed")
        return reversal

    def _account(self, conn: Connection, key: str, p: dict[str, Any]) -> dict[str, Any]:
        account = {
            "id": self._new_id("acct", key),
            "object": "account",
            "type": "express",
            "email": p["email"],
            "country": p["country"],
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "metadata": p["metadata"],
        }
        self._put(conn, account)
        return account

    # -- storage -----------------------------------------------------------------------------

    def _new_id(self, prefix: str, basis: str) -> str:
        digest = hashlib.sha256(f"{self.faults.seed}:{prefix}:{basis}".encode()).hexdigest()
        return f"{prefix}_sim{digest[:21]}"

    def _get(self, conn: Connection, object_id: str, kind: str) -> dict[str, Any]:
        row = conn.execute(
            sa.select(objects.c.data).where(objects.c.id == object_id, objects.c.kind == kind)
        ).first()
        if row is None:
            raise GatewayRejected("resource_missing", f"no such {kind}: {object_id}")
        data: dict[str, Any] = json.loads(row.data)
        return data

    def _put(
        self,
        conn: Connection,
        obj: dict[str, Any],
        event_type: str | None = None,
        *,
        expand_charge: dict[str, Any] | None = None,
    ) -> None:
        """Stores the object and, for `event_type`, queues a webhook with its snapshot."""
        data = json.dumps(obj)
        seq = conn.execute(sa.select(sa.func.count()).select_from(objects)).scalar_one()
        exists = conn.execute(sa.select(objects.c.id).where(objects.c.id == obj["id"])).first()
        if exists:
            conn.execute(objects.update().where(objects.c.id == obj["id"]).values(data=data))
        else:
            conn.execute(
                objects.insert().values(
                    id=obj["id"],
                    kind=obj["object"],
                    payment_id=(obj.get("metadata") or {}).get("payment_id"),
                    seq=seq,
                    data=data,
                )
            )
        if event_type is None:
            return
        snapshot = json.loads(data)
        if expand_charge is not None:  # as if expanded: the fee travels with the event
            snapshot["latest_charge"] = expand_charge
        count = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        event_id = self._new_id("evt", f"{obj['id']}:{event_type}:{count}")
        event = {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(self.now().timestamp()),
            "data": {"object": snapshot},
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
        }
        conn.execute(
            outbox.insert().values(id=event_id, payload=json.dumps(event), state="pending")
        )


_LEGACY = {
    "payment_intent.succeeded": "charge.succeeded",
    "payment_intent.payment_failed": "charge.failed",
}


def _intent_params(payment_id: UUID, booking_id: UUID, amount: Money, step: str) -> dict[str, Any]:
    return {
        "amount": amount.amount,
        "currency": amount.currency.lower(),
        "transfer_group": str(booking_id),
        "metadata": {"payment_id": str(payment_id), "booking_id": str(booking_id), "step": step},
    }


def _metadata(payment_id: UUID, booking_id: UUID, key: str) -> dict[str, str]:
    step = key.rsplit(":", 1)[-1]
    return {"payment_id": str(payment_id), "booking_id": str(booking_id), "step": step}


def _txn(source: str, amount: int, fee: int, currency: str) -> dict[str, Any]:
    digest = hashlib.sha256(source.encode()).hexdigest()[:21]
    return {
        "id": f"txn_sim{digest}",
        "object": "balance_transaction",
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "currency": currency,
    }


def _charge_result(intent: dict[str, Any]) -> ChargeResult:
    return ChargeResult(
        intent["id"], intent["status"], intent["client_secret"], intent["latest_charge"]
    )


def _minor(amount: Money | None) -> int | None:
    return None if amount is None else amount.amount


def _money(amount: int, obj: dict[str, Any]) -> Money:
    return Money(int(amount), str(obj["currency"]).upper())
