"""The Stripe adapter's requests against a local server answering with recorded Stripe
responses: form fields, the Idempotency-Key header, the ids it returns, the errors it maps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

import pytest

from application.payment_gateway import (
    AccountRequest,
    CaptureRequest,
    ChargeRequest,
    DepositRequest,
    GatewayDeclined,
    GatewayEvent,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    OnboardingLinkRequest,
    RefundRequest,
    ReleaseRequest,
    TransferRequest,
    TransferReversalRequest,
    idempotency_key,
)
from domain.money import Money
from infrastructure.stripe_gateway import StripeGateway
from tests.local_http import local_json_server

RESPONSES = Path(__file__).parents[1] / "fixtures" / "stripe" / "responses"
BOOKING = UUID("7b0c6f0e-3c1a-4d5e-9f7a-1b2c3d4e5f60")
PAYMENT = UUID("0d1e2f30-4a5b-5c6d-8e7f-a0b1c2d3e4f5")
OWNER = UUID("5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d")


@dataclass
class Seen:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class RecordedStripe:
    """Routes (method, path) to a recorded response file, remembering every request."""

    url: str = ""
    routes: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def answer(self, method: str, path: str, fixture: str, status: int = 200) -> None:
        self.routes[(method, path)] = (status, fixture)

    @property
    def last(self) -> Seen:
        return self.seen[-1]


@pytest.fixture
def recorded() -> Iterator[RecordedStripe]:
    stub = RecordedStripe()

    def respond(request: BaseHTTPRequestHandler, body: str) -> tuple[int, bytes] | None:
        url = urlsplit(request.path)
        form = dict(parse_qsl(body or url.query, keep_blank_values=True))
        stub.seen.append(Seen(request.command, url.path, form, dict(request.headers.items())))
        status, fixture = stub.routes.get((request.command, url.path), (404, "missing"))
        if fixture == "hang":
            return None
        data = (
            (RESPONSES / f"{fixture}.json").read_bytes()
            if fixture != "missing"
            else b'{"error": {"type": "invalid_request_error", "code": "resource_missing"}}'
        )
        return status, data

    with local_json_server(respond, "req_recorded") as url:
        stub.url = url
        yield stub


@pytest.fixture
def gateway(recorded: RecordedStripe) -> StripeGateway:
    return StripeGateway("sk_test_recorded", api_base=recorded.url)


def key(step: str) -> str:
    return idempotency_key(BOOKING, step)


def test_create_charge_is_a_platform_payment_intent_for_the_booking(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    recorded.answer("POST", "/v1/payment_intents", "payment_intent_create")
    result = gateway.create_charge(
        ChargeRequest(PAYMENT, BOOKING, Money(45600, "EUR"), key("charge"), "Booking x")
    )
    assert result.charge_id == result.intent_id == "pi_3QaBcD2eZvKYlo2C1xYz0001"
    assert result.status == "requires_payment_method" and result.client_secret
    seen = recorded.last
    assert (seen.method, seen.path) == ("POST", "/v1/payment_intents")
    assert seen.headers["Idempotency-Key"] == f"rentbook:{BOOKING}:charge"
    assert seen.headers["Authorization"] == "Bearer sk_test_recorded"
    assert seen.form == {
        "amount": "45600",
        "currency": "eur",
        "capture_method": "automatic",
        "transfer_group": str(BOOKING),
        "metadata[payment_id]": str(PAYMENT),
        "metadata[booking_id]": str(BOOKING),
        "metadata[step]": "charge",
        "description": "Booking x",
    }


def test_a_server_side_confirmation_sends_the_payment_method(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    recorded.answer("POST", "/v1/payment_intents", "payment_intent_create")
    gateway.create_charge(
        ChargeRequest(
            PAYMENT, BOOKING, Money(45600, "EUR"), key("charge"), payment_method="pm_card_visa"
        )
    )
    assert recorded.last.form["payment_method"] == "pm_card_visa"
    assert recorded.last.form["confirm"] == "true"


def test_the_deposit_is_its_own_manual_capture_intent(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    recorded.answer("POST", "/v1/payment_intents", "payment_intent_create_deposit")
    result = gateway.authorize_deposit(
        DepositRequest(PAYMENT, BOOKING, Money(30000, "EUR"), key("deposit"))
    )
    assert (result.intent_id, result.status) == ("pi_3QaBcD2eZvKYlo2C1xYz0002", "requires_capture")
    assert result.latest_charge == "ch_3QaBcD2eZvKYlo2C1dep01"
    form = recorded.last.form
    assert (form["capture_method"], form["amount"], form["metadata[step]"]) == (
        "manual",
        "30000",
        "deposit",
    )
    assert form["transfer_group"] == str(BOOKING)
    assert recorded.last.headers["Idempotency-Key"] == key("deposit")


def test_capturing_part_of_the_deposit(recorded: RecordedStripe, gateway: StripeGateway) -> None:
    intent = "pi_3QaBcD2eZvKYlo2C1xYz0002"
    recorded.answer("POST", f"/v1/payment_intents/{intent}/capture", "payment_intent_capture")
    result = gateway.capture_deposit(
        CaptureRequest(PAYMENT, BOOKING, intent, key("capture-deposit"), Money(12000, "EUR"))
    )
    assert result.amount_captured == Money(12000, "EUR") and result.status == "succeeded"
    assert recorded.last.form == {"amount_to_capture": "12000"}
    assert recorded.last.headers["Idempotency-Key"] == key("capture-deposit")


def test_releasing_the_deposit_cancels_its_intent(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    intent = "pi_3QaBcD2eZvKYlo2C1xYz0002"
    recorded.answer("POST", f"/v1/payment_intents/{intent}/cancel", "payment_intent_cancel")
    result = gateway.release_deposit(ReleaseRequest(PAYMENT, BOOKING, intent, key("release")))
    assert (result.intent_id, result.status) == (intent, "canceled")
    assert recorded.last.form == {"cancellation_reason": "abandoned"}
    assert recorded.last.headers["Idempotency-Key"] == key("release")


@pytest.mark.parametrize(
    ("target", "field"),
    [("pi_3QaBcD2eZvKYlo2C1xYz0001", "payment_intent"), ("ch_3QaBcD2eZvKYlo2C1chg01", "charge")],
)
def test_a_partial_refund(
    recorded: RecordedStripe, gateway: StripeGateway, target: str, field: str
) -> None:
    recorded.answer("POST", "/v1/refunds", "refund_create")
    result = gateway.refund(
        RefundRequest(PAYMENT, BOOKING, target, Money(4000, "EUR"), key("refund-1"))
    )
    assert (result.refund_id, result.status) == ("re_3QaBcD2eZvKYlo2C1ref02", "succeeded")
    assert recorded.last.form == {
        field: target,
        "amount": "4000",
        "metadata[payment_id]": str(PAYMENT),
        "metadata[booking_id]": str(BOOKING),
        "metadata[step]": "refund-1",
    }
    assert recorded.last.headers["Idempotency-Key"] == key("refund-1")


def test_the_owner_is_paid_by_a_transfer_from_the_charge(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    recorded.answer("POST", "/v1/transfers", "transfer_create")
    result = gateway.transfer_to_owner(
        TransferRequest(
            PAYMENT,
            BOOKING,
            Money(38760, "EUR"),
            "acct_1QaBcDOwnEr0000001",
            "ch_3QaBcD2eZvKYlo2C1chg01",
            key("payout"),
        )
    )
    assert (result.transfer_id, result.amount, result.destination) == (
        "tr_1QaBcD2eZvKYlo2C0trn01",
        Money(38760, "EUR"),
        "acct_1QaBcDOwnEr0000001",
    )
    assert recorded.last.form == {
        "amount": "38760",
        "currency": "eur",
        "destination": "acct_1QaBcDOwnEr0000001",
        "source_transaction": "ch_3QaBcD2eZvKYlo2C1chg01",
        "transfer_group": str(BOOKING),
        "metadata[payment_id]": str(PAYMENT),
        "metadata[booking_id]": str(BOOKING),
        "metadata[step]": "payout",
    }
    assert recorded.last.headers["Idempotency-Key"] == key("payout")


def test_reversing_part_of_a_transfer(recorded: RecordedStripe, gateway: StripeGateway) -> None:
    transfer = "tr_1QaBcD2eZvKYlo2C0trn01"
    recorded.answer("POST", f"/v1/transfers/{transfer}/reversals", "transfer_reversal_create")
    result = gateway.reverse_transfer(
        TransferReversalRequest(
            PAYMENT, BOOKING, transfer, Money(10000, "EUR"), key("reverse-payout-1")
        )
    )
    assert (result.reversal_id, result.transfer_id, result.amount) == (
        "trr_1QaBcD2eZvKYlo2C0rev01",
        transfer,
        Money(10000, "EUR"),
    )
    assert recorded.last.form["amount"] == "10000"
    assert recorded.last.headers["Idempotency-Key"] == key("reverse-payout-1")


def test_owner_onboarding_creates_an_express_account_and_an_account_link(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    recorded.answer("POST", "/v1/accounts", "account_create")
    recorded.answer("POST", "/v1/account_links", "account_link_create")
    account = gateway.create_connected_account(
        AccountRequest(OWNER, "owner@example.com", f"rentbook:owner:{OWNER}:account")
    )
    assert (account.account_id, account.charges_enabled, account.payouts_enabled) == (
        "acct_1QaBcDOwnEr0000001",
        False,
        False,
    )
    assert recorded.last.form == {
        "type": "express",
        "country": "DE",
        "email": "owner@example.com",
        "capabilities[transfers][requested]": "true",
        "metadata[owner_id]": str(OWNER),
    }
    assert recorded.last.headers["Idempotency-Key"] == f"rentbook:owner:{OWNER}:account"
    link = gateway.create_onboarding_link(
        OnboardingLinkRequest(
            account.account_id, "https://r.test/refresh", "https://r.test/back", "k-link-1"
        )
    )
    assert link.url.startswith("https://connect.stripe.com/setup/")
    assert link.expires_at.timestamp() == 1763683500
    assert recorded.last.form == {
        "account": "acct_1QaBcDOwnEr0000001",
        "refresh_url": "https://r.test/refresh",
        "return_url": "https://r.test/back",
        "type": "account_onboarding",
    }
    assert recorded.last.headers["Idempotency-Key"] == "k-link-1"


def test_retrieve_gives_the_processor_state_for_reconciliation(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    intent = "pi_3QaBcD2eZvKYlo2C1xYz0001"
    recorded.answer("GET", f"/v1/payment_intents/{intent}", "payment_intent_retrieve")
    state = gateway.retrieve("payment_intent", intent)
    assert (state.kind, state.id, state.status) == ("payment_intent", intent, "processing")
    assert (state.payment_id, state.booking_id, state.amount) == (
        PAYMENT,
        BOOKING,
        Money(45600, "EUR"),
    )
    assert recorded.last.method == "GET"


def test_complete_reads_the_fee_from_the_charges_balance_transaction(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    charge = "ch_3QaBcD2eZvKYlo2C1chg01"
    recorded.answer("GET", f"/v1/charges/{charge}", "charge_retrieve_expanded")
    event = GatewayEvent(
        "evt_1", "payment_intent.succeeded", PAYMENT, BOOKING, charge, Money(45600, "EUR")
    )
    assert gateway.complete(event).fee == Money(709, "EUR")
    assert recorded.last.form == {"expand[0]": "balance_transaction"}
    refunded = GatewayEvent("evt_2", "charge.refunded", PAYMENT, BOOKING, charge, None)
    assert gateway.complete(refunded) is refunded


@pytest.mark.parametrize(
    ("status", "fixture", "error"),
    [
        (402, "error_card_declined", GatewayDeclined),
        (500, "error_api", GatewayUnavailable),
        (400, "error_idempotency", GatewayRejected),
        (404, "missing", GatewayRejected),
    ],
)
def test_processor_errors_map_to_the_ports_errors(
    recorded: RecordedStripe,
    gateway: StripeGateway,
    status: int,
    fixture: str,
    error: type[Exception],
) -> None:
    recorded.answer("POST", "/v1/payment_intents", fixture, status)
    with pytest.raises(error):
        gateway.create_charge(ChargeRequest(PAYMENT, BOOKING, Money(1, "EUR"), key("charge")))
    assert len(recorded.seen) == 1  # the SDK does not retry: our jobs do, with the same key


def test_no_answer_is_a_timeout_the_caller_retries_with_the_same_key(
    recorded: RecordedStripe, gateway: StripeGateway
) -> None:
    recorded.answer("POST", "/v1/payment_intents", "hang")
    with pytest.raises(GatewayTimeout) as raised:
        gateway.create_charge(ChargeRequest(PAYMENT, BOOKING, Money(1, "EUR"), key("charge")))
    assert raised.value.retryable


def test_the_recorded_fixtures_are_stripe_objects() -> None:
    for path in RESPONSES.glob("*.json"):
        data = json.loads(path.read_text())
        assert "object" in data or "error" in data, path.name
