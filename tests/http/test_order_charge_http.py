"""An order's ONE processor charge over HTTP: paying a basket of two owners' items makes one
charge at the (simulated) gateway, each owner is paid out from it and the ledger verifies;
cancelling one item refunds its policy amount as a partial refund on that same charge."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from infrastructure.simulated_gateway import SimulatedGateway
from infrastructure.simulated_storage import objects
from tests.http.conftest import API, Api
from tests.http.test_admin_ledger_http import settled
from tests.http.test_orders_http import Shop, any_api  # noqa: F401  (the fixture)
from tests.polling import eventually


def gateway_objects(api: Api, kind: str) -> list[dict[str, Any]]:
    gateway = api.container.gateway
    assert isinstance(gateway, SimulatedGateway)
    with gateway.engine.connect() as conn:
        rows = conn.execute(sa.select(objects.c.data).where(objects.c.kind == kind)).all()
    return [json.loads(r.data) for r in rows]


def order_charges(api: Api, order_id: str) -> list[dict[str, Any]]:
    return [
        i
        for i in gateway_objects(api, "payment_intent")
        if i["metadata"].get("order_id") == order_id and i["metadata"]["step"] == "charge"
    ]


def paid_basket(shop: Shop) -> tuple[dict[str, Any], dict[str, Any]]:
    """Owner A's a1 and owner B's b1 from day 30, paid with the order's one charge."""
    order = shop.placed([shop.item(shop.a1, 30, 32), shop.item(shop.b1, 30, 31)])
    r = shop.post(f"/orders/{order['id']}/payment", shop.renter)
    assert r.status_code == 200, r.text
    payment = r.json()
    assert len(payment["payments"]) == 2  # (with rq the charge job may not have run yet)
    s = shop.post(f"/dev/payments/{payment['charge_id']}/succeed", shop.renter)
    assert s.status_code == 200, s.text
    body = shop.get(f"/orders/{order['id']}", shop.renter).json()
    assert body["status"] == "confirmed", body
    return order, payment


def verify_ledger(api: Api, shop: Shop) -> dict[str, Any]:
    headers = shop.admin.headers | settled(api)
    verify: dict[str, Any] = api.client.get(f"{API}/admin/ledger/verify", headers=headers).json()
    assert verify["balanced"] and verify["derived_matches_recorded"], verify
    return verify


def test_two_owners_items_are_one_charge_two_payouts_and_a_verified_ledger(api: Api) -> None:
    shop = Shop(api)
    gateway = api.container.gateway
    assert isinstance(gateway, SimulatedGateway)
    for owner in (shop.owner_a, shop.owner_b):  # both onboard to be paid out
        account = shop.post("/me/payout-account", owner, {}).json()
        gateway.complete_onboarding(account["account_id"])
    order, payment = paid_basket(shop)
    (charge,) = order_charges(api, order["id"])  # ONE charge for the whole basket
    assert charge["amount"] == order["quote"]["total"] == payment["total"]["amount"]
    assert charge["status"] == "succeeded"
    assert shop.post("/dev/clock", shop.admin, {"advance": "P33D"}).status_code == 200

    def payouts() -> list[dict[str, Any]] | None:
        transfers = gateway_objects(api, "transfer")
        return transfers if len(transfers) == 2 else None

    transfers = eventually(payouts, "a payout per owner")
    assert {t["source_transaction"] for t in transfers} == {charge["latest_charge"]}
    owed = {i["booking"]["owner_id"]: i["booking"]["quote"]["owner_payout"] for i in order["items"]}
    # A month later the sessions have expired: sign in again.
    shop.owner_a, shop.owner_b, shop.admin = (
        api.login(who.user["email"]) for who in (shop.owner_a, shop.owner_b, shop.admin)
    )
    for owner in (shop.owner_a, shop.owner_b):
        r = shop.get("/me/payouts", owner, **shop.wait())
        assert r.status_code == 200, r.text
        rows = r.json()["data"]
        assert [r["paid_out"]["amount"] for r in rows] == [owed[owner.id]]
    verify_ledger(api, shop)


def test_cancelling_one_item_refunds_it_on_the_same_charge(any_api: Api) -> None:  # noqa: F811
    shop = Shop(any_api)
    order, _ = paid_basket(shop)
    (charge,) = order_charges(any_api, order["id"])
    b_item = order["items"][1]["booking"]
    r = shop.post(f"/bookings/{b_item['id']}/cancel", shop.renter, {"reason": "one less"})
    assert r.status_code == 200, r.text
    due = r.json()["refund_due"]["amount"]
    assert 0 < due < charge["amount"]

    def refunded() -> list[dict[str, Any]] | None:
        found = [r for r in gateway_objects(any_api, "refund") if r["status"] == "succeeded"]
        return found or None

    (refund,) = eventually(refunded, "the item's refund")
    assert refund["payment_intent"] == charge["id"] and refund["amount"] == due
    body = eventually(
        lambda: (
            (b := shop.get(f"/orders/{order['id']}", shop.renter).json())
            and b["items"][1]["booking"]["status"] == "refunded"
            and b
        ),
        "the item refunded",
    )
    assert body["items"][0]["booking"]["status"] == "confirmed"
    assert body["status"] == "confirmed"  # the order follows the item still running
    # Cancelling the rest refunds the other item on the same charge, never beyond it.
    r = shop.post(f"/orders/{order['id']}/cancel", shop.renter, {"reason": "plans changed"})
    assert r.status_code == 200, r.text
    refunds = eventually(
        lambda: (found := refunded()) and len(found) == 2 and found, "the second refund"
    )
    assert {r["payment_intent"] for r in refunds} == {charge["id"]}
    assert sum(r["amount"] for r in refunds) <= charge["amount"]
    verify_ledger(any_api, shop)


def test_a_declined_order_charge_cancels_every_item(api: Api) -> None:
    shop = Shop(api)
    order = shop.placed([shop.item(shop.a1, 30, 32), shop.item(shop.b1, 30, 31)])
    payment = shop.post(f"/orders/{order['id']}/payment", shop.renter).json()
    r = shop.post(
        f"/dev/payments/{payment['charge_id']}/fail", shop.renter, {"reason": "do_not_honor"}
    )
    assert r.status_code == 200, r.text
    body = shop.get(f"/orders/{order['id']}", shop.renter).json()
    assert body["status"] == "cancelled"
    assert {i["booking"]["status"] for i in body["items"]} == {"cancelled"}
    assert shop.free_units(shop.a1, 30, 32) == [1, 1] and shop.free_units(shop.b1, 30, 31) == [1]
    (charge,) = order_charges(api, order["id"])
    assert charge["status"] == "requires_payment_method"  # declined, nothing captured
