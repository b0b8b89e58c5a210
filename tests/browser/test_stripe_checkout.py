"""The Stripe checkout in a browser, on a server whose gateway is Stripe pointed at a local
server of recorded Stripe responses (tests/web/stripe_recorded.py).

THE REAL STRIPE.JS IS NOT EXERCISED: Playwright answers https://js.stripe.com/v3/ with a
small fake `Stripe()` that records every call and, on `confirmPayment`, does what Stripe.js
does after a successful confirmation: it sends the browser to the `return_url`. The test
proves our page loads Stripe.js from js.stripe.com under its CSP, mounts the Payment Element
with the booking's own client secret and confirms with our return URL; that the return page
reads the status from the server; and that the trip turns confirmed live when the webhook
lands."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from playwright.sync_api import Page, expect

import tests.e2e.served as served_module
from tests.browser.api_client import bearer, instant_stay, signed_in_as, stay_dates, token
from tests.browser.harness import AXE, BLOCKING_IMPACTS, RENTER
from tests.e2e.served import Served, free_port, serve
from tests.web.stripe_recorded import LocalStripe, serve_local_stripe

PUBLISHABLE = "pk_test_browser_journey"
WEBHOOK_SECRET = "whsec_browser_journey"

# Stands in for Stripe.js (see the module docstring): records calls through `stripeCall`.
FAKE_STRIPE_JS = """
window.Stripe = function (key) {
  window.stripeCall(JSON.stringify(["Stripe", key]));
  return {
    elements: function (options) {
      window.stripeCall(JSON.stringify(["elements", options.clientSecret]));
      var elements = {clientSecret: options.clientSecret};
      elements.create = function (type) {
        window.stripeCall(JSON.stringify(["create", type]));
        return {mount: function (selector) {
          window.stripeCall(JSON.stringify(["mount", selector]));
          document.querySelector(selector).innerHTML =
            '<label>Card (fake Stripe element) <input id="fake-card" value="4242"></label>';
        }};
      };
      return elements;
    },
    confirmPayment: function (params) {
      var secret = params.elements.clientSecret;
      var url = params.confirmParams.return_url;
      return window.stripeCall(JSON.stringify(["confirmPayment", secret, url])).then(function () {
        var intent = secret.split("_secret_")[0];
        window.location.assign(url + "?payment_intent=" + intent +
          "&payment_intent_client_secret=" + secret + "&redirect_status=succeeded");
        return new Promise(function () {});
      });
    }
  };
};
"""


def assert_accessible_under_csp(page: Page) -> None:
    """harness.assert_accessible, but axe-core goes in through the DevTools protocol: the
    checkout's CSP rightly refuses the inline script tag that helper adds."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = [v["id"] for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not found, f"axe found on {page.url}: {found}"


@contextmanager
def _stripe_served(data: Path, stub: LocalStripe) -> Iterator[Served]:
    # The return URL is built from RENTBOOK_PUBLIC_URL: serve on a port chosen here.
    port = free_port()
    env = {
        "RENTBOOK_DATA_DIR": str(data),
        "RENTBOOK_LOG_FORMAT": "console",
        "RENTBOOK_ENVIRONMENT": "development",
        "RENTBOOK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "RENTBOOK_PAYMENT_GATEWAY": "stripe",
        "RENTBOOK_STRIPE_SECRET_KEY": "sk_test_recorded",
        "RENTBOOK_STRIPE_API_BASE": stub.url,
        "RENTBOOK_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE,
        "RENTBOOK_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(served_module, "free_port", lambda: port)
        with serve(["--demo-listings", "3"], env, data / "serve.log") as server:
            yield server


@pytest.fixture(scope="module")
def local_stripe() -> Iterator[LocalStripe]:
    yield from serve_local_stripe()


@pytest.fixture(scope="module")
def stripe_served(
    tmp_path_factory: pytest.TempPathFactory, local_stripe: LocalStripe
) -> Iterator[Served]:
    with _stripe_served(tmp_path_factory.mktemp("stripe-store"), local_stripe) as server:
        yield server


def _webhook(served: Served, intent: dict[str, Any]) -> None:
    obj = intent | {"status": "succeeded", "amount_received": intent["amount"]}
    obj["latest_charge"] = LocalStripe.charge_of(intent)
    event = {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "created": int(time.time())}
    event |= {"type": "payment_intent.succeeded", "data": {"object": obj}, "livemode": False}
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, int(time.time())
    )
    r = httpx.post(
        f"{served.base_url}/api/v1/payments/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text


def test_a_renter_pays_with_the_payment_element_and_the_trip_confirms_when_the_webhook_lands(
    page: Page, stripe_served: Served, local_stripe: LocalStripe
) -> None:
    base = stripe_served.base_url
    stay = instant_stay(stripe_served)
    start, end = stay_dates(45)
    r = httpx.post(
        f"{base}/api/v1/bookings",
        json={"listing_id": stay["id"], "start": start, "end": end, "guests": 1},
        headers=bearer(token(stripe_served, RENTER)),
    )
    assert r.status_code == 201, r.text
    booking_id = str(r.json()["id"])

    calls: list[list[str]] = []
    page.expose_function("stripeCall", lambda text: calls.append(json.loads(text)))
    page.route(
        "https://js.stripe.com/**",
        lambda route: route.fulfill(content_type="text/javascript", body=FAKE_STRIPE_JS),
    )
    signed_in_as(page, stripe_served, RENTER)
    page.goto(f"{base}/trips/{booking_id}")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(f"{base}/trips/{booking_id}/checkout")
    expect(page.locator("#fake-card")).to_be_visible()  # the element was mounted

    intent = local_stripe.intent_of(booking_id)
    secret = intent["client_secret"]
    assert calls[:4] == [
        ["Stripe", PUBLISHABLE],
        ["elements", secret],
        ["create", "payment"],
        ["mount", "#payment-element"],
    ]
    assert_accessible_under_csp(page)

    # Stripe would now hold a succeeded intent; the webhook has not landed yet.
    local_stripe.status[intent["id"]] = "succeeded"
    page.get_by_role("button", name="Pay now").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/trips/{booking_id}/paid\?payment_intent="))
    assert calls[4] == ["confirmPayment", secret, f"{base}/trips/{booking_id}/paid"]
    expect(page.locator("#checkout-outcome")).to_have_attribute("data-intent-status", "succeeded")
    expect(page.locator("#processing")).to_be_visible()
    expect(page.get_by_text("Paid — your booking is confirmed.")).to_be_hidden()
    expect(page.locator("#trip-status")).to_have_attribute("data-status", "pending_payment")
    expect(page.locator("#live-status")).to_have_attribute("data-following", "sse")
    assert_accessible_under_csp(page)

    _webhook(stripe_served, intent)
    expect(page.locator("#trip-status")).to_have_attribute("data-status", "confirmed")
    expect(page.locator("#processing")).to_be_hidden()  # no reload: the live status decides
    expect(page.get_by_text("Paid — your booking is confirmed.")).to_be_visible()
