"""Payments over HTTP: the signed webhook endpoint, one charge for 20 racing requests with
one Idempotency-Key, owners' payouts and onboarding, the failed-job registry."""

from __future__ import annotations

import json
import threading
import time
from uuid import UUID

import pytest
import stripe

from domain.event_meta import event_meta
from infrastructure.simulated_gateway import DEFAULT_WEBHOOK_SECRET, SimulatedGateway
from tests.http.conftest import API, Api
from tests.http.test_bookings_http import Market, MarketFactory, code, open_listing

WEBHOOK = f"{API}/payments/webhooks/stripe"


@pytest.fixture
def shop(api: Api) -> MarketFactory:
    def make(**overrides: object) -> Market:
        owner, admin, renter = api.new_user(), api.admin(), api.new_user()
        return Market(api, owner, admin, renter, open_listing(api, owner, admin, **overrides))

    return make


def _event(event_id: str, kind: str, obj: dict[str, object]) -> bytes:
    body = {"id": event_id, "object": "event", "type": kind, "created": int(time.time())}
    return json.dumps({**body, "data": {"object": obj}, "livemode": False}).encode()


def _signed(payload: bytes, secret: str = DEFAULT_WEBHOOK_SECRET) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, int(time.time())
    )
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def _succeeded(shop: MarketFactory) -> tuple[bytes, str, str]:
    m = shop()
    booking = m.placed()
    payment_id = m.pay(booking["id"])
    gateway = m.api.container.gateway
    assert isinstance(gateway, SimulatedGateway)
    payment = m.api.container.store.load(UUID(payment_id), "payment")
    intent = {
        "id": payment.charge["intent_id"],
        "object": "payment_intent",
        "status": "succeeded",
        "amount": booking["quote"]["total"]["amount"]
        if isinstance(booking["quote"]["total"], dict)
        else booking["quote"]["total"],
        "currency": "eur",
        "latest_charge": "ch_test_1",
        "metadata": {"payment_id": payment_id, "booking_id": booking["id"], "step": "charge"},
    }
    intent["amount_received"] = intent["amount"]
    return _event("evt_http_1", "payment_intent.succeeded", intent), booking["id"], payment_id


def test_a_bad_signature_is_400_and_records_nothing(api: Api, shop: MarketFactory) -> None:
    payload, booking_id, _ = _succeeded(shop)
    before = api.container.store.current_position()
    for headers in (
        {"Stripe-Signature": "t=1,v1=00"},
        _signed(payload, "whsec_someone_else"),
        {},
    ):
        r = api.client.post(WEBHOOK, content=payload, headers=headers)
        assert r.status_code == 400 and code(r) == "invalid_signature", r.text
    tampered = payload.replace(b"succeeded", b"succeeded ")
    r = api.client.post(WEBHOOK, content=tampered, headers=_signed(payload))
    assert r.status_code == 400
    assert api.container.store.current_position() == before
    assert api.container.bookings.get(UUID(booking_id)).status == "pending_payment"


def test_a_signed_webhook_confirms_and_a_duplicate_is_200(api: Api, shop: MarketFactory) -> None:
    payload, booking_id, _ = _succeeded(shop)
    r = api.client.post(WEBHOOK, content=payload, headers=_signed(payload))
    assert r.status_code == 200, r.text
    store = api.container.store
    position = store.current_position()
    r = api.client.post(WEBHOOK, content=payload, headers=_signed(payload))
    assert r.status_code == 200
    # Nothing recorded for the duplicate (the ledger thread may record meanwhile: not its doing).
    notes = store.recorder.select_notifications(position, 10_000, inclusive_of_start=False)
    request_id = r.headers["X-Request-Id"]
    recorded = [
        n
        for n in notes
        if event_meta(store.mapper.to_domain_event(n)).get("request_id") == request_id
    ]
    assert recorded == []
    assert api.container.bookings.get(UUID(booking_id)).status == "confirmed"


def test_ignored_event_types_are_acknowledged(api: Api) -> None:
    payload = _event("evt_other", "customer.created", {"id": "cus_1", "object": "customer"})
    r = api.client.post(WEBHOOK, content=payload, headers=_signed(payload))
    assert r.status_code == 200


def test_twenty_racing_requests_with_one_key_make_one_charge(shop: MarketFactory) -> None:
    m = shop()
    booking_id = m.placed()["id"]
    headers = m.renter.headers | {"Idempotency-Key": "pay-once"}
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def pay() -> None:
        r = m.api.client.post(f"{API}/bookings/{booking_id}/payment", headers=headers)
        with lock:
            answers.append((r.status_code, r.text))

    threads = [threading.Thread(target=pay) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [text for status, text in answers if status == 200]
    assert ok and all(status in (200, 409) for status, _ in answers)
    assert len(set(ok)) == 1  # replays are byte for byte
    gateway = m.api.container.gateway
    assert isinstance(gateway, SimulatedGateway)
    with gateway.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "select data from simulated_objects where kind = 'payment_intent'"
        ).scalars()
        intents = [json.loads(r) for r in rows]
    mine = [i for i in intents if i["metadata"]["booking_id"] == booking_id]
    assert len(mine) == 1


def test_owner_sees_payouts_and_gets_an_onboarding_link(shop: MarketFactory) -> None:
    m = shop()
    booking = m.paid()
    position = str(m.api.container.store.current_position())
    r = m.api.client.get(
        f"{API}/me/payouts",
        headers=m.owner.headers | {"X-Rentbook-Min-Position": position},
    )
    assert r.status_code == 200, r.text
    page = r.json()
    assert [p["booking_id"] for p in page["data"]] == [booking["id"]]
    assert page["data"][0]["payment_status"] == "captured"
    assert page["data"][0]["payout_status"] == "none"
    renter_view = m.api.client.get(f"{API}/me/payouts", headers=m.renter.headers).json()
    assert renter_view["data"] == []
    r = m.post("/me/payout-account", m.owner, {})
    assert r.status_code == 200, r.text
    assert r.json()["account_id"].startswith("acct_") and r.json()["payouts_enabled"] is False
    again = m.post("/me/payout-account", m.owner, {})
    assert again.json()["account_id"] == r.json()["account_id"]


def test_failed_jobs_are_admin_only_and_unknown_ids_are_404(shop: MarketFactory) -> None:
    m = shop()
    r = m.api.client.get(f"{API}/admin/jobs/failed", headers=m.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == []
    assert m.api.client.get(f"{API}/admin/jobs/failed", headers=m.renter.headers).status_code == 403
    r = m.post("/admin/jobs/nope/retry", m.admin)
    assert r.status_code == 404
