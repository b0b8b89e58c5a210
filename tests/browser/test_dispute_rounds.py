"""A dispute's round trip in Chromium: the renter opens one from the booking page with a
claimed amount and an evidence link (a bad amount is refused next to its field, the input
kept); an admin asks the renter a question from the dispute page; the renter answers it on
the booking page; the admin sees claim, question and answer in the timeline. Axe checks each
new page (dispute form, booking page with its dispute, admin dispute page, review form with
category ratings, public profile, paginated admin lists). On the `clocked` server: the test
moves its clock past the stay."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.api_client import lived_through, signed_in_as
from tests.browser.harness import ADMIN, RENTER, assert_accessible
from tests.e2e.served import Served


def _ended_booking(served: Served) -> tuple[str, str]:
    """A paid stay of the demo renter whose end is two hours past (the dev clock moved):
    (booking id, owner id)."""
    booking = lived_through(served, nights=2)
    return str(booking["id"]), str(booking["owner_id"])


def test_a_dispute_question_is_asked_and_answered_across_the_pages(
    page: Page, clocked: Served
) -> None:
    base = clocked.base_url
    booking_id, owner_id = _ended_booking(clocked)
    signed_in_as(page, clocked, RENTER)
    page.goto(f"{base}/trips/{booking_id}")
    page.get_by_role("link", name="Open a dispute").click()
    assert_accessible(page)
    page.get_by_label("What is it about?").select_option("damage")
    page.get_by_label("What went wrong").fill("The lamp was broken on arrival.")
    page.get_by_label("Amount you claim, in").fill("12.345")
    page.get_by_label("Links to evidence").fill("https://example.com/lamp.jpg")
    page.get_by_role("button", name="Open the dispute").click()
    expect(page.locator("#e-claimed_amount")).to_be_visible()
    expect(page.get_by_label("What went wrong")).to_have_value("The lamp was broken on arrival.")
    page.get_by_label("Amount you claim, in").fill("45.50")
    page.get_by_role("button", name="Open the dispute").click()
    claim = page.locator('#disputes li[data-kind="claim"]')
    expect(claim).to_contain_text("The lamp was broken on arrival.")
    expect(claim).to_contain_text("45.50")
    assert_accessible(page)
    dispute_id = page.locator("[data-dispute]").get_attribute("data-dispute")
    assert dispute_id

    page.goto(f"{base}/trips/{booking_id}/review")
    expect(page.get_by_role("radiogroup", name="Cleanliness")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{base}/users/{owner_id}")
    expect(page.get_by_role("heading", name="Reviews received")).to_be_visible()
    assert_accessible(page)

    signed_in_as(page, clocked, ADMIN)
    page.goto(f"{base}/admin/disputes/{dispute_id}")
    assert_accessible(page)
    page.get_by_role("button", name="Send the question").click()
    expect(page.locator("#e-to")).to_be_visible()
    page.get_by_role("radio", name="the renter").check()
    page.get_by_label("Question").fill("When did you first notice the lamp?")
    page.get_by_label("Answer due").select_option("24")
    page.get_by_role("button", name="Send the question").click()
    expect(page.locator("#waiting")).to_contain_text("the renter")
    expect(page.locator('li[data-kind="information_request"]')).to_contain_text("notice the lamp")

    signed_in_as(page, clocked, RENTER)
    page.goto(f"{base}/trips/{booking_id}")
    expect(page.get_by_text("An admin asks you:")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Your answer").fill("Right when we arrived, at 6 pm.")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.locator('#disputes li[data-kind="answer"]')).to_contain_text("at 6 pm")
    expect(page.get_by_text("An admin asks you:")).to_have_count(0)

    signed_in_as(page, clocked, ADMIN)
    page.goto(f"{base}/admin/disputes/{dispute_id}")
    kinds = page.locator("#timeline li[data-kind]")
    expect(kinds).to_have_count(3)
    assert [kinds.nth(i).get_attribute("data-kind") for i in range(3)] == [
        "claim", "information_request", "answer",
    ]  # fmt: skip
    for path in ("/admin/disputes?status=under_review", "/admin/users", "/admin/ledger"):
        page.goto(f"{base}{path}")
        assert_accessible(page)
