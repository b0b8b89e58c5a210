"""The simulated card page passes axe-core (as it first opens and with an error shown); the
listing page, a trip and the host calendar fit a 360 px phone without horizontal scrolling;
the listing page's dates, quote and book button work with the keyboard alone."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.browser.api_client import (
    bearer,
    instant_stay,
    owner_listing,
    paid_booking,
    signed_in_as,
    stay_dates,
    token,
)
from tests.browser.harness import RENTER, assert_accessible
from tests.e2e.served import Served

OWNER = "owner0@rentbook.example"


def _unpaid_booking(served: Served, listing_id: str, start: str, end: str) -> str:
    """A booking of the demo renter whose charge is started but not yet paid: the card step."""
    api = f"{served.base_url}/api/v1"
    auth = bearer(token(served, RENTER))
    r = httpx.post(
        f"{api}/bookings",
        json={"listing_id": listing_id, "start": start, "end": end, "guests": 1},
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    booking_id = str(r.json()["id"])
    r = httpx.post(f"{api}/bookings/{booking_id}/payment", headers=auth)
    assert r.status_code == 200, r.text
    return booking_id


def test_the_simulated_card_page_passes_axe(page: Page, served: Served) -> None:
    stay = instant_stay(served)
    start, end = stay_dates(160)
    booking_id = _unpaid_booking(served, str(stay["id"]), start, end)
    signed_in_as(page, served, RENTER)
    response = page.goto(f"{served.base_url}/trips/{booking_id}/card")
    assert response is not None and response.status == 200
    expect(page.get_by_label("Card number")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Card number").fill("1234")  # too short: the error next to the field
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Enter a card number (12 to 19 digits).")).to_be_visible()
    assert_accessible(page)


def _fits(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    wide = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], (
        f"{url} is {wide[0]} px wide on a {wide[1]} px screen; past the edge: "
        + str(page.evaluate(OVERFLOWING))
    )


OVERFLOWING = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 8)
  .map(e => `${e.parentElement.className} > ${e.tagName}.${e.className}`
    + ` "${e.textContent.slice(0, 30)}": ${e.getBoundingClientRect().right}`)"""


def test_listing_trip_and_host_calendar_fit_a_phone(phone: Page, served: Served) -> None:
    base = served.base_url
    stay = instant_stay(served)
    start, end = stay_dates(180)
    _fits(phone, f"{base}/listings/{stay['id']}?start={start}&end={end}")
    expect(phone.locator("#quote-total")).to_be_visible()
    booking_id = paid_booking(served, str(stay["id"]), start, end)
    signed_in_as(phone, served, RENTER)
    _fits(phone, f"{base}/trips/{booking_id}")
    owned = owner_listing(served, OWNER)
    signed_in_as(phone, served, OWNER)
    _fits(phone, f"{base}/host/listings/{owned['id']}/calendar")


def _tab_to(page: Page, selector: str, most: int = 60) -> None:
    """Presses Tab until `selector` has the focus, as a keyboard user would."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus by Tab")


def test_dates_quote_and_booking_with_the_keyboard_alone(page: Page, served: Served) -> None:
    stay = instant_stay(served)
    start, end = stay_dates(140)
    signed_in_as(page, served, RENTER)
    page.goto(f"{served.base_url}/listings/{stay['id']}")
    _tab_to(page, "#f-start")
    page.keyboard.type(_typed(page, start))  # the date field's segments, in order
    _tab_to(page, "#f-end")
    page.keyboard.type(_typed(page, end))
    expect(page.locator("#f-start")).to_have_value(start)
    expect(page.locator("#f-end")).to_have_value(end)
    expect(page.locator("#quote-total")).to_be_visible()  # the quote came with the change
    _tab_to(page, "#book-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/trips/[0-9a-f-]{36}$"))
    expect(page.locator("#trip-status")).to_have_attribute("data-status", "pending_payment")


# The order of a date field's segments follows the browser's locale (mm/dd/yyyy in en-US).
SEGMENTS = """() => new Intl.DateTimeFormat(navigator.language).formatToParts(new Date(2001, 1, 3))
  .map(p => p.type).filter(t => ["year", "month", "day"].includes(t))"""


def _typed(page: Page, iso: str) -> str:
    year, month, day = iso.split("-")
    parts = {"year": year, "month": month, "day": day}
    return "".join(parts[segment] for segment in page.evaluate(SEGMENTS))
