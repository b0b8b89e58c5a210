"""An order's ONE charge through the Stripe adapter: its requests go to a local server that
answers with recorded Stripe responses, and Stripe's webhooks for that one PaymentIntent come
back signed with the SDK's own helper. One intent for the basket (one idempotency key per
order), its capture split over the items, its failure failing every item, a cancelled item
refunded with `payment_intent` + `amount`, and a chargeback without metadata found by intent."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import stripe

from application.context import Actor
from application.jobs import InlineJobQueue, RetryPolicy
from application.order_payments import OrderPayments
from application.orders import OrderItem, Orders
from application.payments import Payments
from domain import booking as b
from domain.order_charge import order_charge_id_for
from infrastructure.payments_wiring import WebhookReceiver
from infrastructure.stripe_gateway import StripeGateway
from tests.application.test_payments_flows import AllBookings
from tests.builders import NOW, World, make_world, verified_user
from tests.integration.test_stripe_gateway import RecordedStripe, recorded  # noqa: F401

EVENTS = Path(__file__).parents[1] / "fixtures" / "stripe" / "events"
SECRET = "whsec_test_rentbook"
INTENT, CHARGE = "pi_3QaBcD2eZvKYlo2C1xYz0001", "ch_3QaBcD2eZvKYlo2C1chg01"


@dataclass
class StripeShop:
    world: World
    payments: Payments
    orders: Orders
    pays: OrderPayments
    webhooks: WebhookReceiver
    queries: AllBookings
    order_id: UUID
    booking_ids: list[UUID]

    def deliver(self, name: str, obj: dict[str, Any], event_id: str) -> None:
        """A recorded event of type `name`, its object changed by `obj`, signed by the SDK."""
        event = json.loads((EVENTS / f"{name}.json").read_text())
        event["id"] = event_id
        event["data"]["object"] |= obj
        body = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
        self.webhooks(body.encode(), str(header))

    @property
    def charge_metadata(self) -> dict[str, str]:
        charge_id = order_charge_id_for(self.order_id)
        return {"payment_id": str(charge_id), "order_id": str(self.order_id), "step": "charge"}

    def statuses(self) -> list[str]:
        return [self.world.bookings.get(bid).status for bid in self.booking_ids]


@pytest.fixture
def shop(recorded: RecordedStripe) -> StripeShop:  # noqa: F811
    recorded.answer("POST", "/v1/payment_intents", "payment_intent_create")
    recorded.answer("GET", f"/v1/charges/{CHARGE}", "charge_retrieve_expanded")
    recorded.answer("POST", "/v1/refunds", "refund_create")
    world = make_world()
    gateway = StripeGateway("sk_test_recorded", api_base=recorded.url)
    queries = AllBookings()
    jobs = InlineJobQueue(RetryPolicy(max_retries=0, base_delay=0))
    payments = Payments(world.bookings, gateway, jobs, queries, clock=lambda: NOW)
    payments.observe(world.bookings)
    orders = Orders(world.store, world.bookings)
    owner_b = Actor(verified_user(world.store, "Bea Owner"), "user")
    a = world.active_listing()
    b_listing = replace(world, owner=owner_b).active_listing(cancellation_policy="flexible")
    items = [
        OrderItem(a, "2026-07-01", "2026-07-03"),
        OrderItem(b_listing, "2026-07-01", "2026-07-02"),
    ]
    order_id, _ = orders.place(world.renter, items, guests=2, at=NOW)
    booking_ids = orders.get(order_id).booking_ids
    queries.ids.extend(booking_ids)
    webhooks = WebhookReceiver(payments, SECRET, lambda: NOW + timedelta(minutes=1))
    return StripeShop(
        world,
        payments,
        orders,
        OrderPayments(orders, payments),
        webhooks,
        queries,
        order_id,
        booking_ids,
    )


def test_paying_an_order_creates_one_payment_intent_for_the_basket(
    shop: StripeShop,
    recorded: RecordedStripe,  # noqa: F811
) -> None:
    result = shop.pays.pay(shop.world.renter, shop.order_id, NOW)
    total = shop.orders.get(shop.order_id).quote["total"]
    intents = [s for s in recorded.seen if s.path == "/v1/payment_intents"]
    assert len(intents) == 1 and result["client_secret"]
    (seen,) = intents
    assert seen.headers["Idempotency-Key"] == f"rentbook:{shop.order_id}:charge"
    assert seen.form == {
        "amount": str(total),
        "currency": "eur",
        "capture_method": "automatic",
        "transfer_group": f"order:{shop.order_id}",
        "metadata[payment_id]": str(order_charge_id_for(shop.order_id)),
        "metadata[order_id]": str(shop.order_id),
        "metadata[step]": "charge",
        "description": f"Order {shop.order_id}",
    }
    payments = [shop.payments.payment(bid) for bid in shop.booking_ids]
    assert {p.charge["intent_id"] for p in payments} == {INTENT}


def test_the_succeeded_webhook_captures_every_item_with_its_share_of_the_fee(
    shop: StripeShop,
) -> None:
    shop.pays.pay(shop.world.renter, shop.order_id, NOW)
    total = shop.orders.get(shop.order_id).quote["total"]
    paid = {"amount": total, "amount_received": total, "metadata": shop.charge_metadata}
    shop.deliver("payment_intent.succeeded", paid, "evt_order_paid")
    shop.deliver("payment_intent.succeeded", paid, "evt_order_paid")  # a duplicate delivery
    payments = [shop.payments.payment(bid) for bid in shop.booking_ids]
    quotes = [shop.world.bookings.get(bid).quote for bid in shop.booking_ids]
    assert [p.charge["captured"] for p in payments] == [q["total"] for q in quotes]
    assert sum(p.charge["fee"] for p in payments) == 709  # the charge's balance transaction
    assert shop.statuses() == [b.CONFIRMED, b.CONFIRMED]


def test_the_failed_webhook_fails_every_item(shop: StripeShop) -> None:
    shop.pays.pay(shop.world.renter, shop.order_id, NOW)
    failed = {"metadata": shop.charge_metadata}
    shop.deliver("payment_intent.payment_failed", failed, "evt_order_failed")
    assert shop.statuses() == [b.CANCELLED, b.CANCELLED]
    assert {shop.payments.payment(bid).charge["status"] for bid in shop.booking_ids} == {"failed"}


def test_a_cancelled_item_is_a_partial_refund_on_the_one_intent(
    shop: StripeShop,
    recorded: RecordedStripe,  # noqa: F811
) -> None:
    shop.pays.pay(shop.world.renter, shop.order_id, NOW)
    total = shop.orders.get(shop.order_id).quote["total"]
    paid = {"amount": total, "amount_received": total, "metadata": shop.charge_metadata}
    shop.deliver("payment_intent.succeeded", paid, "evt_order_paid")
    second = shop.booking_ids[1]
    shop.world.bookings.cancel(shop.world.renter, second, "one less", NOW)
    due = shop.world.bookings.get(second).refund_due["amount"]  # type: ignore[index]
    (seen,) = [s for s in recorded.seen if s.path == "/v1/refunds"]
    assert seen.form["payment_intent"] == INTENT and seen.form["amount"] == str(due)
    assert seen.form["metadata[payment_id]"] == str(shop.payments.payment(second).id)
    assert seen.headers["Idempotency-Key"] == f"rentbook:{second}:refund-cancel"
    # Stripe's charge.refunded carries the ORDER's metadata: the refund id finds the item.
    refunded = {"metadata": shop.charge_metadata, "amount": total, "amount_refunded": due}
    shop.deliver("charge.refunded", refunded, "evt_item_refunded")
    refund = shop.payments.payment(second).refunds["refund-cancel"]
    assert refund["status"] == "succeeded" and refund["amount"] == due
    assert shop.statuses() == [b.CONFIRMED, b.REFUNDED]
    assert shop.payments.payment(shop.booking_ids[0]).refunds == {}


def test_a_chargeback_without_metadata_is_found_by_intent_and_split(shop: StripeShop) -> None:
    shop.pays.pay(shop.world.renter, shop.order_id, NOW)
    total = shop.orders.get(shop.order_id).quote["total"]
    paid = {"amount": total, "amount_received": total, "metadata": shop.charge_metadata}
    shop.deliver("payment_intent.succeeded", paid, "evt_order_paid")
    # Another process: its payments view maps the intent to one item's payment (the last
    # one recorded), not to the order.
    shop.payments._intents.clear()
    shop.queries.intents[INTENT] = shop.payments.payment(shop.booking_ids[1]).id
    disputed = {"amount": total, "payment_intent": INTENT, "charge": CHARGE}
    shop.deliver("charge.dispute.created", disputed, "evt_dispute")
    payments = [shop.payments.payment(bid) for bid in shop.booking_ids]
    amounts = [sum(c["amount"] for c in p.chargebacks.values()) for p in payments]
    assert amounts == [p.charge["captured"] for p in payments] and sum(amounts) == total
