"""The renter's live pages in Chromium: a renter and an owner write to each other and each
sees the other's message arrive without reloading (two browser contexts); the owner's bell
count rises live; a listing saved from the search results shows on /wishlists."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.api_client import owner_listing, signed_in_as
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.harness import RENTER, assert_accessible
from tests.e2e.served import Served

OWNER = "owner0@rentbook.example"


def _bell_count(page: Page) -> int:
    badge = page.locator("#bell-count")
    return int(badge.inner_text()) if badge.count() else 0


def test_a_renter_and_an_owner_exchange_messages_live_and_the_bell_rises(
    page: Page, browser: Browser, served: Served
) -> None:
    base = served.base_url
    listing = owner_listing(served, OWNER)
    signed_in_as(page, served, RENTER)
    page.goto(f"{base}/listings/{listing['id']}")
    page.get_by_label("Ask the host a question").fill("Hello, is the flat quiet at night?")
    page.get_by_role("button", name="Contact the host").click()
    expect(page).to_have_url(re.compile(r"/messages/[0-9a-f-]{36}$"))
    thread_url = page.url
    expect(page.locator("#thread")).to_contain_text("is the flat quiet at night")

    owner_context = browser.new_context(viewport={"width": 1280, "height": 900})
    owner_context.set_default_timeout(TIMEOUT_MS)
    owner = owner_context.new_page()
    try:
        signed_in_as(owner, served, OWNER)
        owner.goto(f"{base}/messages")
        owner.locator(f'a[href="{thread_url.removeprefix(base)}"]').click()
        expect(owner.locator("#thread")).to_contain_text("is the flat quiet at night")
        expect(owner.locator("#bell")).to_have_attribute("data-unread", re.compile(r"\d+"))
        bell_before = _bell_count(owner)
        owner_navigations: list[str] = []
        owner.on("framenavigated", lambda frame: owner_navigations.append(frame.url))

        # The renter writes (htmx form): the owner's open thread shows it by itself.
        page.get_by_label("Your message to the host").fill("We arrive around 10 pm.")
        page.get_by_role("button", name="Send").click()
        expect(page.locator("#thread")).to_contain_text("We arrive around 10 pm.")
        expect(owner.locator("#thread")).to_contain_text("We arrive around 10 pm.")
        expect(owner.locator("#bell-count")).to_have_text(str(bell_before + 1))

        # And back: the renter's thread shows the owner's answer by itself.
        renter_navigations: list[str] = []
        page.on("framenavigated", lambda frame: renter_navigations.append(frame.url))
        owner.get_by_label("Your message to the guest").fill("Quiet street, see you then!")
        owner.get_by_role("button", name="Send").click()
        expect(page.locator("#thread")).to_contain_text("Quiet street, see you then!")
        assert owner_navigations == [] and renter_navigations == []
        assert page.url == thread_url
        assert_accessible(owner)
    finally:
        owner_context.close()


def test_a_listing_saved_from_the_search_results_shows_on_wishlists(
    page: Page, served: Served
) -> None:
    base = served.base_url
    signed_in_as(page, served, RENTER)
    page.goto(f"{base}/")  # the demo data: six listings, at most two saved by other tests
    unsaved = page.locator(".hit").filter(has=page.locator('button[aria-pressed="false"]'))
    hit = page.locator(f'.hit[data-id="{unsaved.first.get_attribute("data-id")}"]')
    title = hit.locator("h3").inner_text()
    hit.get_by_role("button", name=re.compile(r"^Save: ")).click()
    expect(hit.locator("button.heart-button")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("link", name="Wishlists").click()
    expect(page).to_have_url(f"{base}/wishlists")
    saved_in = page.locator("section.wishlist").filter(has=page.get_by_role("link", name=title))
    expect(saved_in).to_have_count(1)  # in the newest list ("Saved" when there was none)
    saved_in.get_by_role("heading").get_by_role("link").click()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    assert_accessible(page)
