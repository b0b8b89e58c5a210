"""The owner's calendar and requests inbox over HTTP, checked against the API: unblocking
frees the dates again, "Back to base price" removes a date's price, and declining a request
ends the booking (cancelled, with the owner's reason), which the renter then sees."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from tests.http.conftest import Auth
from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views


def _calendar_days(api: Api, listing_id: str, first: date, days: int) -> list[dict[str, Any]]:
    r = api.client.get(
        f"{API}/listings/{listing_id}/calendar",
        params={"from": first.isoformat(), "to": (first + timedelta(days=days)).isoformat()},
    )
    assert r.status_code == 200, r.text
    return list(r.json())


def _post(api: Api, listing_id: str, token: str, **form: str) -> Any:
    """A calendar form, the redirect followed (it waits for the views, as a browser's would)."""
    r = api.client.post(f"/host/listings/{listing_id}/calendar", data={"csrf_token": token, **form})
    assert r.status_code == 200, r.text
    return r


def _owned_listing(api: Api) -> tuple[Auth, str, str]:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)  # 100.00 EUR a night
    wait_views(api, position)
    return owner, listing_id, browser_login(api.client, owner.email)


def test_unblocking_from_the_calendar_frees_the_dates_on_the_page_and_in_the_api(
    api: Api,
) -> None:
    _, listing_id, token = _owned_listing(api)
    first = api.clock.now().date() + timedelta(days=10)
    block = {"block_start": first.isoformat(), "block_end": (first + timedelta(days=2)).isoformat()}
    page = _post(api, listing_id, token, action="block", block_reason="paint", **block)
    assert [d["blocked"] for d in _calendar_days(api, listing_id, first, 3)] == [True, True, False]
    cell = re.search(rf'data-date="{first.isoformat()}">(.*?)</div>', page.text, re.S)
    assert cell and "blocked or booked" in cell.group(1)
    block_id = re.search(r'name="block_id" value="([^"]+)"', page.text)
    assert block_id, "the blocked dates have no Unblock form"

    page = _post(api, listing_id, token, action="unblock", block_id=block_id.group(1))
    assert 'name="block_id"' not in page.text and "(paint)" not in page.text
    cell = re.search(rf'data-date="{first.isoformat()}">(.*?)</div>', page.text, re.S)
    assert cell and "blocked or booked" not in cell.group(1) and "100" in cell.group(1)
    days = _calendar_days(api, listing_id, first, 3)
    assert [d["blocked"] for d in days] == [False, False, False]
    assert all(d["available_units"] == 1 for d in days)


def test_back_to_base_price_removes_the_dates_price_on_the_page_and_in_the_api(
    api: Api,
) -> None:
    owner, listing_id, token = _owned_listing(api)
    day = api.clock.now().date() + timedelta(days=12)
    page = _post(
        api, listing_id, token, action="set_price", price_date=day.isoformat(), price_amount="145"
    )
    cell = re.search(rf'data-date="{day.isoformat()}">(.*?)</div>', page.text, re.S)
    assert cell and "145" in cell.group(1)
    assert _calendar_days(api, listing_id, day, 1)[0]["price"]["amount"] == 14_500
    seen = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers).json()
    assert seen["price_overrides"] == {day.isoformat(): 14_500}

    page = _post(api, listing_id, token, action="clear_price", price_date=day.isoformat())
    cell = re.search(rf'data-date="{day.isoformat()}">(.*?)</div>', page.text, re.S)
    assert cell and "145" not in cell.group(1) and "100" in cell.group(1)
    assert _calendar_days(api, listing_id, day, 1)[0]["price"]["amount"] == 10_000
    seen = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers).json()
    assert seen["price_overrides"] == {}


def test_declining_a_request_from_the_inbox_declines_the_booking_for_the_renter(
    api: Api,
) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, booking_mode="request")
    wait_views(api, position)
    renter = api.new_user()
    start = api.clock.now().date() + timedelta(days=15)
    r = api.client.post(
        f"{API}/bookings",
        json={
            "listing_id": listing_id,
            "start": start.isoformat(),
            "end": (start + timedelta(days=2)).isoformat(),
        },
        headers=renter.headers,
    )
    assert r.status_code == 201 and r.json()["status"] == "pending_owner_approval", r.text
    booking_id = r.json()["id"]
    waited = api.client.get(  # the inbox reads the bookings view: wait for the request
        f"{API}/me/bookings",
        params={"role": "owner"},
        headers={**owner.headers, "X-Rentbook-Min-Position": r.headers["X-Rentbook-Position"]},
    )
    assert waited.status_code == 200, waited.text
    token = browser_login(api.client, owner.email)
    assert f'action="/host/requests/{booking_id}"' in api.client.get("/host").text
    r = api.client.post(
        f"/host/requests/{booking_id}",
        data={"csrf_token": token, "decision": "decline", "reason": "Closed for repairs"},
    )
    assert r.status_code == 200 and f"/host/requests/{booking_id}" not in r.text

    seen = api.client.get(f"{API}/bookings/{booking_id}", headers=renter.headers)
    assert seen.status_code == 200, seen.text
    # The domain's Declined event ends the booking as cancelled, with the owner's reason.
    assert seen.json()["status"] == "cancelled"
    assert seen.json()["status_reason"] == "Closed for repairs"
    browser_login(api.client, renter.email)  # the renter's own trip page says so too
    trip = api.client.get(f"/trips/{booking_id}")
    assert trip.status_code == 200 and 'data-status="cancelled"' in trip.text
    assert "(Closed for repairs)" in trip.text
    days = _calendar_days(api, listing_id, start, 2)  # the dates are free again
    assert all(d["available_units"] == 1 and d["held"] == 0 for d in days)
