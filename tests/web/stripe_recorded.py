"""A local Stripe API for the checkout pages: recorded responses (tests/fixtures/stripe),
with each created PaymentIntent given its own id, client secret and the request's metadata,
so a page can be shown to carry the secret of *its* booking's intent. Retrieving an intent
answers the recorded body with the status a test sets. No Stripe network is used."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.local_http import local_json_server

RESPONSES = Path(__file__).parents[1] / "fixtures" / "stripe" / "responses"


def _recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESPONSES / f"{name}.json").read_text())
    return data


@dataclass
class LocalStripe:
    url: str = ""
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)  # intent id -> status on retrieve
    retrieve_fails: bool = False
    create_answer: tuple[int, str] | None = None  # e.g. (402, "error_card_declined")
    seen: list[tuple[str, str]] = field(default_factory=list)

    def intent_of(self, booking_id: str, step: str = "charge") -> dict[str, Any]:
        found = [
            i
            for i in self.intents.values()
            if i["metadata"].get("booking_id") == booking_id and i["metadata"]["step"] == step
        ]
        assert len(found) == 1, f"{len(found)} {step} intents for booking {booking_id}"
        return found[0]

    def create(self, form: dict[str, str], key: str) -> dict[str, Any]:
        metadata = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}
        recorded = "payment_intent_create_deposit" if metadata.get("step") == "deposit" else ""
        body = _recorded(recorded or "payment_intent_create")
        intent_id = "pi_" + hashlib.sha256(key.encode()).hexdigest()[:24]
        known = self.intents.get(intent_id)
        if known is not None:  # Stripe replays the first answer for the same key
            return known
        body |= {
            "id": intent_id,
            "client_secret": f"{intent_id}_secret_{hashlib.sha256(key.encode()).hexdigest()[-12:]}",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "metadata": metadata,
        }
        if "payment_method" not in form:  # the renter confirms it in the browser
            body["status"] = "requires_payment_method"
        self.intents[intent_id] = body
        return body

    @staticmethod
    def charge_of(intent: dict[str, Any]) -> str:
        """The card charge of a succeeded intent (its `latest_charge`)."""
        return "ch_" + str(intent["id"])[3:]

    def charge(self, charge_id: str) -> dict[str, Any] | None:
        """The recorded expanded charge, in the amount and currency of its intent."""
        intent = self.intents.get("pi_" + charge_id[3:])
        if intent is None:
            return None
        body = _recorded("charge_retrieve_expanded")
        money = {"amount": intent["amount"], "currency": intent["currency"]}
        fee = {"fee": intent["amount"] * 3 // 100, "net": intent["amount"] * 97 // 100}
        body["balance_transaction"] |= money | fee
        return body | money | {"id": charge_id, "payment_intent": intent["id"]}

    def retrieve(self, intent_id: str) -> dict[str, Any] | None:
        known = self.intents.get(intent_id)
        if known is None:
            return None
        body = _recorded("payment_intent_retrieve")
        return body | {
            "id": intent_id,
            "client_secret": known["client_secret"],
            "amount": known["amount"],
            "currency": known["currency"],
            "metadata": known["metadata"],
            "status": self.status.get(intent_id, "requires_payment_method"),
            "latest_charge": self.charge_of(known),
        }


def serve_local_stripe() -> Iterator[LocalStripe]:
    stub = LocalStripe()

    def respond(request: BaseHTTPRequestHandler, body: str) -> tuple[int, bytes]:
        path = urlsplit(request.path).path
        stub.seen.append((request.command, path))
        answer: dict[str, Any] | None = None
        status = 200
        if request.command == "POST" and path == "/v1/payment_intents" and stub.create_answer:
            status, answer = stub.create_answer[0], _recorded(stub.create_answer[1])
        elif request.command == "POST" and path == "/v1/payment_intents":
            form = dict(parse_qsl(body, keep_blank_values=True))
            answer = stub.create(form, request.headers.get("Idempotency-Key", ""))
        elif request.command == "GET" and path.startswith("/v1/payment_intents/"):
            if stub.retrieve_fails:
                status, answer = 500, _recorded("error_api")
            else:
                answer = stub.retrieve(path.rsplit("/", 1)[-1])
        elif request.command == "GET" and path.startswith("/v1/charges/"):
            answer = stub.charge(path.rsplit("/", 1)[-1])
        if answer is None:
            status = 404
            answer = {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
        return status, json.dumps(answer).encode()

    with local_json_server(respond, "req_local") as url:
        stub.url = url
        yield stub
