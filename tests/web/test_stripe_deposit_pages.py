"""A listing with a deposit on the Stripe checkout, over HTTP against the local recorded
Stripe (tests/web/stripe_recorded.py): the charge is confirmed first, then the return page
offers the hold as its own Payment Element with the deposit intent's client secret, until
Stripe reports the hold in place. Stripe.js itself never runs here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.helpers import browser_login, publish_listing, wait_views
from tests.web.stripe_recorded import LocalStripe, serve_local_stripe
from tests.web.test_stripe_checkout_pages import PUBLIC, Api, _booking, _pay, _stripe_api


@pytest.fixture
def local_stripe() -> Iterator[LocalStripe]:
    yield from serve_local_stripe()


@pytest.fixture
def api(tmp_path: Path, local_stripe: LocalStripe) -> Iterator[Api]:
    yield from _stripe_api(tmp_path, local_stripe)


def test_the_deposit_hold_is_the_second_step_with_its_own_client_secret(
    api: Api, local_stripe: LocalStripe
) -> None:
    owner = api.new_user()
    deposit = {"amount": 20_000, "currency": "EUR"}
    listing_id, position = publish_listing(api, owner, deposit=deposit)
    wait_views(api, position)
    renter = api.new_user()
    booking_id = _booking(api, renter, listing_id, 20)
    browser_login(api.client, renter.email)
    checkout = _pay(api, booking_id)
    charge = local_stripe.intent_of(booking_id, "charge")
    hold = local_stripe.intent_of(booking_id, "deposit")
    assert f'data-client-secret="{charge["client_secret"]}"' in checkout
    assert hold["client_secret"] not in checkout and 'id="deposit-next"' in checkout

    # The charge is not through yet: no deposit step.
    page = api.client.get(f"/trips/{booking_id}/paid")
    assert "The payment did not go through." in page.text and "data-client-secret" not in page.text

    local_stripe.status[charge["id"]] = "succeeded"
    page = api.client.get(f"/trips/{booking_id}/paid")
    assert page.status_code == 200 and "One more step: the deposit." in page.text
    assert f'data-client-secret="{hold["client_secret"]}"' in page.text
    assert charge["client_secret"] not in page.text
    assert f'data-return-url="{PUBLIC}/trips/{booking_id}/paid"' in page.text
    assert 'data-deposit-status="requires_payment_method"' in page.text
    assert "https://js.stripe.com" in page.headers["Content-Security-Policy"]

    local_stripe.status[hold["id"]] = "requires_capture"  # the hold is on the card
    page = api.client.get(f"/trips/{booking_id}/paid")
    assert "Payment received — processing." in page.text
    assert 'data-deposit-status="requires_capture"' in page.text
    assert "data-client-secret" not in page.text and "Content-Security-Policy" not in page.headers
