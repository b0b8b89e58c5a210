"""The Stripe checkout pages over HTTP, with the Stripe gateway pointed at a local server
answering recorded Stripe responses (tests/web/stripe_recorded.py): the pay page carries the
publishable key, the client secret of the booking's own PaymentIntent and our return URL;
the return page shows the intent's status as Stripe tells the server, whatever the query
string says, and the booking's state from our store; nobody else's booking is shown.
Stripe.js itself never runs here (see tests/browser/test_stripe_checkout.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import stripe

from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import CHEAP_ARGON2, Api, Auth, https_client, make_app
from tests.web.helpers import API, browser_login, csrf_of, publish_listing, wait_views
from tests.web.stripe_recorded import LocalStripe, serve_local_stripe

PUBLISHABLE = "pk_test_rentbook_web"
WEBHOOK_SECRET = "whsec_rentbook_web_test"
PUBLIC = "https://rentbook.example"


@pytest.fixture
def local_stripe() -> Iterator[LocalStripe]:
    yield from serve_local_stripe()


def _stripe_api(tmp_path: Path, stub: LocalStripe, **settings: Any) -> Iterator[Api]:
    config = Settings(
        environment="test",
        data_dir=tmp_path / "var",
        payment_gateway="stripe",
        stripe_secret_key="sk_test_recorded",
        stripe_api_base=stub.url,
        stripe_webhook_secret=WEBHOOK_SECRET,
        public_url=PUBLIC,
        **({"stripe_publishable_key": PUBLISHABLE} | settings),
    )
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))  # signatures: real time
    container: Container = build_container(
        config, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2
    )
    container.start_workers(scheduler_interval=0.5)
    try:
        with https_client(make_app(container)) as client:
            yield Api(client, container, clock)
    finally:
        container.close()


@pytest.fixture
def api(tmp_path: Path, local_stripe: LocalStripe) -> Iterator[Api]:
    yield from _stripe_api(tmp_path, local_stripe)


def _booking(api: Api, renter: Auth, listing_id: str, days_ahead: int) -> str:
    start = api.clock.now().date() + timedelta(days=days_ahead)
    body = {"listing_id": listing_id, "start": f"{start}", "end": f"{start + timedelta(days=2)}"}
    r = api.client.post(f"{API}/bookings", json=body, headers=renter.headers)
    assert r.status_code == 201, r.text
    wait_views(api, r.headers["X-Rentbook-Position"])
    return str(r.json()["id"])


def _pay(api: Api, booking_id: str) -> str:
    """The trip page's Pay button, as the signed-in renter: the checkout page's HTML."""
    token = csrf_of(api.client.get(f"/trips/{booking_id}").text)
    r = api.client.post(
        f"/trips/{booking_id}/pay", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/trips/{booking_id}/checkout"
    page = api.client.get(r.headers["location"])
    assert page.status_code == 200, page.text
    return page.text


def _market(api: Api) -> tuple[str, Auth]:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    return listing_id, api.new_user()


def test_the_checkout_carries_the_key_the_secret_of_this_bookings_intent_and_the_return_url(
    api: Api, local_stripe: LocalStripe
) -> None:
    listing_id, renter = _market(api)
    first, second = _booking(api, renter, listing_id, 20), _booking(api, renter, listing_id, 40)
    browser_login(api.client, renter.email)
    page_one = _pay(api, first)
    page_two = _pay(api, second)
    one, two = local_stripe.intent_of(first), local_stripe.intent_of(second)
    assert one["client_secret"] != two["client_secret"]
    assert f'data-client-secret="{one["client_secret"]}"' in page_one
    assert two["client_secret"] not in page_one
    assert f'data-client-secret="{two["client_secret"]}"' in page_two
    assert f'data-publishable-key="{PUBLISHABLE}"' in page_one
    assert f'data-return-url="{PUBLIC}/trips/{first}/paid"' in page_one
    assert '<script src="https://js.stripe.com/v3/"></script>' in page_one
    assert "sk_test_recorded" not in page_one  # the secret key never reaches a page
    # Visiting again obtains the same intent (the use case is idempotent), not a new one.
    again = api.client.get(f"/trips/{first}/checkout")
    assert f'data-client-secret="{one["client_secret"]}"' in again.text
    assert len([i for i in local_stripe.intents.values() if i is one]) == 1
    csp = again.headers["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com" in csp
    assert (
        "frame-src https://js.stripe.com" in csp
        and "connect-src 'self' https://api.stripe.com" in csp
    )
    # The simulated card step is not offered: its page sends to the checkout.
    card = api.client.get(f"/trips/{first}/card", follow_redirects=False)
    assert card.status_code == 303 and card.headers["location"] == f"/trips/{first}/checkout"
    assert f'href="/trips/{first}/checkout"' in api.client.get(f"/trips/{first}").text


def _signed_event(kind: str, intent: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    obj = intent | {"status": "succeeded", "amount_received": intent["amount"]}
    obj["latest_charge"] = LocalStripe.charge_of(intent)
    event = {
        "id": f"evt_{intent['id']}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
    }
    payload = json.dumps(event | {"data": {"object": obj}, "livemode": False}).encode()
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), WEBHOOK_SECRET, int(time.time())
    )
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}


def test_the_return_page_reads_the_status_from_stripe_not_the_query_string(
    api: Api, local_stripe: LocalStripe
) -> None:
    listing_id, renter = _market(api)
    booking_id = _booking(api, renter, listing_id, 20)
    browser_login(api.client, renter.email)
    _pay(api, booking_id)
    intent = local_stripe.intent_of(booking_id)
    forged = {
        "payment_intent": intent["id"],
        "payment_intent_client_secret": intent["client_secret"],
        "redirect_status": "succeeded",
    }
    # Stripe says the card was not accepted: a forged "succeeded" in the URL changes nothing.
    page = api.client.get(f"/trips/{booking_id}/paid", params=forged)
    assert page.status_code == 200
    assert 'data-intent-status="requires_payment_method"' in page.text
    assert "The payment did not go through." in page.text
    assert f'href="/trips/{booking_id}/checkout"' in page.text
    assert ("GET", f"/v1/payment_intents/{intent['id']}") in local_stripe.seen

    # Stripe says succeeded, the webhook has not landed: processing, booking still pending.
    local_stripe.status[intent["id"]] = "succeeded"
    failed = forged | {"redirect_status": "failed"}
    page = api.client.get(f"/trips/{booking_id}/paid", params=failed)
    assert 'data-intent-status="succeeded"' in page.text
    assert "Payment received — processing." in page.text
    assert 'data-status="pending_payment"' in page.text

    # The webhook lands: the booking is confirmed and the page says so.
    payload, headers = _signed_event("payment_intent.succeeded", intent)
    r = api.client.post(f"{API}/payments/webhooks/stripe", content=payload, headers=headers)
    assert r.status_code == 200, r.text
    assert api.container.bookings.get(UUID(booking_id)).status == "confirmed"
    page = api.client.get(f"/trips/{booking_id}/paid")
    assert "your booking is confirmed" in page.text and 'data-status="confirmed"' in page.text
    again = api.client.get(f"/trips/{booking_id}/checkout", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/trips/{booking_id}"


def test_another_users_booking_is_not_found_and_the_owner_cannot_pay(
    api: Api, local_stripe: LocalStripe
) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    renter = api.new_user()
    booking_id = _booking(api, renter, listing_id, 20)
    browser_login(api.client, renter.email)
    _pay(api, booking_id)
    secret = local_stripe.intent_of(booking_id)["client_secret"]
    stranger = api.register()
    browser_login(api.client, stranger["email"])
    for step in ("checkout", "paid"):
        page = api.client.get(f"/trips/{booking_id}/{step}")
        assert page.status_code == 404 and secret not in page.text
    browser_login(api.client, owner.email)
    assert api.client.get(f"/trips/{booking_id}/checkout").status_code == 403
    assert api.client.get(f"/trips/{booking_id}/paid").status_code == 403
    api.client.cookies.clear()
    signed_out = api.client.get(f"/trips/{booking_id}/paid", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")


def test_before_paying_and_while_stripe_is_down_the_return_page_says_so(
    api: Api, local_stripe: LocalStripe
) -> None:
    listing_id, renter = _market(api)
    booking_id = _booking(api, renter, listing_id, 20)
    browser_login(api.client, renter.email)
    page = api.client.get(f"/trips/{booking_id}/paid")
    assert page.status_code == 200 and "No payment has been made" in page.text
    _pay(api, booking_id)
    local_stripe.retrieve_fails = True
    page = api.client.get(f"/trips/{booking_id}/paid")
    assert page.status_code == 200 and "could not reach the payment processor" in page.text


def test_without_a_publishable_key_the_checkout_says_cards_are_unavailable(
    tmp_path: Path, local_stripe: LocalStripe
) -> None:
    for api in _stripe_api(tmp_path, local_stripe, stripe_publishable_key=None):
        listing_id, renter = _market(api)
        booking_id = _booking(api, renter, listing_id, 20)
        browser_login(api.client, renter.email)
        page = api.client.get(f"/trips/{booking_id}/checkout")
        assert page.status_code == 503 and 'id="checkout-unavailable"' in page.text
        assert "js.stripe.com" not in page.text and local_stripe.intents == {}


def test_on_the_simulated_gateway_the_checkout_is_the_simulated_card(api_simulated: Api) -> None:
    listing_id, renter = _market(api_simulated)
    booking_id = _booking(api_simulated, renter, listing_id, 20)
    browser_login(api_simulated.client, renter.email)
    r = api_simulated.client.get(f"/trips/{booking_id}/checkout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/trips/{booking_id}/card"


@pytest.fixture
def api_simulated(tmp_path: Path) -> Iterator[Api]:
    config = Settings(environment="test", data_dir=tmp_path / "sim")
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    container = build_container(config, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2)
    container.start_workers(scheduler_interval=0.5)
    try:
        with https_client(make_app(container)) as client:
            yield Api(client, container, clock)
    finally:
        container.close()


def test_a_declined_or_unanswered_intent_creation_is_said_on_the_checkout(
    api: Api, local_stripe: LocalStripe
) -> None:
    listing_id, renter = _market(api)
    declined, queued = _booking(api, renter, listing_id, 20), _booking(api, renter, listing_id, 40)
    browser_login(api.client, renter.email)
    local_stripe.create_answer = (402, "error_card_declined")
    page = api.client.get(f"/trips/{declined}/checkout")
    assert page.status_code == 200 and "The processor declined this payment." in page.text
    assert "js.stripe.com" not in page.text
    # Stripe down: the charge job is retried in the background; the page waits and refreshes.
    local_stripe.create_answer = (500, "error_api")
    page = api.client.get(f"/trips/{queued}/checkout")
    assert page.status_code == 200 and 'id="checkout-preparing"' in page.text
    assert '<meta http-equiv="refresh" content="2">' in page.text
    assert "data-client-secret" not in page.text
