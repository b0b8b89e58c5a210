"""The listing wizard's opening hours and "Edit listing" in a browser, by keyboard where a
person would type: an owner creates an hourly court (the hours and buffer appear only for
the hourly unit, the weekday prices only for the others), fixes a bad day shown next to its
field, then edits the listing from its page, the wizard pre-filled, its deposit and notice.
Every page passes axe-core (no serious or critical violation)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.api_client import signed_in_as
from tests.browser.harness import assert_accessible
from tests.e2e.served import Served

OWNER = "owner0@rentbook.example"


def test_an_owner_sets_opening_hours_on_an_hourly_listing_then_edits_it(
    page: Page, served: Served
) -> None:
    base = served.base_url
    signed_in_as(page, served, OWNER)
    page.goto(f"{base}/host/listings/new")
    hours = page.locator("#opening-hours")
    expect(hours).to_be_hidden()  # a nightly listing has no opening hours
    page.get_by_label("Title").fill("Riverside padel court")
    page.get_by_label("Category").select_option("court")
    page.get_by_label("Sport").select_option("padel")
    page.get_by_label("City").fill("Porto")
    page.get_by_role("button", name="Porto, PT").click()
    page.get_by_label("Street address").fill("Rua das Flores 10")
    page.get_by_label("Price per night, day or hour").fill("18")
    expect(page.get_by_label("Friday price multiplier")).to_be_visible()
    page.get_by_label("Rented by the").select_option("hour")
    expect(hours).to_be_visible()
    expect(page.locator("#weekday-prices")).to_be_hidden()  # hourly peaks are hourly windows
    page.get_by_label("Turnover buffer between bookings, minutes (hourly listings)").fill("15")
    assert_accessible(page)

    page.get_by_label("Monday", exact=True).fill("08:00-12:00, 14:00-22:00")
    page.get_by_label("Tuesday", exact=True).fill("9 to 5")
    page.get_by_label("Closed on Sunday").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("Closed on Sunday")).to_be_checked()
    page.get_by_role("button", name="Save draft").focus()
    page.keyboard.press("Enter")

    tuesday = page.get_by_label("Tuesday", exact=True)
    expect(page.locator("#e-oh_tue")).to_contain_text("Write each range as 09:00-18:00")
    expect(tuesday).to_have_value("9 to 5")
    expect(tuesday).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Monday", exact=True)).to_have_value("08:00-12:00, 14:00-22:00")
    expect(page.get_by_label("Closed on Sunday")).to_be_checked()
    expect(hours).to_be_visible()
    assert_accessible(page)
    tuesday.fill("09:00-17:00")
    tuesday.press("Enter")  # submits the form from the field
    expect(page.locator("#listing-status")).to_have_text("Draft")
    listing_url = page.url

    page.get_by_role("link", name="Edit listing").click()
    expect(page).to_have_url(re.compile(r"/host/listings/[0-9a-f-]{36}/edit$"))
    expect(page.get_by_label("Title")).to_have_value("Riverside padel court")
    expect(page.get_by_label("Monday", exact=True)).to_have_value("08:00-12:00, 14:00-22:00")
    expect(page.get_by_label("Tuesday", exact=True)).to_have_value("09:00-17:00")
    expect(page.get_by_label("Closed on Sunday")).to_be_checked()
    assert_accessible(page)
    page.get_by_label("Title").fill("Riverside padel court, floodlit")
    page.get_by_label("Wednesday", exact=True).fill("07:00-23:00")
    expect(page.get_by_label("Turnover buffer", exact=False)).to_have_value("15")
    page.get_by_label("Security deposit", exact=False).fill("50")
    page.get_by_label("Advance notice, hours before the start").fill("2")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(listing_url)
    expect(page.get_by_role("heading", name="Riverside padel court, floodlit")).to_be_visible()
    page.get_by_role("link", name="Edit listing").click()
    expect(page.get_by_label("Wednesday", exact=True)).to_have_value("07:00-23:00")
    expect(page.get_by_label("Security deposit", exact=False)).to_have_value("50")
    expect(page.get_by_label("Advance notice, hours before the start")).to_have_value("2")
