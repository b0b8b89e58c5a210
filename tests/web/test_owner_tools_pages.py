"""The owner's dashboard, coupons and calendar sync pages over HTTP: each renders for its
owner, refuses others (404) and anonymous visitors (sign-in), keeps the input of a refused
form next to each problem, and needs the CSRF token."""

from __future__ import annotations

import re

from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views

COUPON = {
    "code": "SPRING10",
    "kind": "percent",
    "value": "10",
    "currency": "EUR",
    "per_user_limit": "1",
    "scope": "all",
}


def test_the_dashboard_shows_the_owners_listings_and_checks_its_range(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, title="Dashboard flat")
    wait_views(api, position)
    r = api.client.get("/host/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    browser_login(api.client, owner.email)
    page = api.client.get("/host/dashboard")
    assert page.status_code == 200, page.text
    assert "Dashboard flat" in page.text and f"/host/listings/{listing_id}" in page.text
    assert "/api/v1/me/exports/bookings.csv?from=" in page.text
    bad = api.client.get("/host/dashboard", params={"from": "2027-03-10", "to": "2027-03-01"})
    assert bad.status_code == 422 and 'id="e-to"' in bad.text
    assert 'value="2027-03-10"' in bad.text  # what was typed stays
    nonsense = api.client.get("/host/dashboard", params={"from": "soon"})
    assert nonsense.status_code == 422 and 'id="e-from"' in nonsense.text


def test_an_owner_creates_lists_and_deactivates_a_coupon(api: Api) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    r = api.client.post("/host/coupons", data={**COUPON, "csrf_token": token, "value": "lots"})
    assert r.status_code == 422 and 'id="e-value"' in r.text
    assert 'value="SPRING10"' in r.text and 'value="lots"' in r.text
    r = api.client.post("/host/coupons", data={**COUPON, "csrf_token": token, "code": "ab"})
    assert r.status_code == 422 and 'id="e-code"' in r.text
    assert api.client.post("/host/coupons", data=COUPON).status_code == 403  # no csrf token
    r = api.client.post("/host/coupons", data={**COUPON, "csrf_token": token})
    assert r.status_code == 200, r.text
    assert 'data-code="SPRING10"' in r.text and "10% off" in r.text
    r = api.client.post("/host/coupons", data={**COUPON, "csrf_token": token})
    assert r.status_code == 422 and 'id="e-code"' in r.text  # the code is taken
    listed = api.client.get(f"{API}/me/coupons", headers=owner.headers).json()["data"]
    assert [c["code"] for c in listed] == ["SPRING10"] and listed[0]["funded_by"] == "owner"
    coupon_id = listed[0]["id"]

    stranger = api.register()
    other = browser_login(api.client, stranger["email"])
    assert "SPRING10" not in api.client.get("/host/coupons").text
    r = api.client.post(f"/host/coupons/{coupon_id}/deactivate", data={"csrf_token": other})
    assert r.status_code == 404

    token = browser_login(api.client, owner.email)
    r = api.client.post(f"/host/coupons/{coupon_id}/deactivate", data={"csrf_token": token})
    assert r.status_code == 200 and "Ended" in r.text
    seen = api.client.get(f"{API}/me/coupons", headers=owner.headers).json()["data"]
    assert seen[0]["active"] is False


def test_the_calendar_page_shows_the_export_link_and_manages_feeds(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    token = browser_login(api.client, owner.email)
    page = api.client.get(f"/host/listings/{listing_id}/calendar")
    link = re.search(r"calendar\.ics\?token=([^\"&]+)", page.text)
    assert page.status_code == 200 and link, page.text
    assert "data-drag-select" in page.text and "/static/calendar.js" in page.text
    r = api.client.post(
        f"/host/listings/{listing_id}/calendar-export/rotate", data={"csrf_token": token}
    )
    rotated = re.search(r"calendar\.ics\?token=([^\"&]+)", r.text)
    assert r.status_code == 200 and rotated and rotated.group(1) != link.group(1)
    old = api.client.get(f"{API}/listings/{listing_id}/calendar.ics?token={link.group(1)}")
    assert old.status_code == 404  # the old link stopped working

    feeds = f"/host/listings/{listing_id}/calendar-feeds"
    r = api.client.post(feeds, data={"csrf_token": token, "feed_name": "Airbnb", "feed_url": ""})
    assert r.status_code == 422 and 'id="e-feed_url"' in r.text and 'value="Airbnb"' in r.text
    form = {"csrf_token": token, "feed_name": "Airbnb", "feed_url": "ftp://nope"}
    r = api.client.post(feeds, data=form)
    assert r.status_code == 422 and 'id="e-feed_url"' in r.text  # the use case's own check
    form["feed_url"] = "https://calendar.example.com/a.ics"
    r = api.client.post(feeds, data=form)
    assert r.status_code == 200 and 'data-feed="' in r.text, r.text
    feed_id = re.search(r'data-feed="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]

    stranger = api.register()
    other = browser_login(api.client, stranger["email"])
    assert api.client.get(f"/host/listings/{listing_id}/calendar").status_code == 404
    r = api.client.post(f"{feeds}/{feed_id}/remove", data={"csrf_token": other})
    assert r.status_code == 403  # the use case's not_owner, as the API answers
    r = api.client.post(f"{feeds}/{feed_id}/sync", data={"csrf_token": other})
    assert r.status_code == 403
    r = api.client.post(feeds, data={**form, "csrf_token": other})
    assert r.status_code == 404  # the calendar page's own check, as its GET

    token = browser_login(api.client, owner.email)
    r = api.client.post(f"{feeds}/{feed_id}/remove", data={"csrf_token": token})
    assert r.status_code == 200 and 'data-feed="' not in r.text
