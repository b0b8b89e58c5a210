"""The owner's calendar in a browser: dragging across three free days (static/calendar.js)
marks them and fills the block form with the first day and the day after the last; "Block"
then blocks exactly those days, on the page and in the API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect

from tests.browser.api_client import owner_listing, signed_in_as
from tests.browser.harness import assert_accessible
from tests.e2e.served import Served

OWNER = "owner0@rentbook.example"


def _free_run(page: Page, first: date, last: date, length: int = 3) -> date:
    """The first day from `first` that starts `length` free days on the page (the demo's
    bookings take some)."""
    day = first
    while day <= last:
        run = [day + timedelta(days=i) for i in range(length)]
        cells = [page.locator(f'[data-date="{d.isoformat()}"]') for d in run]
        if all(c.count() == 1 and "off" not in (c.get_attribute("class") or "") for c in cells):
            return day
        day += timedelta(days=1)
    raise AssertionError(f"no {length} free days between {first} and {last}")


def _centre(page: Page, iso: str) -> tuple[float, float]:
    box = page.locator(f'[data-date="{iso}"]').bounding_box()
    assert box is not None, iso
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_an_owner_drags_across_days_and_blocks_them(page: Page, served: Served) -> None:
    base = served.base_url
    listing = owner_listing(served, OWNER)
    signed_in_as(page, served, OWNER)
    page.goto(f"{base}/host/listings/{listing['id']}/calendar")
    today = datetime.now(UTC).date()  # away from the other journeys' dates (30 to 34 days)
    start = _free_run(page, today + timedelta(days=40), today + timedelta(days=52), length=4)
    days = [(start + timedelta(days=i)).isoformat() for i in range(3)]
    after = (start + timedelta(days=3)).isoformat()

    page.locator(f'[data-date="{days[-1]}"]').scroll_into_view_if_needed()
    page.mouse.move(*_centre(page, days[0]))
    page.mouse.down()
    page.mouse.move(*_centre(page, days[1]), steps=4)
    page.mouse.move(*_centre(page, days[2]), steps=4)
    page.mouse.up()
    for iso in days:
        expect(page.locator(f'[data-date="{iso}"]')).to_have_class(re.compile(r"\bpicked\b"))
    expect(page.locator(f'[data-date="{after}"]')).not_to_have_class(re.compile(r"\bpicked\b"))
    expect(page.get_by_label("First day")).to_have_value(days[0])
    expect(page.get_by_label("Day after the last")).to_have_value(after)
    expect(page.get_by_label("Date", exact=True)).to_have_value(days[0])  # the price form too

    page.get_by_label("Reason (only you see it)").fill("dragged")
    page.get_by_role("button", name="Block", exact=True).click()
    expect(page.get_by_text("(dragged)")).to_be_visible()
    for iso in days:
        expect(page.locator(f'[data-date="{iso}"]')).to_have_class(re.compile(r"\boff\b"))
    expect(page.locator(f'[data-date="{after}"]')).not_to_have_class(re.compile(r"\boff\b"))
    assert_accessible(page)
    r = httpx.get(
        f"{base}/api/v1/listings/{listing['id']}/calendar", params={"from": days[0], "to": after}
    )
    assert r.status_code == 200, r.text
    assert [d["blocked"] for d in r.json()] == [True, True, True]
