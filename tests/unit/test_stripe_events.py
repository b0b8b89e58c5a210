"""Webhook signatures (generated with the SDK's helper) and the normalisation of each event
type from recorded Stripe JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import stripe

from application.payment_gateway import GatewayEvent
from domain.money import Money
from infrastructure.stripe_events import HANDLED_TYPES, InvalidSignature, verify_and_parse

EVENTS = Path(__file__).parents[1] / "fixtures" / "stripe" / "events"
SECRET = "whsec_test_rentbook"
BOOKING = UUID("7b0c6f0e-3c1a-4d5e-9f7a-1b2c3d4e5f60")
PAYMENT = UUID("0d1e2f30-4a5b-5c6d-8e7f-a0b1c2d3e4f5")


def payload(name: str) -> bytes:
    return (EVENTS / f"{name}.json").read_bytes()


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> str:
    return str(stripe.WebhookSignature.generate_signature_header(body.decode(), secret, at or None))


def parse(name: str) -> GatewayEvent:
    body = payload(name)
    event = verify_and_parse(body, signed(body), SECRET)
    assert event is not None
    return event


# -- signatures ------------------------------------------------------------------------------


def test_a_validly_signed_event_is_parsed() -> None:
    event = parse("payment_intent.succeeded")
    assert event.id == "evt_3QaBcD2eZvKYlo2C0succ"


def test_a_tampered_payload_is_refused() -> None:
    body = payload("payment_intent.succeeded")
    header = signed(body)
    tampered = body.replace(b"45600", b"45601")
    with pytest.raises(InvalidSignature):
        verify_and_parse(tampered, header, SECRET)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    body = payload("payment_intent.succeeded")
    with pytest.raises(InvalidSignature):
        verify_and_parse(body, signed(body, "whsec_someone_else"), SECRET)


def test_a_stale_timestamp_is_refused_and_a_recent_one_accepted() -> None:
    body = payload("payment_intent.succeeded")
    stale = signed(body, at=int(time.time()) - 301)
    with pytest.raises(InvalidSignature):
        verify_and_parse(body, stale, SECRET)
    assert verify_and_parse(body, signed(body, at=int(time.time()) - 200), SECRET) is not None
    assert verify_and_parse(body, stale, SECRET, tolerance=600) is not None


@pytest.mark.parametrize("header", ["", "garbage", "t=1,v0=abc", "v1=abc"])
def test_a_missing_or_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_and_parse(payload("payment_intent.succeeded"), header, SECRET)


def test_a_signed_body_that_is_not_an_event_is_refused() -> None:
    for body in (b"not json", b"[]", b'{"object": "charge"}'):
        with pytest.raises(InvalidSignature):
            verify_and_parse(body, signed(body), SECRET)


def test_unknown_event_types_are_acknowledged_and_ignored() -> None:
    body = payload("customer.created")
    assert verify_and_parse(body, signed(body), SECRET) is None


def test_every_handled_type_has_a_recorded_fixture() -> None:
    recorded = {p.stem for p in EVENTS.glob("*.json")}
    assert recorded >= HANDLED_TYPES


# -- normalisation ---------------------------------------------------------------------------


def test_payment_intent_succeeded() -> None:
    e = parse("payment_intent.succeeded")
    assert (e.type, e.object_id, e.intent_id) == (
        "payment_intent.succeeded",
        "pi_3QaBcD2eZvKYlo2C1xYz0001",
        "pi_3QaBcD2eZvKYlo2C1xYz0001",
    )
    assert (e.payment_id, e.booking_id, e.step) == (PAYMENT, BOOKING, "charge")
    assert e.charge_id == "ch_3QaBcD2eZvKYlo2C1chg01"
    assert e.amount == Money(45600, "EUR") and e.status == "succeeded"
    assert e.fee is None  # a webhook cannot expand: StripeGateway.complete reads it
    assert e.created is not None and e.created.timestamp() == 1763683200 and not e.livemode


def test_payment_intent_succeeded_with_an_expanded_charge_carries_the_fee() -> None:
    data = json.loads(payload("payment_intent.succeeded"))
    data["data"]["object"]["latest_charge"] = {
        "id": "ch_1",
        "balance_transaction": {"id": "txn_1", "fee": 709, "currency": "eur"},
    }
    body = json.dumps(data).encode()
    e = verify_and_parse(body, signed(body), SECRET)
    assert e is not None and e.fee == Money(709, "EUR") and e.charge_id == "ch_1"


def test_payment_intent_payment_failed_gives_the_decline_code() -> None:
    e = parse("payment_intent.payment_failed")
    assert e.reason == "insufficient_funds" and e.amount == Money(45600, "EUR")
    assert e.status == "requires_payment_method" and e.charge_id == "ch_3QaBcD2eZvKYlo2C1chg00"


def test_amount_capturable_updated_is_the_deposit_authorisation() -> None:
    e = parse("payment_intent.amount_capturable_updated")
    assert (e.step, e.status, e.amount) == ("deposit", "requires_capture", Money(30000, "EUR"))
    assert e.intent_id == "pi_3QaBcD2eZvKYlo2C1xYz0002"


def test_payment_intent_canceled_gives_the_cancellation_reason() -> None:
    e = parse("payment_intent.canceled")
    assert (e.step, e.status, e.reason) == ("deposit", "canceled", "abandoned")


def test_charge_refunded_gives_the_running_total_and_the_newest_refund() -> None:
    e = parse("charge.refunded")
    assert e.amount == Money(10000, "EUR") and e.refund_id == "re_3QaBcD2eZvKYlo2C1ref02"
    assert (e.charge_id, e.intent_id) == (
        "ch_3QaBcD2eZvKYlo2C1chg01",
        "pi_3QaBcD2eZvKYlo2C1xYz0001",
    )
    assert e.payment_id == PAYMENT and e.fee is None


def test_refund_updated_and_failed() -> None:
    updated = parse("refund.updated")
    assert (updated.refund_id, updated.status, updated.amount) == (
        "re_3QaBcD2eZvKYlo2C1ref02",
        "succeeded",
        Money(4000, "EUR"),
    )
    assert updated.step == "refund-1" and updated.booking_id == BOOKING
    failed = parse("refund.failed")
    assert (failed.status, failed.reason) == ("failed", "expired_or_canceled_card")


@pytest.mark.parametrize(
    ("name", "status", "fee"),
    [
        ("charge.dispute.created", "needs_response", None),
        ("charge.dispute.funds_withdrawn", "needs_response", Money(1500, "EUR")),
        ("charge.dispute.funds_reinstated", "won", Money(0, "EUR")),
        ("charge.dispute.closed", "lost", None),
    ],
)
def test_dispute_events(name: str, status: str, fee: Money | None) -> None:
    e = parse(name)
    assert (e.dispute_id, e.status, e.reason, e.fee) == (
        "dp_1QaBcD2eZvKYlo2C0dsp01",
        status,
        "fraudulent",
        fee,
    )
    assert e.amount == Money(45600, "EUR") and e.intent_id == "pi_3QaBcD2eZvKYlo2C1xYz0001"
    assert e.payment_id is None  # disputes carry no metadata: resolve by intent id


def test_transfer_created_and_reversed() -> None:
    created = parse("transfer.created")
    assert (created.transfer_id, created.account_id, created.charge_id) == (
        "tr_1QaBcD2eZvKYlo2C0trn01",
        "acct_1QaBcDOwnEr0000001",
        "ch_3QaBcD2eZvKYlo2C1chg01",
    )
    assert created.amount == Money(38760, "EUR") and created.status == "paid"
    assert created.step == "payout" and created.payment_id == PAYMENT
    reversed_ = parse("transfer.reversed")
    assert reversed_.amount == Money(10000, "EUR") and reversed_.status == "partially_reversed"
    assert reversed_.reversal_id == "trr_1QaBcD2eZvKYlo2C0rev01"


def test_account_updated_gates_payouts() -> None:
    e = parse("account.updated")
    assert (e.account_id, e.charges_enabled, e.payouts_enabled, e.status) == (
        "acct_1QaBcDOwnEr0000001",
        True,
        True,
        "enabled",
    )
    assert e.owner_id == UUID("5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d") and e.amount is None


def _mutate(name: str, change: dict[str, Any]) -> GatewayEvent | None:
    data = json.loads(payload(name))
    data["data"]["object"].update(change)
    body = json.dumps(data).encode()
    return verify_and_parse(body, signed(body), SECRET)


def test_metadata_that_is_not_ours_gives_no_ids() -> None:
    e = _mutate("payment_intent.succeeded", {"metadata": {"booking_id": "not-a-uuid"}})
    assert e is not None and e.booking_id is None and e.payment_id is None
