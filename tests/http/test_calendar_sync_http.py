"""Calendar sync over HTTP, on the embedded default and on PostgreSQL, with the scheduler
running and feeds served by a local HTTP server: the secret export link (parsed back with
icalendar), and imported feeds that block, follow changes, answer 304, report conflicts
and errors, and leave nothing behind when removed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
from httpx import Response

from application.context import Actor
from tests.http.conftest import API, Api, Auth
from tests.http.test_search_http import active_listing
from tests.ical_server import FeedServer, fixture, huge_feed
from tests.polling import eventually

SYNC_AT = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)  # where the fixtures' dates are


@pytest.fixture(params=["sqlite", "postgres"])
def any_api(request: pytest.FixtureRequest) -> Api:
    api: Api = request.getfixturevalue("api" if request.param == "sqlite" else "pg_api")
    api.clock.set(SYNC_AT)
    return api


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def owned_listing(api: Api, **spec: Any) -> tuple[Auth, str]:
    owner = api.new_user()
    actor = Actor(uuid.UUID(owner.id), "user")
    return owner, active_listing(api, actor, **spec)


def wait_feed(api: Api, owner: Auth, listing: str, done: Callable[[dict[str, Any]], bool]) -> Any:
    """Polls the feeds view until the (only) feed satisfies `done`: the scheduler queues a
    job that fetches (generous time: the test machine may be busy)."""

    def feeds() -> list[dict[str, Any]]:
        r = api.client.get(f"{API}/listings/{listing}/calendar-feeds", headers=owner.headers)
        return list(ok(r)["data"])

    def seen() -> str:
        wiring = api.container.payments_wiring
        return f"feeds: {feeds()}; failed jobs: {wiring.jobs.failed() if wiring else []}"

    (feed,) = eventually(
        lambda: [f for f in feeds()[:1] if done(f)], "the feed", seen=seen, timeout=60
    )
    return feed


def free_days(api: Api, listing: str, frm: str, to: str) -> list[str]:
    position = str(api.container.store.current_position())
    r = api.client.get(
        f"{API}/listings/{listing}/calendar",
        params={"from": frm, "to": to},
        headers={"X-Rentbook-Min-Position": position},
    )
    return [d["date"] for d in ok(r) if d["available_units"] > 0]


def days(first: str, last: str) -> list[str]:
    a = date.fromisoformat(first)
    return [str(a + timedelta(days=n)) for n in range((date.fromisoformat(last) - a).days + 1)]


def test_an_imported_feed_blocks_follows_changes_and_is_removed(
    any_api: Api, server: FeedServer
) -> None:
    api = any_api
    owner, listing = owned_listing(api)
    url = server.serve("/airbnb.ics", fixture("airbnb.ics"))
    feeds = f"{API}/listings/{listing}/calendar-feeds"
    added = ok(
        api.client.post(feeds, json={"url": url, "name": "Airbnb"}, headers=owner.headers), 201
    )
    assert added["status"] == "pending" and added["next_fetch_at"]

    feed = wait_feed(api, owner, listing, lambda f: f["status"] == "ok")
    assert (feed["event_count"], feed["block_count"], feed["conflicts"]) == (2, 2, [])
    assert free_days(api, listing, "2030-05-04", "2030-05-11") == ["2030-05-04", "2030-05-10"]

    first_etag = server.feeds["/airbnb.ics"].etag
    server.serve("/airbnb.ics", fixture("airbnb_updated.ics"))  # a day later on Airbnb
    api.clock.advance(minutes=31)
    wait_feed(api, owner, listing, lambda f: f["last_fetch_at"] != feed["last_fetch_at"])
    assert free_days(api, listing, "2030-05-04", "2030-05-11") == days("2030-05-04", "2030-05-10")
    assert free_days(api, listing, "2030-06-11", "2030-06-16") == ["2030-06-11", "2030-06-15"]
    # the fetch was conditional on the first version's ETag, and got the new version
    assert server.hits("/airbnb.ics")[-1]["If-None-Match"] == first_etag

    api.clock.advance(minutes=31)  # unchanged: the server answers 304
    wait_feed(api, owner, listing, lambda f: f["status"] == "not_modified")
    assert server.hits("/airbnb.ics")[-1]["If-None-Match"] == server.feeds["/airbnb.ics"].etag

    server.serve("/airbnb.ics", fixture("malformed.ics"))
    api.clock.advance(minutes=31)
    broken = wait_feed(api, owner, listing, lambda f: f["status"] == "error")
    assert "DTSTART" in broken["last_error"] and broken["block_count"] == 2
    assert free_days(api, listing, "2030-06-11", "2030-06-16") == ["2030-06-11", "2030-06-15"]

    gone = api.client.delete(f"{feeds}/{feed['id']}", headers=owner.headers)
    assert ok(gone) == {"id": feed["id"], "status": "removed"}
    assert free_days(api, listing, "2030-05-27", "2030-06-16") == days("2030-05-27", "2030-06-15")
    listed = api.client.get(
        feeds,
        headers={**owner.headers, "X-Rentbook-Min-Position": gone.headers["X-Rentbook-Position"]},
    )
    assert ok(listed)["data"] == []


def test_an_overlap_with_a_booking_is_reported_to_the_owner(api: Api, server: FeedServer) -> None:
    api.clock.set(SYNC_AT)
    owner, listing = owned_listing(api)
    renter = api.new_user()
    booking = ok(
        api.client.post(
            f"{API}/bookings",
            json={"listing_id": listing, "start": "2030-05-06", "end": "2030-05-08", "guests": 2},
            headers=renter.headers,
        ),
        201,
    )
    url = server.serve("/airbnb.ics", fixture("airbnb.ics"))
    feeds = f"{API}/listings/{listing}/calendar-feeds"
    feed = ok(
        api.client.post(feeds, json={"url": url, "name": "Airbnb"}, headers=owner.headers), 201
    )
    synced = ok(api.client.post(f"{feeds}/{feed['id']}/sync", headers=owner.headers))
    (conflict,) = synced["conflicts"]
    assert conflict["booking_ids"] == [booking["id"]] and conflict["first_conflict"] == "2030-05-06"
    assert conflict["start"] == "2030-05-05" and conflict["end"] == "2030-05-10"
    # what the booking does not hold is blocked all the same
    assert free_days(api, listing, "2030-05-04", "2030-05-11") == ["2030-05-04", "2030-05-10"]
    listed = wait_feed(api, owner, listing, lambda f: bool(f["conflicts"]))
    assert listed["conflicts"] == synced["conflicts"]


def test_bad_feeds_are_problems_or_errors_never_500(api: Api, server: FeedServer) -> None:
    api.clock.set(SYNC_AT)
    owner, listing = owned_listing(api)
    feeds = f"{API}/listings/{listing}/calendar-feeds"
    for body in ({"url": "ftp://x/y.ics", "name": "x"}, {"url": "https://x/y", "name": ""}, {}):
        r = api.client.post(feeds, json=body, headers=owner.headers)
        assert r.status_code == 422, r.text
    stranger = api.new_user()
    r = api.client.post(feeds, json={"url": "https://x/y", "name": "x"}, headers=stranger.headers)
    assert r.status_code == 403
    url = server.serve("/huge.ics", huge_feed(2_100_000))
    feed = ok(api.client.post(feeds, json={"url": url, "name": "Huge"}, headers=owner.headers), 201)
    synced = ok(api.client.post(f"{feeds}/{feed['id']}/sync", headers=owner.headers))
    assert synced["status"] == "error" and "larger than" in synced["last_error"]
    assert api.client.get(f"{feeds}/{uuid.uuid4()}", headers=owner.headers).status_code == 404
    for n in range(9):
        body = {"url": f"https://calendar.invalid/{n}.ics", "name": f"Feed {n}"}
        r = api.client.post(feeds, json=body, headers=owner.headers)
        assert r.status_code == 201, r.text
    listed = api.client.get(
        feeds,
        headers={
            **owner.headers,
            "X-Rentbook-Min-Position": str(api.container.store.current_position()),
        },
    )
    assert len(ok(listed)["data"]) == 10
    extra = {"url": "https://calendar.invalid/x.ics", "name": "One more"}
    full = api.client.post(feeds, json=extra, headers=owner.headers)
    assert full.status_code == 409 and full.json()["code"] == "too_many_feeds"


def parse_feed(response: Response) -> icalendar.Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def test_the_export_link_is_a_valid_feed_with_stable_uids(any_api: Api) -> None:
    api = any_api
    owner, listing = owned_listing(api)
    renter = api.new_user()
    booking = ok(
        api.client.post(
            f"{API}/bookings",
            json={"listing_id": listing, "start": "2030-05-06", "end": "2030-05-08", "guests": 2},
            headers=renter.headers,
        ),
        201,
    )
    block = ok(
        api.client.post(
            f"{API}/listings/{listing}/blocks",
            json={"start": "2030-06-01", "end": "2030-06-04", "reason": "painting"},
            headers=owner.headers,
        ),
        201,
    )
    link = ok(api.client.get(f"{API}/listings/{listing}/calendar-export", headers=owner.headers))
    first = parse_feed(api.client.get(link["path"]))
    assert str(first["VERSION"]) == "2.0" and "Rentbook" in str(first["PRODID"])
    events = {str(e["UID"]): e for e in first.walk("VEVENT")}
    assert set(events) == {
        f"booking-{booking['id']}@rentbook.dev",
        f"block-{block['id']}@rentbook.dev",
    }
    for event in events.values():
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} <= set(event)
        assert event["DTSTART"].params.get("VALUE") == "DATE"
    stay = events[f"booking-{booking['id']}@rentbook.dev"]
    assert (stay.decoded("DTSTART"), stay.decoded("DTEND")) == (date(2030, 5, 6), date(2030, 5, 8))
    assert b"DTSTART;VALUE=DATE:20300601" in api.client.get(link["path"]).content
    again = parse_feed(api.client.get(link["path"]))
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == set(events)

    rotated = ok(
        api.client.post(f"{API}/listings/{listing}/calendar-export/rotate", headers=owner.headers)
    )
    assert rotated["token"] != link["token"]
    assert api.client.get(link["path"]).status_code == 404
    assert api.client.get(rotated["path"]).status_code == 200
    ics = f"{API}/listings/{listing}/calendar.ics"
    assert api.client.get(ics, params={"token": "x" * 46}).status_code == 404
    assert api.client.get(ics).status_code == 422
    other = f"{API}/listings/{uuid.uuid4()}/calendar.ics"
    assert api.client.get(other, params={"token": rotated["token"]}).status_code == 404
    stranger = api.new_user()
    r = api.client.get(f"{API}/listings/{listing}/calendar-export", headers=stranger.headers)
    assert r.status_code == 403


def test_an_hourly_listing_exports_timed_utc_events(api: Api) -> None:
    api.clock.set(SYNC_AT)
    owner, listing = owned_listing(api, category="court")
    start, end = "2030-05-06T16:00:00Z", "2030-05-06T18:00:00Z"
    ok(
        api.client.post(
            f"{API}/listings/{listing}/blocks",
            json={"start": start, "end": end, "reason": "lesson"},
            headers=owner.headers,
        ),
        201,
    )
    link = ok(api.client.get(f"{API}/listings/{listing}/calendar-export", headers=owner.headers))
    (event,) = parse_feed(api.client.get(link["path"])).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2030, 5, 6, 16, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2030, 5, 6, 18, tzinfo=UTC)
    assert b"DTSTART:20300506T160000Z" in api.client.get(link["path"]).content


def test_google_and_booking_com_feeds_from_the_server(api: Api, server: FeedServer) -> None:
    api.clock.set(SYNC_AT)
    club, court = owned_listing(api, category="court")
    rental, car = owned_listing(api, category="vehicle", booking_unit="day")
    cases = [
        (club, court, "/google.ics", fixture("google.ics"), 4, 4),
        (rental, car, "/booking.ics", fixture("booking_com.ics"), 2, 2),
    ]
    for owner, listing, path, body, events, blocks in cases:
        url = server.serve(path, body)
        feeds = f"{API}/listings/{listing}/calendar-feeds"
        headers = owner.headers
        feed = ok(api.client.post(feeds, json={"url": url, "name": path}, headers=headers), 201)
        synced = ok(api.client.post(f"{feeds}/{feed['id']}/sync", headers=headers))
        assert synced["status"] == "ok", synced
        assert (synced["event_count"], synced["block_count"]) == (events, blocks)
    slots = api.client.get(
        f"{API}/listings/{court}/calendar",
        params={"from": "2030-05-06", "to": "2030-05-07"},
        headers={"X-Rentbook-Min-Position": str(api.container.store.current_position())},
    )
    closed = {s["start"] for s in ok(slots) if s["available_units"] == 0 and s.get("blocked")}
    assert {"2030-05-06T16:00:00Z", "2030-05-06T17:00:00Z"} <= closed
    assert free_days(api, car, "2030-06-14", "2030-06-21") == [
        "2030-06-14",
        "2030-06-18",
        "2030-06-19",
    ]
