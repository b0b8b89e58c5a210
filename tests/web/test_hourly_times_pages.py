"""An hourly booking's times on the renter's and the owner's pages are the listing's wall-clock
times, not UTC: a court in New York booked 10:00-12:00 local shows 10:00 and 12:00 EST/EDT on
the trip, the trips list, the cancel page, the owner's dashboard and requests inbox."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views

NEW_YORK = ZoneInfo("America/New_York")
LOCATION = {
    "address": "1 Court Street",
    "city": "New York",
    "country": "US",
    "lat": 40.6928,
    "lng": -73.9903,
    "timezone": "America/New_York",
}


def test_an_hourly_booking_shows_local_times_on_every_page(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(
        api, owner, category="court", location=LOCATION, booking_mode="request"
    )
    wait_views(api, position)
    renter = api.new_user()
    day = api.clock.now().astimezone(NEW_YORK).date() + timedelta(days=9)
    start = datetime.combine(day, time(10), NEW_YORK)
    end = datetime.combine(day, time(12), NEW_YORK)
    r = api.client.post(
        f"{API}/bookings",
        json={"listing_id": listing_id, "start": start.isoformat(), "end": end.isoformat()},
        headers=renter.headers,
    )
    assert r.status_code == 201, r.text
    booking_id = r.json()["id"]
    wait_views(api, r.headers["X-Rentbook-Position"])
    zone = start.tzname()  # EST or EDT, as the page prints it
    local = f"{start:%a %d %b %Y}, 10:00 {zone} → {end:%a %d %b %Y}, 12:00 {zone}"
    utc_start = f"{start.astimezone(ZoneInfo('UTC')):%H:%M} UTC"  # 15:00 or 14:00

    browser_login(api.client, renter.email)
    for path in (f"/trips/{booking_id}", "/trips", f"/trips/{booking_id}/cancel"):
        page = api.client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert local in page.text, (path, page.text[page.text.find("<main") :][:800])
        assert utc_start not in page.text, path

    browser_login(api.client, owner.email)
    dashboard = api.client.get("/host/dashboard")
    assert dashboard.status_code == 200
    assert "Requests waiting (1)" in dashboard.text
    assert local in dashboard.text, dashboard.text[dashboard.text.find("h-pending") :][:600]
    assert utc_start not in dashboard.text
    inbox = api.client.get("/host")  # the requests inbox
    assert inbox.status_code == 200
    assert local in inbox.text and utc_start not in inbox.text


def test_a_nightly_booking_still_shows_plain_dates(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, location=LOCATION)
    wait_views(api, position)
    renter = api.new_user()
    start = api.clock.now().date() + timedelta(days=20)
    end = start + timedelta(days=2)
    r = api.client.post(
        f"{API}/bookings",
        json={"listing_id": listing_id, "start": f"{start}", "end": f"{end}"},
        headers=renter.headers,
    )
    assert r.status_code == 201, r.text
    wait_views(api, r.headers["X-Rentbook-Position"])
    browser_login(api.client, renter.email)
    page = api.client.get(f"/trips/{r.json()['id']}")
    assert f"{start:%a %d %b %Y} → {end:%a %d %b %Y}" in page.text
    assert f"{start:%a %d %b %Y} → {end:%a %d %b %Y}" in api.client.get("/trips").text
