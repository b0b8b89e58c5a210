"""Journeys 2, 3 and 5 of the web app: an owner lists something with photos and an admin
approves it into search; an owner blocks dates and prices one; an admin looks at a booking
as it was earlier."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.api_client import (
    instant_stay,
    owner_listing,
    paid_booking,
    signed_in_as,
    stay_dates,
    wait_until_searchable,
)
from tests.browser.harness import ADMIN, assert_accessible, mailed_link, sign_out
from tests.e2e.served import Served

OWNER = "owner0@rentbook.example"


def _photo(path: Path, color: str) -> str:
    Image.new("RGB", (800, 600), color).save(path, "JPEG")
    return str(path)


def test_an_owner_signs_up_lists_with_two_photos_and_an_admin_approves_it_into_search(
    page: Page, served: Served, tmp_path: Path
) -> None:
    base = served.base_url
    email = f"olivia-{uuid.uuid4().hex[:8]}@example.com"
    title = f"Attic over the river {uuid.uuid4().hex[:6]}"

    page.goto(f"{base}/signup")
    page.get_by_label("Name").fill("Olivia Owner")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password (at least 10 characters)").fill("a long enough password")
    page.get_by_role("button", name="Sign up").click()
    # The link in the mail opens the verification page with its token filled in.
    page.goto(base + mailed_link(served.log.parent / "mail", email))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verified")).to_be_visible()

    page.goto(f"{base}/host/listings/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Quiet, bright, two steps from the water.")
    page.get_by_label("Category").select_option("stay")
    page.get_by_label("Property type").select_option("apartment")
    page.get_by_label("Bedrooms").fill("1")
    page.get_by_label("Beds").fill("2")
    page.get_by_label("Bathrooms").fill("1")
    page.get_by_label("City").fill("Porto")
    page.get_by_role("button", name="Porto, PT").click()
    page.get_by_label("Street address").fill("Rua das Flores 10")
    page.get_by_label("Price per night, day or hour").fill("85")
    page.get_by_label("Photos (JPEG, PNG or WebP, up to 8)").set_input_files(
        [_photo(tmp_path / "a.jpg", "teal"), _photo(tmp_path / "b.jpg", "orange")]
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#listing-status")).to_have_text("Draft")
    expect(page.get_by_text("2 photos")).to_be_visible()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#listing-status")).to_have_text("Pending review")
    sign_out(page)

    signed_in_as(page, served, ADMIN)
    page.goto(f"{base}/admin")
    page.get_by_role("button", name=f"Approve {title}").click()
    expect(page.get_by_role("button", name=f"Approve {title}")).to_have_count(0)

    wait_until_searchable(served, title)
    page.goto(f"{base}/?q={title.replace(' ', '+')}")
    results = page.get_by_role("region", name="Results", exact=True)
    results.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator(".gallery img")).to_have_count(2)


def test_an_owner_blocks_dates_and_sets_a_price_and_the_listing_page_shows_both(
    page: Page, served: Served
) -> None:
    base = served.base_url
    listing = owner_listing(served, OWNER)
    today = datetime.now(UTC).date()
    blocked = today + timedelta(days=30)
    priced = today + timedelta(days=34)
    signed_in_as(page, served, OWNER)

    page.goto(f"{base}/host/listings/{listing['id']}/calendar")
    page.get_by_label("First day").fill(blocked.isoformat())
    page.get_by_label("Day after the last").fill((blocked + timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Block", exact=True).click()
    expect(page.get_by_role("button", name=re.compile("Unblock"))).not_to_have_count(0)
    page.get_by_label("Date", exact=True).fill(priced.isoformat())
    page.get_by_label(re.compile(r"^Price \(")).fill("123.45")
    page.get_by_role("button", name="Set price").click()
    expect(page.locator(f'[data-date="{priced.isoformat()}"]')).to_contain_text("123.45")

    page.goto(f"{base}/listings/{listing['id']}")
    expect(page.locator(f'[data-date="{blocked.isoformat()}"]')).to_have_class(re.compile("off"))
    day_after = (blocked + timedelta(days=1)).isoformat()
    expect(page.locator(f'[data-date="{day_after}"]')).to_have_class(re.compile("off"))
    expect(page.locator(f'[data-date="{priced.isoformat()}"]')).to_contain_text("123.45")


def test_an_admin_moves_a_bookings_audit_timeline_to_an_earlier_instant(
    page: Page, served: Served
) -> None:
    stay = instant_stay(served)
    start, end = stay_dates(80)
    booking_id = paid_booking(served, str(stay["id"]), start, end)
    signed_in_as(page, served, ADMIN)

    page.goto(f"{served.base_url}/admin")
    page.get_by_label("Booking id").fill(booking_id)
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#state-status")).to_have_text("confirmed")
    first = page.locator(".timeline li").first
    expect(first).to_contain_text("Placed")
    page.get_by_label("Date and time (UTC)").fill(str(first.get_attribute("data-at")))
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#state-status")).to_have_text("pending_payment")
    expect(page.locator("#state-version")).to_have_text("1")
    assert_accessible(page)
