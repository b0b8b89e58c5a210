"""An order paid with ONE charge on the simulated gateway, end to end through its signed
webhooks: one intent for the basket, each item captured with its share, a decline failing
every item, per-item partial refunds on the one charge, one payout per owner from it, a
chargeback split over the items, and a lost capture webhook reconciled."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from application.context import Actor
from application.order_payments import OrderPayments
from application.orders import OrderItem, Orders
from application.store import EventStore
from domain import booking as b
from domain.order_charge import order_charge_id_for
from infrastructure.simulated_card_network import DISPUTE_FEE
from infrastructure.simulated_storage import objects
from tests.application.test_payments_flows import Env, make_env
from tests.builders import NOW, verified_user


class Basket:
    """Owner A's listing (twice, two periods) and owner B's, in one order."""

    def __init__(self, tmp_path: Path, store: EventStore | None = None, **kw: Any) -> None:
        self.env: Env = make_env(tmp_path, store=store, **kw)
        world = self.env.world
        self.owner_b = Actor(verified_user(world.store, "Bea Owner"), "user")
        spec: dict[str, Any] = {"cancellation_policy": "flexible"}
        self.listing_b = replace(world, owner=self.owner_b).active_listing(**spec)
        self.orders = Orders(world.store, world.bookings)
        self.pays = OrderPayments(self.orders, self.env.payments)

    def place(self, *, twice: bool = False) -> tuple[UUID, list[UUID]]:
        a = self.env.listing_id
        assert a is not None
        items = [
            OrderItem(a, "2026-07-01", "2026-07-03"),
            OrderItem(self.listing_b, "2026-07-01", "2026-07-02"),
        ]
        if twice:
            items.append(OrderItem(a, "2026-07-05", "2026-07-06"))
        order_id, _ = self.orders.place(self.env.world.renter, items, guests=2, at=NOW)
        booking_ids = self.orders.get(order_id).booking_ids
        self.env.queries.ids.extend(booking_ids)
        return order_id, booking_ids

    def intents(self, step: str = "charge") -> list[dict[str, Any]]:
        with self.env.gateway.engine.connect() as conn:
            rows = conn.execute(sa.select(objects.c.data).where(objects.c.kind == "payment_intent"))
            found = [json.loads(r.data) for r in rows]
        return [i for i in found if i["metadata"]["step"] == step]

    def paid(self, **kw: Any) -> tuple[UUID, list[UUID]]:
        order_id, booking_ids = self.place(**kw)
        self.pays.pay(self.env.world.renter, order_id, NOW)
        self.env.gateway.settle_pending(order_charge_id_for(order_id))
        for booking_id in booking_ids:
            payment = self.env.payments.payment(booking_id)
            if payment.deposit:
                self.env.gateway.settle_pending(payment.id)  # its deposit hold
        return order_id, booking_ids


def test_an_order_of_two_owners_is_one_charge_captured_in_shares(
    tmp_path: Path, money_store: EventStore
) -> None:
    shop = Basket(tmp_path, money_store)
    order_id, booking_ids = shop.place()
    result = shop.pays.pay(shop.env.world.renter, order_id, NOW)
    total = shop.orders.get(order_id).quote["total"]
    assert result["charge_id"] == order_charge_id_for(order_id) and result["client_secret"]
    (intent,) = shop.intents()  # ONE intent for the basket, one key per order
    assert intent["amount"] == total == result["total"]["amount"]
    assert intent["metadata"]["order_id"] == str(order_id)
    assert len(shop.intents("deposit")) == 1  # a hold per item that has a deposit (A's)
    shop.env.gateway.settle_pending(order_charge_id_for(order_id))
    payments = [shop.env.payments.payment(bid) for bid in booking_ids]
    quotes = [shop.env.world.bookings.get(bid).quote for bid in booking_ids]
    assert [p.charge["captured"] for p in payments] == [q["total"] for q in quotes]
    assert {p.charge["intent_id"] for p in payments} == {intent["id"]}
    charge = shop.env.payments.order_charge(order_charge_id_for(order_id))
    assert charge.fee > 0 and sum(p.charge["fee"] for p in payments) == charge.fee
    assert [p.owner_id for p in payments] == [shop.env.world.owner.id, shop.owner_b.id]
    # B has no deposit and is confirmed; A waits for its deposit hold.
    assert [shop.env.status(bid) for bid in booking_ids] == [b.PENDING_PAYMENT, b.CONFIRMED]
    shop.env.gateway.settle_pending(payments[0].id)  # A's deposit hold
    assert {shop.env.status(bid) for bid in booking_ids} == {b.CONFIRMED}


def test_two_items_of_one_listing_confirm_from_one_capture(tmp_path: Path) -> None:
    shop = Basket(tmp_path, deposit=None)
    order_id, booking_ids = shop.paid(twice=True)  # they share listing A's calendar
    assert {shop.env.status(bid) for bid in booking_ids} == {b.CONFIRMED}
    charge = shop.env.payments.order_charge(order_charge_id_for(order_id))
    assert [s["amount"] for s in charge.shares] == [
        shop.env.world.bookings.get(bid).quote["total"] for bid in booking_ids
    ]


def test_a_declined_order_charge_fails_every_item_and_frees_every_unit(tmp_path: Path) -> None:
    shop = Basket(tmp_path, deposit=None)
    order_id, booking_ids = shop.place(twice=True)  # two items share listing A's calendar
    shop.pays.pay(shop.env.world.renter, order_id, NOW)
    shop.env.gateway.settle(order_charge_id_for(order_id), succeed=False, reason="do_not_honor")
    assert {shop.env.status(bid) for bid in booking_ids} == {b.CANCELLED}
    payments = [shop.env.payments.payment(bid) for bid in booking_ids]
    assert {p.charge["status"] for p in payments} == {"failed"}
    again, _ = shop.place(twice=True)  # every unit was released: the same basket fits again
    assert again != order_id


def test_cancelling_one_item_refunds_part_of_the_one_charge(
    tmp_path: Path, money_store: EventStore
) -> None:
    shop = Basket(tmp_path, money_store)
    order_id, (first, second) = shop.paid()
    world = shop.env.world
    world.bookings.cancel(world.renter, second, "one less", NOW)
    (intent,) = shop.intents()
    refund = shop.env.payments.payment(second).refunds["refund-cancel"]
    assert refund["status"] == "succeeded" and refund["amount"] > 0
    assert shop.env.status(second) == b.REFUNDED and shop.env.status(first) == b.CONFIRMED
    shop.pays.cancel(world.renter, order_id, "none at all", NOW)
    with shop.env.gateway.engine.connect() as conn:
        rows = conn.execute(sa.select(objects.c.data).where(objects.c.kind == "refund"))
        refunds = [json.loads(r.data) for r in rows]
    assert len(refunds) == 2 and {r["payment_intent"] for r in refunds} == {intent["id"]}
    assert sum(r["amount"] for r in refunds) <= intent["amount"]
    assert {shop.env.status(bid) for bid in (first, second)} == {b.REFUNDED}


def test_each_owner_is_paid_out_from_the_one_charge(tmp_path: Path) -> None:
    shop = Basket(tmp_path, deposit=None)
    _, booking_ids = shop.paid()
    env, world = shop.env, shop.env.world
    for owner in (world.owner, shop.owner_b):
        link = env.payments.payout_account_link(
            owner, "o@example.com", refresh_url="r", return_url="d", at=NOW
        )
        env.gateway.complete_onboarding(link["account_id"])
    starts = [world.bookings.get(bid).start_at for bid in booking_ids]
    for bid, start in zip(booking_ids, starts, strict=True):
        world.bookings.begin(bid, start)
    env.payments.run_due(max(starts) + timedelta(hours=25))
    (intent,) = shop.intents()
    with env.gateway.engine.connect() as conn:
        rows = conn.execute(sa.select(objects.c.data).where(objects.c.kind == "transfer"))
        transfers = [json.loads(r.data) for r in rows]
    assert len(transfers) == 2 and {t["source_transaction"] for t in transfers} == {
        intent["latest_charge"]
    }
    for bid in booking_ids:
        payment = env.payments.payment(bid)
        sent = [t for t in payment.transfers.values() if t["status"] == "sent"]
        assert [t["amount"] for t in sent] == [world.bookings.get(bid).quote["owner_payout"]]
        assert payment.owner_balance == 0


def test_a_chargeback_on_the_one_charge_is_split_over_the_items(tmp_path: Path) -> None:
    shop = Basket(tmp_path, deposit=None)
    _, booking_ids = shop.paid()
    (intent,) = shop.intents()
    shop.env.gateway.open_dispute(intent["id"])
    payments = [shop.env.payments.payment(bid) for bid in booking_ids]
    withdrawn = [sum(c["withdrawn"] for c in p.chargebacks.values()) for p in payments]
    fees = [
        e.fee
        for p in payments
        for e in shop.env.world.store.repository.event_store.get(p.id)
        if type(e).__name__ == "ChargebackFundsWithdrawn"
    ]
    assert withdrawn == [p.charge["captured"] for p in payments]
    assert sum(withdrawn) == intent["amount"] and sum(fees) == DISPUTE_FEE


def test_a_lost_capture_webhook_is_reconciled_for_every_item(tmp_path: Path) -> None:
    shop = Basket(tmp_path, deposit=None, deliver=False)
    order_id, booking_ids = shop.place()
    shop.pays.pay(shop.env.world.renter, order_id, NOW)
    shop.env.gateway.deliver_pending()
    shop.env.gateway.settle_pending(order_charge_id_for(order_id))  # its webhook never comes
    assert {shop.env.status(bid) for bid in booking_ids} == {b.PENDING_PAYMENT}
    shop.env.payments.reconcile(NOW + timedelta(minutes=5))  # before the holds lapse
    assert {shop.env.status(bid) for bid in booking_ids} == {b.CONFIRMED}
    payments = [shop.env.payments.payment(bid) for bid in booking_ids]
    charge = shop.env.payments.order_charge(order_charge_id_for(order_id))
    assert charge.fee > 0 and sum(p.charge["fee"] for p in payments) == charge.fee
    assert shop.env.gateway.deliver_pending() >= 1  # the late webhook is a no-op
    assert [p.version for p in payments] == [
        shop.env.payments.payment(bid).version for bid in booking_ids
    ]
