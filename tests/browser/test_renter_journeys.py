"""Journeys 1 and 4 of the web app: a renter books and pays and sees the trip confirm
live; a renter cancels and the refund shown first is the refund recorded."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.api_client import instant_stay, paid_booking, signed_in_as, stay_dates
from tests.browser.harness import RENTER, assert_accessible, sign_in
from tests.e2e.served import Served


def test_a_renter_searches_the_map_books_pays_and_sees_the_trip_confirm_live(
    page: Page, served: Served
) -> None:
    base = served.base_url
    stay = instant_stay(served)
    sign_in(page, base, RENTER)

    # Search by city (picked from the suggestions), then move the map: it searches the box.
    page.goto(f"{base}/")
    page.get_by_label("Where").fill(stay["city"][:5])
    suggestions = page.locator("#place-suggestions")  # not the results' Save buttons
    suggestions.get_by_role("button", name=re.compile(re.escape(stay["city"]))).first.click()
    expect(page).to_have_url(re.compile(r"lat="))
    page.get_by_role("button", name="Zoom out").click()
    expect(page).to_have_url(re.compile(r"bbox="))
    expect(page.locator("#result-count")).to_contain_text("in the map's area")
    page.get_by_role("region", name="Results", exact=True).get_by_role(
        "link", name=stay["title"]
    ).click()

    # Pick dates: the quote appears with every line and the cancellation schedule.
    start, end = stay_dates(40)
    page.get_by_label("Check-in").fill(start)
    page.get_by_label("Check-out").fill(end)
    page.get_by_label("Guests").fill("1")
    expect(page.locator("#quote-total")).to_be_visible()
    expect(page.locator("#quote")).to_contain_text("Service fee")
    expect(page.locator(".schedule li").first).to_be_visible()
    total = page.locator("#quote-total").inner_text()

    page.get_by_role("button", name="Book and pay").click()
    expect(page).to_have_url(re.compile(r"/trips/[0-9a-f-]{36}$"))
    expect(page.locator("#trip-status")).to_have_attribute("data-status", "pending_payment")
    trip_url = page.url

    # A second tab keeps the trip open while the renter pays in the first: it must turn
    # confirmed by itself, over the booking's SSE stream (no reload, no polling).
    watcher = page.context.new_page()
    requests: list[str] = []
    navigations: list[str] = []
    watcher.on("request", lambda request: requests.append(request.url))
    watcher.goto(trip_url)
    watcher.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(watcher.locator("#live-status")).to_have_attribute("data-following", "sse")
    expect(watcher.locator("#trip-status")).to_have_attribute("data-status", "pending_payment")

    page.get_by_role("button", name=f"Pay {total}").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay now").click()
    expect(page).to_have_url(re.compile(r"/trips/[0-9a-f-]{36}$"))

    expect(watcher.locator("#trip-status")).to_have_attribute("data-status", "confirmed")
    assert navigations == [] and watcher.url == trip_url
    booking_id = trip_url.rsplit("/", 1)[1]
    assert f"{base}/api/v1/bookings/{booking_id}/events" in requests
    refreshes = [u for u in requests if "/status?" in u]
    assert refreshes and all("after=0" not in u for u in refreshes), refreshes  # no polling
    watcher.close()
    expect(page.locator("#trip-status")).to_have_attribute("data-status", "confirmed")
    assert_accessible(page)


def test_a_renter_cancels_and_the_refund_shown_first_is_the_refund_recorded(
    page: Page, served: Served
) -> None:
    stay = instant_stay(served)
    start, end = stay_dates(60)
    booking_id = paid_booking(served, str(stay["id"]), start, end)
    signed_in_as(page, served, RENTER)

    page.goto(f"{served.base_url}/trips/{booking_id}")
    expect(page.locator("#trip-status")).to_have_attribute("data-status", "confirmed")
    page.get_by_role("link", name="Cancel this booking…").click()
    offered = page.locator("#refund-offered").inner_text()
    assert re.search(r"\d", offered)
    page.get_by_role("button", name="Cancel the booking").click()

    # Cancelled, and refunded as soon as the processor confirms the refund.
    status = page.locator("#trip-status")
    expect(status).to_have_attribute("data-status", re.compile("^(cancelled|refunded)$"))
    expect(page.locator("#refund-recorded")).to_contain_text(offered)
    page.goto(f"{served.base_url}/trips")
    expect(page.get_by_role("link", name=stay["title"]).first).to_be_visible()
