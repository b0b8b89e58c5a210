"""Owner and admin tools in Chromium: an owner creates a coupon and sees it listed; the
admin's projections page shows each view's lag; an admin resolves a dispute from the queue
(on the `clocked` server, whose clock the test moves past the stay)."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.browser.api_client import bearer, lived_through, signed_in_as, token
from tests.browser.harness import ADMIN, RENTER, assert_accessible
from tests.e2e.served import Served

OWNER = "owner0@rentbook.example"


def test_an_owner_creates_a_coupon_and_sees_it_listed(page: Page, served: Served) -> None:
    code = f"SUN{uuid.uuid4().hex[:6].upper()}"
    signed_in_as(page, served, OWNER)
    page.goto(f"{served.base_url}/host")
    page.get_by_role("link", name="Coupons").click()
    page.get_by_label("Code").fill(code)
    page.get_by_label("Kind").select_option("percent")
    page.get_by_label("Percent or amount off").fill("0")
    page.get_by_role("button", name="Create coupon").click()
    expect(page.locator("#e-value")).to_be_visible()  # refused: the code typed stays
    expect(page.get_by_label("Code")).to_have_value(code)
    page.get_by_label("Percent or amount off").fill("15")
    page.get_by_role("button", name="Create coupon").click()
    row = page.locator(f'tr[data-code="{code}"]')
    expect(row).to_contain_text("15% off")
    expect(row.get_by_role("button", name=f"Deactivate {code}")).to_be_visible()
    assert_accessible(page)


def test_the_admin_projections_page_shows_each_views_lag(page: Page, served: Served) -> None:
    signed_in_as(page, served, ADMIN)
    page.goto(f"{served.base_url}/admin")
    page.get_by_role("link", name="Projections").click()
    row = page.locator('tr[data-name="listings"]')
    expect(row).to_be_visible()
    lag = row.locator("[data-lag]").get_attribute("data-lag")
    assert lag is not None and int(lag) >= 0
    expect(page.get_by_role("columnheader", name="Lag (events)")).to_be_visible()
    row.get_by_role("button", name="Rebuild listings").click()
    expect(page.get_by_role("status")).to_have_text("Rebuilt listings.")


def _disputed_booking(served: Served) -> str:
    """A short stay of the demo renter, paid, lived through (the clock moved to two hours
    after its end) and disputed by the renter: the dispute's id."""
    booking_id = lived_through(served, nights=3)["id"]
    body = {"type": "damage", "description": "The lamp was broken on arrival.",
            "evidence": ["https://example.com/lamp.jpg"]}  # fmt: skip
    r = httpx.post(
        f"{served.base_url}/api/v1/bookings/{booking_id}/disputes",
        json=body,
        headers=bearer(token(served, RENTER)),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_an_admin_resolves_a_dispute_from_the_queue(page: Page, clocked: Served) -> None:
    dispute_id = _disputed_booking(clocked)
    signed_in_as(page, clocked, ADMIN)
    page.goto(f"{clocked.base_url}/admin")
    page.get_by_role("link", name="Disputes").first.click()
    assert_accessible(page)
    page.get_by_role("link", name=f"Review dispute {dispute_id}").click()
    expect(page.get_by_text("The lamp was broken on arrival.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator("#dispute-status")).to_have_text("Under review")
    page.get_by_label("Outcome").select_option("rejected")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#e-note")).to_be_visible()  # a note is needed; the outcome stays
    expect(page.get_by_label("Outcome")).to_have_value("rejected")
    page.get_by_label("Note to both parties").fill("No proof of the damage.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("heading", name="Disputes")).to_be_visible()
    expect(page.locator(f'tr[data-id="{dispute_id}"]')).to_have_count(0)  # out of the queue
    page.goto(f"{clocked.base_url}/admin/disputes/{dispute_id}")
    expect(page.locator("#dispute-status")).to_have_text("Resolved")
    expect(page.locator("#resolution")).to_contain_text("No proof of the damage.")
