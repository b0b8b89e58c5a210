"""The simulated processor's work: payment intents and their charges, captures,
cancellations, refunds, transfers and their reversals, connected accounts.

Each call runs once per idempotency key like Stripe (same key and parameters: the stored
answer, even after a lost reply; same key, other parameters: rejected), with the faults
drawn before or after the work, inside one transaction under the lock.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from application.payment_gateway import (
    GatewayDeclined,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
)
from infrastructure.simulated_storage import balance_transaction, idempotency
from infrastructure.simulated_webhooks import SimulatedWebhooks
from projections.base import write_transaction


class SimulatedProcessor(SimulatedWebhooks):
    auto_confirm: bool
    _attempts: Counter[str]

    def _call(
        self,
        key: str,
        params: dict[str, Any],
        work: Callable[[Connection, str, dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        attempt = self._fault_before(key)
        late = self.faults.draw(f"late:{key}", attempt) < 0.5
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
        if self.faults.draw(f"timeout:{key}", attempt) < self.faults.timeout_rate and late:
            raise GatewayTimeout("processor_timeout", "simulated timeout after the work")
        if self.faults.draw(f"lost:{key}", attempt) < self.faults.lost_reply_rate:
            raise GatewayUnavailable("processor_unavailable", "simulated lost reply")
        if "_declined" in response:
            raise GatewayDeclined(response["_declined"], "the card was declined")
        return response

    def _fault_before(self, key: str) -> int:
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
        if self.faults.draw(f"error:{key}", attempt) < self.faults.error_rate:
            raise GatewayUnavailable("processor_unavailable", "simulated 500")
        timeout = self.faults.draw(f"timeout:{key}", attempt) < self.faults.timeout_rate
        if timeout and self.faults.draw(f"late:{key}", attempt) >= 0.5:
            raise GatewayTimeout("processor_timeout", "simulated timeout before the work")
        return attempt

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
        if not decline and self.faults.draw(f"decline:{key}", 0) < self.faults.decline_rate:
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
        charge["balance_transaction"] = balance_transaction(
            charge["id"], amount, fee, charge["currency"]
        )
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
