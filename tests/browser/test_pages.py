"""Every page of every role answers 200 and has no serious or critical axe-core violation;
another user's trip is 404; the home page fits a 360 px phone; unsafe requests without the
CSRF token are refused (plain HTTP against the served app)."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.browser.api_client import (
    instant_stay,
    new_user,
    owner_listing,
    paid_booking,
    signed_in_as,
    stay_dates,
)
from tests.browser.harness import ADMIN, RENTER, assert_accessible, sign_in
from tests.browser.renter_data import inquiry, shared_wishlist
from tests.e2e.served import Served

OWNER = "owner0@rentbook.example"


def _check(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    assert_accessible(page)


def test_every_page_of_every_role_answers_200_and_passes_axe(page: Page, served: Served) -> None:
    base = served.base_url
    stay = instant_stay(served)
    start, end = stay_dates(100)
    booking_id = paid_booking(served, str(stay["id"]), start, end)
    owned = owner_listing(served, OWNER)

    public = ["/", f"/?place={stay['city']}&start={start}&end={end}", f"/listings/{stay['id']}",
              f"/listings/{stay['id']}?start={start}&end={end}", "/login", "/signup",
              "/verify-email"]  # fmt: skip
    for path in public:
        _check(page, base + path)

    signed_in_as(page, served, RENTER)
    for path in ("/trips", f"/trips/{booking_id}", f"/trips/{booking_id}/cancel",
                 f"/trips/{booking_id}/paid"):  # fmt: skip
        _check(page, base + path)
    conversation = inquiry(served, str(owned["id"]))
    wishlist = shared_wishlist(served, str(stay["id"]))
    for path in ("/messages", f"/messages/{conversation}", "/notifications",
                 "/notifications/preferences", "/wishlists", f"/wishlists/{wishlist['id']}",
                 str(wishlist["share_path"]).removeprefix("/api/v1"),
                 *(f"/trips/{booking_id}/{step}" for step in
                   ("messages", "check-in", "check-out", "review", "dispute"))):  # fmt: skip
        _check(page, base + path)
    signed_in_as(page, served, OWNER)
    for path in ("/host", "/host/listings/new", f"/host/listings/{owned['id']}",
                 f"/host/listings/{owned['id']}/calendar", f"/host/listings/{owned['id']}/edit",
                 "/host/dashboard",
                 "/host/coupons"):  # fmt: skip
        _check(page, base + path)
    signed_in_as(page, served, ADMIN)
    for path in ("/admin", f"/admin/bookings/{booking_id}", "/admin/disputes",
                 "/admin/users?q=owner", f"/admin/audit/{stay['id']}", "/admin/projections",
                 "/admin/ledger?verify=1", "/admin/analytics?granularity=week",
                 "/admin/coupons"):  # fmt: skip
        _check(page, base + path)


def test_a_user_cannot_open_another_users_trip(page: Page, served: Served) -> None:
    stay = instant_stay(served)
    start, end = stay_dates(120)
    booking_id = paid_booking(served, str(stay["id"]), start, end)
    stranger = new_user(served)  # neither its renter nor its listing's owner
    sign_in(page, served.base_url, stranger, "a long enough password")
    response = page.goto(f"{served.base_url}/trips/{booking_id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_the_home_page_fits_a_phone(phone: Page, served: Served) -> None:
    phone.goto(f"{served.base_url}/")
    expect(phone.get_by_role("button", name="Search")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px screen"
    assert_accessible(phone)


def test_a_form_keeps_what_was_typed_and_shows_the_error_next_to_the_field(
    page: Page, served: Served
) -> None:
    page.goto(f"{served.base_url}/signup")
    page.get_by_label("Name").fill("Sam")
    page.get_by_label("Email").fill(f"sam-{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_label("Password (at least 10 characters)").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_label("Name")).to_have_value("Sam")
    password = page.get_by_label("Password (at least 10 characters)")
    expect(password).to_have_attribute("aria-describedby", "e-password")
    expect(page.locator("#e-password")).to_have_text("Use at least 10 characters.")


def test_unsafe_requests_without_the_csrf_token_are_refused(served: Served) -> None:
    with httpx.Client(base_url=served.base_url) as client:
        client.get("/login")  # the anonymous csrf cookie, but no token in the form
        r = client.post("/login", data={"email": RENTER, "password": "rentbook-demo-password"})
        assert r.status_code == 403
        assert "rentbook_session" not in r.cookies
